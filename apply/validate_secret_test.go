package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"trail/apply/state"
	"trail/internal/lineedit"
)

// A secret file's checker reads the plaintext; its refusal is reported
// without what the checker printed, which may quote the plaintext.
func TestValidateSecret(t *testing.T) {
	ss := newSecretSandbox(t)
	key := ss.secret("password=hunter2\n")
	_, err := ss.applyErr(fmt.Sprintf("FILE /srv/db.conf %s secret=age validate=\"grep -q '^password=hunter2$' %%s\"", key), "c1")
	if err != nil {
		t.Fatalf("the checker did not see the plaintext: %v", err)
	}
	bad := ss.secret("pasword=hunter3\n")
	_, err = ss.applyErr(fmt.Sprintf("FILE /srv/db.conf %s secret=age validate=\"grep -n pass %%s; echo bad; exit 1\"", bad), "c2")
	if err == nil || !strings.Contains(err.Error(), "refused the new content (exit 1): its output is not shown: the content is secret; to see it, run the checker as root on what `trail show -secret /srv/db.conf REV` prints for the commit being applied") {
		t.Fatalf("err = %v, want the refusal without the checker's output", err)
	}
	if strings.Contains(err.Error(), "hunter3") {
		t.Fatalf("the refusal shows the plaintext: %v", err)
	}
	if got := ss.read("/srv/db.conf"); got != "password=hunter2\n" {
		t.Fatalf("the refused secret was written: %q", got)
	}
}

// The edits of a file that a secret step named in the applied list are
// checked as secret content: the checker's refusal hides what it printed
// and says where to see the content, as for a secret file.
func TestValidateEditOfSecret(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/srv/db.conf", "password=hunter1\n", 0o600)
	ss.apply(anchors+fmt.Sprintf("FILE /srv/db.conf %s secret=age", ss.secret("password=hunter2\n")), "c1")
	edits, err := ss.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "user=app", Regexp: "^user="}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ss.applyErr(anchors+fmt.Sprintf("EDIT /srv/db.conf %s validate=\"cat %%s; exit 1\"", edits), "c2")
	if err == nil || !strings.Contains(err.Error(), "its output is not shown: the content is secret; to see it, run the checker as root on what `trail show -secret /srv/db.conf REV` prints for the commit being applied") {
		t.Fatalf("err = %v, want the refusal without the checker's output", err)
	}
	if strings.Contains(err.Error(), "hunter") {
		t.Fatalf("the refusal shows the secret: %v", err)
	}
}

// A checker reads its copy of the content in trail's private state
// directory (store/tmp, 0700), not in /tmp, and the copy is gone after the
// apply; one a killed trail left there is removed when trail next takes
// the lock, while one of a trail still running stays.
func TestValidateTempInState(t *testing.T) {
	ss := newSecretSandbox(t)
	seen := filepath.Join(t.TempDir(), "seen")
	key := ss.secret("password=hunter2\n")
	ss.apply(fmt.Sprintf("FILE /srv/db.conf %s secret=age validate=\"dirname %%s >%s\"", key, seen), "c1")
	b, err := os.ReadFile(seen)
	if err != nil {
		t.Fatalf("the checker did not run: %v", err)
	}
	tmp := filepath.Join(ss.e.StateDir(), state.DirStore, "tmp")
	dir := strings.TrimSpace(string(b))
	if filepath.Dir(dir) != tmp {
		t.Fatalf("the checker read its copy in %s, want a directory of %s", dir, tmp)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the checker's copy is left: %v", err)
	}

	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(tmp, strconv.Itoa(gone.Process.Pid)+".validate-1")
	live := filepath.Join(tmp, "1.validate-2")
	// Named by a pid a process has now, but held by none: its trail was
	// killed and the pid taken since.
	reused := filepath.Join(tmp, "1.validate-3")
	for _, d := range []string{dead, live, reused} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "db.conf"), []byte("password=hunter2\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A running trail holds its work directory's lock while it is there.
	held, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ss.open()
	if _, err := ss.e.Drift(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dead, reused} {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the copy a killed trail left is still there: %v", err)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the copy of a running trail was removed: %v", err)
	}
}
