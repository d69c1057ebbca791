package apply

import (
	"fmt"
	"strings"
	"testing"
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
