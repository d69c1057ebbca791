package apply

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/state"
)

// appliedTemps lists the temporary files of the applied record in the
// state directory of sb.
func appliedTemps(t *testing.T, sb *sandbox) []string {
	t.Helper()
	ents, err := os.ReadDir(sb.opts.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "."+state.FileApplied+".") && strings.HasSuffix(e.Name(), state.TempSuffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// An apply killed with SIGKILL while it writes the applied record leaves
// the record's temporary file; the next trail to take the lock removes
// it, and fsck then finds nothing wrong. The index's temporary file,
// which a reader without the lock may be writing, stays.
func TestAppliedTempSwept(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("re-executes the test binary at every crash point")
	}
	sb := newSandbox(t)
	sb.apply("FILE /srv/x {x}", "A")
	listFile := filepath.Join(t.TempDir(), "b.steps")
	if err := os.WriteFile(listFile, stepsText(sb.list("FILE /srv/x {y}\nFILE /srv/z {z}")), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.e.Close()
	left := 0
	for at := 1; ; at++ {
		csb := crashCopy(t, sb, listFile, "B", at)
		if csb == nil {
			break
		}
		if len(appliedTemps(t, csb)) == 0 {
			continue
		}
		left++
		live := filepath.Join(csb.opts.StateDir, "."+state.FileAppliedIndex+".123456"+state.TempSuffix)
		if err := os.WriteFile(live, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		csb.recover(t)
		if got := appliedTemps(t, csb); len(got) != 1 || got[0] != filepath.Base(live) {
			t.Fatalf("crash point %d: after recovery the state directory holds %v, want only the index's %s", at, got, filepath.Base(live))
		}
		os.Remove(live)
		if rep, err := Fsck(csb.opts.StateDir); err != nil || !rep.OK() {
			t.Fatalf("crash point %d: fsck after recovery: %+v, %v", at, rep, err)
		}
	}
	if left == 0 {
		t.Fatal("no crash point left the applied record's temporary file: the test is void")
	}
}
