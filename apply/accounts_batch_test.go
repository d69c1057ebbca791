package apply

import (
	"os"
	"path/filepath"
	"testing"
)

// storeBlobs counts the blobs in the sandbox's store.
func storeBlobs(t *testing.T, sb *sandbox) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(sb.e.StateDir(), "store", "sha256"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAccountChangesShareOneUndoImage: consecutive USER and GROUP changes
// run as one batch with one undo image of the account files, not a copy
// of the four files per change (which grew the store with the square of
// the number of users); the rollback still restores the files exactly.
func TestAccountChangesShareOneUndoImage(t *testing.T) {
	sb := newSandbox(t)
	sb.fs().WithShadow(false)
	sb.opts.AllowMassRemoval = true
	sb.open()
	want := sb.fs().Accounts()
	before := storeBlobs(t, sb)
	sb.apply("GROUP web gid=1600\nUSER carol uid=1500 groups=web system=true\nUSER dan uid=1510 system=true\nUSER erin uid=1520 system=true\nUSER fred uid=1530 system=true", "c1")
	if added := storeBlobs(t, sb) - before; added > 4 {
		t.Fatalf("five account changes stored %d blobs; one undo image of the four account files is at most 4", added)
	}
	sb.apply("FILE /etc/motd {m\n}", "c2")
	sb.fs().SameAccounts(want, "after removing every account step")
}
