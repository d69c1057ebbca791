package state_test

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// A blob staged twice before a flush is written once; one staged again
// after an abort is staged anew, as the abort removed its first copy.
func TestStagePending(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Stage(strings.NewReader("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stage(strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if n := stagedFiles(t, s.Dir); n != 1 {
		t.Fatalf("two stagings of one blob left %d temporary files, want 1", n)
	}
	s.Abort()
	if _, err := s.Stage(strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if !s.Has(a) {
		t.Fatalf("%s staged again after an abort and flushed is not in the store", a)
	}
	if _, err := s.Stage(strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	if n := stagedFiles(t, s.Dir); n != 0 {
		t.Fatalf("an abort left %d temporary files", n)
	}
}

// Blobs staged in several StageMany calls reach their names only at the
// one Flush after them, and read back verified; a failed staging keeps
// nothing of the calls before it.
func TestStageManyFlushOnce(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range 3 {
		got, err := s.StageMany([][]byte{[]byte("x" + strconv.Itoa(i)), []byte("shared")})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, got...)
	}
	for _, k := range keys {
		if s.Has(k) {
			t.Fatalf("%s is in the store before the flush that makes it durable", k)
		}
	}
	if n := stagedFiles(t, s.Dir); n != 4 {
		t.Fatalf("three stagings of 4 distinct blobs left %d temporary files, want 4", n)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		data, err := s.Get(k)
		want := "shared"
		if i%2 == 0 {
			want = "x" + strconv.Itoa(i/2)
		}
		if err != nil || string(data) != want {
			t.Fatalf("blob %s after the flush: %q, %v; want %q", k, data, err, want)
		}
	}
	if _, err := s.StageMany([][]byte{[]byte("y")}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.Dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StageMany([][]byte{[]byte("z")}); err == nil {
		t.Fatal("staging into a missing tmp directory succeeded")
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("a flush after the failed staging: %v (nothing should be pending)", err)
	}
}

// stagedFiles counts the temporary files of the store in dir: those
// named in store/tmp, and those with no name (O_TMPFILE) this process
// holds open there.
func stagedFiles(t *testing.T, dir string) int {
	t.Helper()
	tmp := filepath.Join(dir, "tmp")
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ents)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, tmp+"/#") {
			n++
		}
	}
	return n
}

// BenchmarkStagePending stages b.N distinct blobs and flushes once: each
// staging looks up what is pending, which must not grow with it.
func BenchmarkStagePending(b *testing.B) {
	s, err := state.NewStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := s.Stage(strings.NewReader(strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
}

// EachRecord reads the records LoadApplied reads, in order, and says at
// which line a damaged one is.
func TestEachRecord(t *testing.T) {
	file := filepath.Join(t.TempDir(), "applied")
	text := state.AppliedHeader + "3\n" +
		"FILE\t/etc/a\treport\tabsent\tfile content=sha256:" + strings.Repeat("0", 64) + " mode=0644\n" +
		"DIR\t\"/etc/b c\"\theal\tdir mode=0700\tdir mode=0755\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ap, err := state.LoadApplied(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	n, err := state.EachRecord(file, func(r *kind.Record) error {
		got = append(got, r.ID.String()+" "+r.Policy+" "+r.Origin.String()+" "+r.Wrote.String())
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("generation %d, %v", n, err)
	}
	var want []string
	ap.Each(func(r *kind.Record) error {
		want = append(want, r.ID.String()+" "+r.Policy+" "+r.Origin.String()+" "+r.Wrote.String())
		return nil
	})
	ap.Close()
	if len(want) != 2 {
		t.Fatalf("LoadApplied read %d records, want 2", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	os.WriteFile(file, []byte(text+"FILE\t/etc/x\n"), 0o600)
	if _, err := state.EachRecord(file, func(*kind.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), file+":4:") {
		t.Fatalf("a damaged line: %v, want an error at %s:4", err, file)
	}
}

// A target recorded twice damages the record, at the first line that
// repeats one.
func TestAppliedTwice(t *testing.T) {
	rec := func(p string) string { return "DIR\t" + p + "\treport\tabsent\tdir\n" }
	text := state.AppliedHeader + "1\n" + rec("/b") + rec("/a") + rec("/c") + rec("/c") + rec("/a")
	_, err := state.ParseApplied("applied", []byte(text))
	if err == nil || err.Error() != "applied:5: DIR /c recorded twice" {
		t.Fatalf("got %v, want applied:5: DIR /c recorded twice", err)
	}
}

// Open's reader gives a blob's content whole, read in pieces of any size,
// and fails at the end when the content is not the key's, also when its
// last read is short: only the key's own content ends a blob early.
func TestOpenVerifies(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("0123456789", 10000)
	for _, data := range []string{"", "file 1\n", big} {
		key, err := s.Put([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, piece := range []int{1, 7, 512, 64 << 10, 1 << 20} {
			r, err := s.Open(key)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			buf := make([]byte, piece)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("reading %d bytes in pieces of %d: %v", len(data), piece, err)
				}
			}
			r.Close()
			if string(got) != data {
				t.Fatalf("read %d bytes in pieces of %d, want %d", len(got), piece, len(data))
			}
		}
		if data == "" {
			continue
		}
		// The same size, another content: corrupt, however it is read.
		// So is the content with a byte more or a byte less, even read in
		// pieces that end where the content ends.
		bad := []byte(data)
		bad[len(bad)-1] ^= 1
		for _, bad := range [][]byte{bad, []byte(data + "x"), []byte(data[:len(data)-1])} {
			if err := os.WriteFile(s.Path(key), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, piece := range []int{1, len(data) - 1, len(data), len(data) + 1, 64 << 10} {
				if piece < 1 {
					continue
				}
				r, err := s.Open(key)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, piece)
				for err == nil {
					_, err = r.Read(buf)
				}
				r.Close()
				if err == io.EOF || !strings.Contains(err.Error(), "corrupt") {
					t.Fatalf("reading %d bytes for a blob of %d in pieces of %d: %v, want corrupt", len(bad), len(data), piece, err)
				}
			}
		}
	}
}
