package apply

import (
	"os"
	"os/exec"
	"testing"

	"trail/apply/kind"
)

// A managed file replaced by a huge sparse file has drifted by its size
// alone: the drift check reads none of it. A file of the size trail wrote
// is hashed, and no more than that size is read.
func TestDriftReadsNoMoreThanWritten(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/big {small}\nFILE /etc/same {12345}", "c1")
	if out, err := exec.Command("truncate", "-s", "64G", sb.host("/etc/big")).CombinedOutput(); err != nil {
		t.Skipf("SKIP: truncate -s 64G on the test file system: %v: %s", err, out)
	}
	sb.write("/etc/same", "54321", 0o644)
	before := kind.HashedBytes.Load()
	d, err := sb.e.Drift()
	if err != nil {
		t.Fatal(err)
	}
	read := kind.HashedBytes.Load() - before
	got := map[string]string{}
	for _, x := range d {
		got[x.ID.Target] = x.Now.Value("content")
	}
	if got["/etc/big"] != "size:68719476736" {
		t.Errorf("64 GiB file: content %q, want size:68719476736 (drifted, unread); drift %v", got["/etc/big"], d)
	}
	if got["/etc/same"] != kind.HashKey([]byte("54321")) {
		t.Errorf("same-size file: content %q, want the hash of what is there", got["/etc/same"])
	}
	if read > 5+1 {
		t.Fatalf("the drift check read %d bytes, want at most 6 (the same-size file and one byte past it)", read)
	}
	if fi, _ := os.Stat(sb.host("/etc/big")); fi.Size() != 64<<30 {
		t.Fatalf("the drift check changed the file: %d bytes", fi.Size())
	}
}
