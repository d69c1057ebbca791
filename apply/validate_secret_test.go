package apply

import (
	"fmt"
	"strings"
	"testing"

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
	if err == nil || !strings.Contains(err.Error(), "refused the new content (exit 1): its output is not shown: the content is secret") {
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
// checked as secret content: the checker's refusal hides what it printed.
func TestValidateEditOfSecret(t *testing.T) {
	ss := newSecretSandbox(t)
	ss.write("/srv/db.conf", "password=hunter1\n", 0o600)
	ss.apply(anchors+fmt.Sprintf("FILE /srv/db.conf %s secret=age", ss.secret("password=hunter2\n")), "c1")
	edits, err := ss.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "user=app", Regexp: "^user="}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ss.applyErr(anchors+fmt.Sprintf("EDIT /srv/db.conf %s validate=\"cat %%s; exit 1\"", edits), "c2")
	if err == nil || !strings.Contains(err.Error(), "its output is not shown: the content is secret") {
		t.Fatalf("err = %v, want the refusal without the checker's output", err)
	}
	if strings.Contains(err.Error(), "hunter") {
		t.Fatalf("the refusal shows the secret: %v", err)
	}
}
