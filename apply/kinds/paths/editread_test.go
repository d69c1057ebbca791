package paths_test

import (
	"fmt"
	"strings"
	"testing"

	"trail/apply/kind"
)

// An EDIT's check reads the file it edits once: the file's hash and the
// lines the edits apply to come from the same read.
func TestEditReadsItsFileOnce(t *testing.T) {
	sb := partsSandbox(t)
	big := strings.Repeat("# a comment the package ships\n", 4096) + sshdConfig
	sb.Write("/etc/ssh/sshd_config", big, 0o640)
	list := sb.List(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot)))
	before := kind.HashedBytes.Load()
	if _, err := sb.E.Plan(list); err != nil {
		t.Fatal(err)
	}
	if read := kind.HashedBytes.Load() - before; read != int64(len(big)) {
		t.Fatalf("the plan read %d bytes of the %d-byte file it edits, want one read", read, len(big))
	}
}
