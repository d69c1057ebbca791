package paths

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/fsx"
)

// noBlobs is a store that holds nothing: a drift check asks it only for
// the size of what trail wrote.
type noBlobs struct{}

func (noBlobs) Stage(io.Reader) (string, error)    { return "", errors.New("no store") }
func (noBlobs) Has(string) bool                    { return false }
func (noBlobs) Get(string) ([]byte, error)         { return nil, errors.New("no store") }
func (noBlobs) Open(string) (io.ReadCloser, error) { return nil, errors.New("no store") }
func (noBlobs) Size(string) (int64, bool)          { return 0, false }
func (noBlobs) MkdirTemp(string) (string, error)   { return "", errors.New("no store") }

// matchRoot is a root holding a file /f ("hello\n", 0644) whose hash the
// index holds for its stat, a directory /d (0750) and a link /l.
func matchRoot(t testing.TB) *kind.Exec {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "f"), 0o644)
	os.Mkdir(filepath.Join(dir, "d"), 0o750)
	os.Chmod(filepath.Join(dir, "d"), 0o750)
	os.Symlink("f", filepath.Join(dir, "l"))
	root, err := fsx.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	ix := state.LoadIndex(filepath.Join(t.TempDir(), "index"))
	st, err := root.Lstat("/f")
	if err != nil {
		t.Fatal(err)
	}
	ix.Put("/f", st, kind.HashKey([]byte("hello\n")))
	return kind.NewExec(root, noBlobs{}, ix)
}

// matchesLikeDrift fails when Matches says target matches wrote but
// pathDrift, the Drift it stands for, does not.
func matchesLikeDrift(t *testing.T, x *kind.Exec, target, wrote string) bool {
	t.Helper()
	if !matchesText(x, target, []byte(wrote)) {
		return false
	}
	m, err := kind.ParseImage(wrote)
	if err != nil {
		t.Fatalf("%s matches %q, which does not parse: %v", target, wrote, err)
	}
	now, err := pathDrift(x, target, m)
	if err != nil || !now.Equal(m) {
		t.Fatalf("%s matches %q as text, but Drift finds %q (%v)", target, wrote, now, err)
	}
	return true
}

// Matches says a target matches exactly where Drift finds it as written,
// for the usual images; any other image it leaves to Drift.
func TestMatchesText(t *testing.T) {
	x := matchRoot(t)
	uid, gid := os.Geteuid(), os.Getegid()
	ids := " uid=" + itoa(uid) + " gid=" + itoa(gid)
	sum := kind.HashKey([]byte("hello\n"))
	for _, c := range []struct {
		target, wrote string
		want          bool
	}{
		{"/f", "file content=" + sum + " mode=0644" + ids, true},
		{"/f", "file content=" + sum, true},
		{"/f", "file content=" + sum + " mode=0644", true},
		{"/d", "dir mode=0750" + ids, true},
		{"/d", "dir", true},
		{"/f", "file content=" + kind.HashKey([]byte("hellO\n")) + " mode=0644" + ids, false},
		{"/f", "file content=" + sum + " mode=0600" + ids, false},
		{"/f", "file content=" + sum + " mode=0644 uid=" + itoa(uid+1), false},
		{"/f", "file content=" + sum + " mode=644", false},            // Drift's mode is 0644: drifted
		{"/f", "file mode=0644 content=" + sum, false},                // not Image's order
		{"/f", "file content=" + sum + " mode=0644 mode=0644", false}, // twice
		{"/f", "file mode=0644", false},                               // Drift reads the file
		{"/f", "file content=" + sum + " secret=age", false},
		{"/f", "dir mode=0644", false},
		{"/d", "file content=" + sum, false},
		{"/d", "dir content=" + sum, false},
		{"/d", "dir uid=0" + itoa(uid), false},
		{"/l", "link to=f", false},
		{"/missing", "file content=" + sum, false},
		{"/missing", "absent", false},
	} {
		if got := matchesLikeDrift(t, x, c.target, c.wrote); got != c.want {
			t.Errorf("Matches(%s, %q) = %v, want %v", c.target, c.wrote, got, c.want)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Whatever text a record holds, Matches never says a target matches that
// Drift finds drifted.
func FuzzMatchesText(f *testing.F) {
	sum := kind.HashKey([]byte("hello\n"))
	for _, s := range []string{"file content=" + sum + " mode=0644 uid=0 gid=0", "dir mode=0750 uid=0 gid=0", "dir",
		"file content=" + sum + " mode=0644 uid=00 gid=0", "file content=" + sum + " mode=0644 uid=4294967296",
		"link to=f", "file content=" + sum + " ", "file  content=" + sum} {
		f.Add(s)
	}
	x := matchRoot(f)
	f.Fuzz(func(t *testing.T, wrote string) {
		for _, target := range []string{"/f", "/d", "/l", "/missing"} {
			matchesLikeDrift(t, x, target, wrote)
		}
	})
}
