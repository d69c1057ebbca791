package state

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/stepfmt"
)

// writeDirs writes an applied record of generation gen with a DIR record
// for each target, as an apply's commit does.
func writeDirs(t *testing.T, file string, gen int, targets ...string) {
	t.Helper()
	a, err := WriteApplied(file, gen, len(targets), func(w *RecordWriter) error {
		for _, p := range targets {
			w.Put(&kind.Record{ID: stepfmt.ID{Kind: stepfmt.KindDir, Target: p}, Policy: kind.PolicyReport,
				Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
		}
		return nil
	})
	if err != nil || a == nil {
		t.Fatalf("WriteApplied: %v, %v", a, err)
	}
	a.Close()
}

func dirID(p string) stepfmt.ID { return stepfmt.ID{Kind: stepfmt.KindDir, Target: p} }

// loadHas loads the record at file and reports which of targets it has.
func loadHas(t *testing.T, file string, targets ...string) []bool {
	t.Helper()
	a, err := LoadApplied(file)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var has []bool
	for _, p := range targets {
		r := a.Get(dirID(p))
		has = append(has, r != nil && r.ID == dirID(p))
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	return has
}

// The index written with the record is the one a load uses, and it
// indexes the record exactly as reading the record whole does.
func TestAppliedIndexWritten(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileApplied)
	writeDirs(t, file, 3, "/a", "/b", `/c d`)
	data, err := os.ReadFile(appliedIndexFile(file))
	if err != nil {
		t.Fatalf("no index beside the record: %v", err)
	}
	x, err := decodeAppliedIndex(data)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := LoadAppliedWhole(file)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if x.gen != 3 || x.size != whole.size || x.body != whole.body || len(x.ents) != 3 {
		t.Fatalf("index %+v, record %d bytes from %d", x, whole.size, whole.body)
	}
	for i := range x.ents {
		if x.ents[i] != whole.ents[i] {
			t.Fatalf("entry %d: index %+v, record %+v", i, x.ents[i], whole.ents[i])
		}
	}
	if err := CheckAppliedIndex(file, whole); err != nil {
		t.Fatal(err)
	}
	if got := loadHas(t, file, "/a", "/b", "/c d", "/e"); !equalBools(got, []bool{true, true, true, false}) {
		t.Fatalf("Get through the index: %v", got)
	}
}

func equalBools(a, b []bool) bool { return string(boolBytes(a)) == string(boolBytes(b)) }

func boolBytes(a []bool) []byte {
	var b []byte
	for _, v := range a {
		b = append(b, map[bool]byte{true: '1', false: '0'}[v])
	}
	return b
}

// A record replaced behind the index's back (restored from a backup, or
// edited) by one of the same size is read whole, not through the index
// of the record before: the index names its record by a checksum of it.
// A load by the holder of the state lock writes the index afresh; one
// without the lock (a plan's, a status') writes nothing.
func TestAppliedIndexStale(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileApplied)
	writeDirs(t, file, 1, "/a", "/b")
	old, _ := os.ReadFile(appliedIndexFile(file))
	data, _ := os.ReadFile(file)
	swapped := strings.Replace(string(data), "DIR\t/a\t", "DIR\t/x\t", 1)
	if len(swapped) != len(data) || swapped == string(data) {
		t.Fatal("the edit must keep the record's size")
	}
	if err := os.WriteFile(file, []byte(swapped), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := loadHas(t, file, "/a", "/b", "/x"); !equalBools(got, []bool{false, true, true}) {
		t.Fatalf("after the record changed, has /a /b /x = %v, want false true true", got)
	}
	if kept, _ := os.ReadFile(appliedIndexFile(file)); !bytes.Equal(kept, old) {
		t.Fatal("a load without the state lock wrote the index")
	}
	if names, _ := readNames(filepath.Dir(file)); len(names) != 2 {
		t.Fatalf("a load without the state lock left %v", names)
	}
	release := holdLock(t, filepath.Dir(file))
	if got := loadHas(t, file, "/a", "/b", "/x"); !equalBools(got, []bool{false, true, true}) {
		t.Fatalf("after the record changed, has /a /b /x = %v, want false true true", got)
	}
	release()
	fresh, _ := os.ReadFile(appliedIndexFile(file))
	if bytes.Equal(fresh, old) {
		t.Fatal("the stale index was not written afresh")
	}
	if got := loadHas(t, file, "/a", "/b", "/x"); !equalBools(got, []bool{false, true, true}) {
		t.Fatalf("through the fresh index, has /a /b /x = %v", got)
	}
}

// A torn or damaged index is no record's: the record is read whole.
func TestAppliedIndexTorn(t *testing.T) {
	for _, damage := range []func([]byte) []byte{
		func(b []byte) []byte { return b[:len(b)-7] },
		func(b []byte) []byte { return nil },
		func(b []byte) []byte { b[len(aidxMagic)+40] ^= 1; return b },
	} {
		file := filepath.Join(t.TempDir(), FileApplied)
		writeDirs(t, file, 1, "/a", "/b")
		data, _ := os.ReadFile(appliedIndexFile(file))
		damaged := damage(bytes.Clone(data))
		if err := os.WriteFile(appliedIndexFile(file), damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeAppliedIndex(damaged); err == nil {
			t.Fatal("a damaged index decodes")
		}
		release := holdLock(t, filepath.Dir(file))
		if got := loadHas(t, file, "/a", "/b"); !equalBools(got, []bool{true, true}) {
			t.Fatalf("has /a /b = %v", got)
		}
		release()
		if again, _ := os.ReadFile(appliedIndexFile(file)); !bytes.Equal(again, data) {
			t.Fatal("the damaged index was not written afresh")
		}
	}
}

// holdLock takes the state lock of dir, as an apply does, until the
// function it returns.
func holdLock(t *testing.T, dir string) func() {
	t.Helper()
	lk, err := Acquire(filepath.Join(dir, FileLock), 0)
	if err != nil {
		t.Fatal(err)
	}
	return lk.Release
}

// reseal recomputes the checksum that ends an index.
func reseal(b []byte) []byte {
	body := b[:len(b)-4]
	return binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
}

// An index that names its record by size and checksum but whose entries
// are not the record's is what CheckAppliedIndex (trail fsck) reports.
func TestCheckAppliedIndexWrongEntries(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileApplied)
	writeDirs(t, file, 1, "/a", "/b")
	data, _ := os.ReadFile(appliedIndexFile(file))
	// Both entries point at the first line.
	off := aidxHead + 8
	copy(data[off+16:off+24], data[off:off+8])
	x, err := decodeAppliedIndex(reseal(data))
	if err != nil {
		t.Fatal(err)
	}
	if x.ents[0].off != x.ents[1].off {
		t.Fatal("the test did not damage the entries")
	}
	os.WriteFile(appliedIndexFile(file), reseal(data), 0o600)
	whole, err := LoadAppliedWhole(file)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if err := CheckAppliedIndex(file, whole); err == nil || !strings.Contains(err.Error(), "are not the record's") {
		t.Fatalf("CheckAppliedIndex = %v", err)
	}
}

func FuzzDecodeAppliedIndex(f *testing.F) {
	file := filepath.Join(f.TempDir(), FileApplied)
	a, err := WriteApplied(file, 2, 2, func(w *RecordWriter) error {
		w.Put(&kind.Record{ID: dirID("/a"), Policy: kind.PolicyReport, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
		w.Put(&kind.Record{ID: dirID("/b"), Policy: kind.PolicyHeal, Origin: kind.Absent(), Wrote: kind.Image{State: "dir"}})
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	a.Close()
	data, _ := os.ReadFile(appliedIndexFile(file))
	f.Add(data)
	f.Add([]byte(aidxMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := decodeAppliedIndex(data)
		if err != nil {
			return
		}
		a := &Applied{Generation: x.gen, size: x.size, body: x.body, ents: x.ents}
		if again := encodeAppliedIndex(a, x.sum); !bytes.Equal(again, data) {
			t.Fatalf("index round trip differs:\n%x\n%x", data, again)
		}
	})
}

// The radix sort of entries appended in the order of their offsets is
// the comparison sort's, hashes shared by several entries included.
func TestSortEnts(t *testing.T) {
	for _, n := range []int{0, 5, 255, 256, 3000} {
		var ents []recordEnt
		h := uint64(88172645463325252)
		for i := range n {
			h ^= h << 13
			h ^= h >> 7
			h ^= h << 17
			hash := h
			if i%5 == 0 && i > 0 {
				hash = ents[i/2].hash // shared
			}
			ents = append(ents, recordEnt{hash: hash, off: int64(10 * i)})
		}
		want := slices.Clone(ents)
		slices.SortFunc(want, compareEnt)
		sortEnts(ents)
		if !slices.Equal(ents, want) {
			t.Fatalf("%d entries: the radix sort differs", n)
		}
	}
}

// trail fsck reads the applied record whole and reports an index that
// names the record but holds other entries; a stale one it leaves to
// the next load.
func TestFsckAppliedIndex(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, DirMode)
	file := filepath.Join(dir, FileApplied)
	writeDirs(t, file, 1, "/a", "/b")
	idxProblem := func() bool {
		rep, err := Fsck(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if p.Where == appliedIndexFile(file) {
				return true
			}
		}
		return false
	}
	if idxProblem() {
		t.Fatal("fsck reports the index the record was written with")
	}
	data, _ := os.ReadFile(appliedIndexFile(file))
	off := aidxHead + 8
	copy(data[off+16:off+24], data[off:off+8])
	os.WriteFile(appliedIndexFile(file), reseal(data), 0o600)
	if !idxProblem() {
		t.Fatal("fsck does not report an index whose entries are not the record's")
	}
	writeDirs(t, file, 2, "/a", "/b", "/c") // the index is rewritten
	os.WriteFile(appliedIndexFile(file), data, 0o600)
	if idxProblem() {
		t.Fatal("fsck reports a stale index, which the next load rebuilds")
	}
}

// The state's size counts the record's index as it counts the record and
// the drift index beside it: at 100,000 targets it is 1.6 MB.
func TestMeasureStateCountsAppliedIndex(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, FileApplied)
	writeDirs(t, file, 1, "/a", "/b", "/c")
	var want int64
	for _, f := range []string{FileApplied, FileAppliedIndex} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want += fi.Size()
	}
	if size, _, err := MeasureState(dir, false, false); err != nil || size != want {
		t.Fatalf("the state measures %d bytes, %v; the record and its index are %d", size, err, want)
	}
}

// A record copied under another generation's header (a commit that
// changes no step) keeps an index that names it, its lines' offsets
// moved by the header's change in length, so the next load is through
// the index; one whose index was stale before is left to be rebuilt.
func TestCopyAppliedMovesIndex(t *testing.T) {
	file := filepath.Join(t.TempDir(), FileApplied)
	writeDirs(t, file, 9, "/a", "/b", `/c d`)
	if err := CopyApplied(file, 10); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	a := indexedApplied(file, f, fi.Size())
	if a == nil || a.Generation != 10 {
		t.Fatalf("after the copy under generation 10 the index is not the record's: %+v", a)
	}
	whole, err := LoadAppliedWhole(file)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if err := CheckAppliedIndex(file, whole); err != nil || !slices.Equal(a.ents, whole.ents) {
		t.Fatalf("the moved index holds %v, the record %v (%v)", a.ents, whole.ents, err)
	}
	if got := loadHas(t, file, "/a", "/b", "/c d", "/e"); !equalBools(got, []bool{true, true, true, false}) {
		t.Fatalf("Get through the moved index: %v", got)
	}

	// An index of another record is not moved onto the copy.
	other := filepath.Join(t.TempDir(), FileApplied)
	writeDirs(t, other, 3, "/x", "/y", "/z")
	idx, _ := os.ReadFile(appliedIndexFile(other))
	if err := os.WriteFile(appliedIndexFile(file), idx, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CopyApplied(file, 11); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(appliedIndexFile(file)); !bytes.Equal(after, idx) {
		t.Fatal("an index that was not the record's was moved onto its copy")
	}
	if got := loadHas(t, file, "/a", "/x"); !equalBools(got, []bool{true, false}) {
		t.Fatalf("after a copy over a stale index, has /a /x = %v", got)
	}
}
