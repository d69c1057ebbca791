package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// ParseApplied reads the applied record in data; name is used in error
// positions.
func ParseApplied(name string, data []byte) (*Applied, error) {
	a, _, err := readApplied(name, bytes.NewReader(data), int64(len(data)))
	return a, err
}

// readApplied reads the record in src, checking every line as it indexes
// it, and that no target is recorded twice; it returns the record's
// CRC-32C too, for its index.
func readApplied(name string, src io.ReaderAt, size int64) (*Applied, uint32, error) {
	sum := crc32.New(castagnoli)
	r := bufio.NewReaderSize(io.TeeReader(io.NewSectionReader(src, 0, size), sum), 64<<10)
	head, err := r.ReadString('\n')
	n, ok := appliedGeneration(head)
	if err != nil && err != io.EOF || !ok {
		return nil, 0, fmt.Errorf("%s:1: not an applied record (want %q and a number)", name, AppliedHeader)
	}
	a := &Applied{Generation: n, src: src, size: size, body: int64(len(head))}
	off := a.body
	for line := 2; ; line++ {
		l, err := r.ReadString('\n')
		if err == io.EOF && l == "" {
			break
		}
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		rec, perr := parseRecord(strings.TrimSuffix(l, "\n"))
		if perr != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", name, line, perr)
		}
		a.ents = append(a.ents, recordEnt{hashID(rec.ID.Kind, rec.ID.Target), off})
		off += int64(len(l))
	}
	if off != size {
		return nil, 0, fmt.Errorf("%s: the record changed while it was read", name)
	}
	a.ents = slices.Clip(a.ents)
	sortEnts(a.ents)
	if err := a.twice(name); err != nil {
		return nil, 0, err
	}
	a.unique = true
	return a, sum.Sum32(), nil
}

// distinctHashes reports whether no two entries share a hash, and so no
// target is recorded twice.
func distinctHashes(ents []recordEnt) bool {
	for i := 1; i < len(ents); i++ {
		if ents[i].hash == ents[i-1].hash {
			return false
		}
	}
	return true
}

// twice returns an error naming the first line that repeats a target
// recorded before it, if any: such lines share a hash.
func (a *Applied) twice(name string) error {
	first := int64(-1)
	var id stepfmt.ID
	for i := 1; i < len(a.ents); i++ {
		if a.ents[i].hash != a.ents[i-1].hash {
			continue
		}
		r, err := a.recordAt(a.ents[i].off)
		if err != nil {
			return err
		}
		for j := i - 1; j >= 0 && a.ents[j].hash == a.ents[i].hash; j-- {
			if a.lineIsAt(a.ents[j].off, r.ID) && (first < 0 || a.ents[i].off < first) {
				first, id = a.ents[i].off, r.ID
			}
		}
	}
	if first < 0 {
		return nil
	}
	line := 2
	for _, e := range a.ents {
		if e.off < first {
			line++
		}
	}
	return fmt.Errorf("%s:%d: %s recorded twice", name, line, id)
}

func (a *Applied) recordAt(off int64) (*kind.Record, error) {
	l, err := a.lineAt(off)
	if err != nil {
		return nil, err
	}
	return parseRecord(string(l))
}

func (a *Applied) lineIsAt(off int64, id stepfmt.ID) bool {
	l, err := a.lineAt(off)
	return err == nil && lineIs(l, id)
}

func parseRecord(l string) (*kind.Record, error) {
	var f [5]string
	rest := l
	for i := range f {
		var ok bool
		f[i], rest, ok = strings.Cut(rest, "\t")
		if ok != (i < 4) {
			return nil, fmt.Errorf("want 5 tab-separated fields (kind, target, policy, origin, wrote)")
		}
	}
	k := stepfmt.Kind(f[0])
	if !stepfmt.KnownKind(k) {
		return nil, fmt.Errorf("unknown kind %q", f[0])
	}
	target, rest, err := stepfmt.ReadValue(f[1])
	if err != nil || rest != "" {
		return nil, fmt.Errorf("bad target %q", f[1])
	}
	if _, err := stepfmt.CanonTarget(k, target); err != nil {
		return nil, fmt.Errorf("%s %s: %w", k, target, err)
	}
	switch f[2] {
	case kind.PolicyReport, kind.PolicyHeal, kind.PolicyIgnore:
	default:
		return nil, fmt.Errorf("%s %s: drift policy %q is not report, heal or ignore", k, target, f[2])
	}
	r := &kind.Record{ID: stepfmt.ID{Kind: k, Target: target}, Policy: f[2]}
	if r.Origin, err = kind.ParseImage(f[3]); err != nil {
		return nil, fmt.Errorf("%s %s: origin: %w", k, target, err)
	}
	if r.Wrote, err = kind.ParseImage(f[4]); err != nil {
		return nil, fmt.Errorf("%s %s: wrote: %w", k, target, err)
	}
	return r, nil
}

// EachRecord calls fn with each record of the applied record in file, in
// order, reading it line by line, so that a look at every target (status,
// a drift check) need not hold the whole record: 100,000 targets parse
// to 30 MB. It checks each line as LoadApplied does, but not that no
// target is recorded twice (trail fsck does). It returns the generation.
func EachRecord(file string, fn func(*kind.Record) error) (int, error) {
	f, err := openApplied(file)
	if f == nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	damaged := func(err error) error {
		return fmt.Errorf("state: the applied record is damaged: %w (restore the file from a backup; trail will not guess what it manages)", err)
	}
	head, err := r.ReadString('\n')
	n, ok := appliedGeneration(head)
	if err != nil && err != io.EOF || !ok {
		return 0, damaged(fmt.Errorf("%s:1: not an applied record (want %q and a number)", file, AppliedHeader))
	}
	for line := 2; ; line++ {
		l, err := r.ReadString('\n')
		if err == io.EOF && l == "" {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("state: %w", err)
		}
		rec, perr := parseRecord(strings.TrimSuffix(l, "\n"))
		if perr != nil {
			return 0, damaged(fmt.Errorf("%s:%d: %w", file, line, perr))
		}
		if err := fn(rec); err != nil {
			return 0, err
		}
	}
}

// LoadApplied reads the applied record; none yet is generation 0. The
// record keeps the file open (Close lets it go), read again as Get asks.
// Its index is the one kept beside it when that is this record's (one
// read of the record to check); otherwise the record is read whole,
// every line checked, and the index written afresh, by the holder of
// the state lock only. A reader without it (a plan, a status) leaves the
// file alone: its write could be left half-way (a temporary file) by a
// kill, or race another reader's or an apply's, which writes the
// record's index with the record; the index is missing or stale only
// after a crash lost it or the record was restored, and the next apply
// writes it.
func LoadApplied(file string) (*Applied, error) {
	return loadApplied(file, false)
}

// LoadAppliedWhole is LoadApplied that reads the record whole and
// checks every line whatever its index says, and writes no index: trail
// fsck's, which checks the index apart (CheckAppliedIndex).
func LoadAppliedWhole(file string) (*Applied, error) {
	return loadApplied(file, true)
}

func loadApplied(file string, whole bool) (*Applied, error) {
	f, err := openApplied(file)
	if f == nil {
		if err != nil {
			return nil, err
		}
		return &Applied{}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	if !whole {
		if a := indexedApplied(file, f, fi.Size()); a != nil {
			a.closer = f
			return a, nil
		}
	}
	a, sum, err := readApplied(file, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state: the applied record is damaged: %w (restore the file from a backup; trail will not guess what it manages)", err)
	}
	a.closer = f
	if !whole && holdsLock(filepath.Dir(file)) {
		saveAppliedIndex(file, a, sum)
	}
	return a, nil
}

// ReadAppliedGeneration reads only the generation number of the applied
// record.
func ReadAppliedGeneration(file string) (int, error) {
	f, err := openApplied(file)
	if f == nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	head, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	num, ok := appliedGeneration(string(head))
	if !ok {
		return 0, fmt.Errorf("state: %s:1: not an applied record", file)
	}
	return num, nil
}

// openApplied opens the applied record at file; where there is none it
// returns no file and missingApplied's answer (nil for a new host).
func openApplied(file string) (*os.File, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingApplied(file)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return f, nil
}

// appliedGeneration reads the generation from the record's first line
// (its newline optional); false when the line is not a record's header.
func appliedGeneration(head string) (int, bool) {
	g, ok := strings.CutPrefix(strings.TrimSuffix(head, "\n"), AppliedHeader)
	n, err := strconv.Atoi(g)
	return n, ok && err == nil && n >= 0
}
