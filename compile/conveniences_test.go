package compile

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"trail/stepfmt"
)

// The commands the shorthands write are valid sh (their / branch too,
// which no test may run), and under any other root they exit 0, say why
// they change nothing, and leave the root as it was.
func TestConvenienceScripts(t *testing.T) {
	a, err := txtar.ParseFile("testdata/golden/conveniences.txtar")
	if err != nil {
		t.Fatal(err)
	}
	res, diags := Compile(archiveFS(a), testFacts(), Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	n := 0
	for _, st := range res.List.Steps {
		if st.Kind != stepfmt.KindCommand {
			continue
		}
		n++
		for _, key := range []string{"run", "undo"} {
			script := st.Value(key)
			if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("%s %s is not valid sh: %v\n%s", st.ID(), key, err, out)
				continue
			}
			root := t.TempDir()
			cmd := exec.Command("/bin/sh", "-c", script)
			cmd.Dir = root
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TRAIL_ROOT=" + root}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s %s under a root: %v\n%s", st.ID(), key, err, out)
			}
			if key == "run" && !strings.Contains(string(out), "the root is not /") {
				t.Errorf("%s run under a root says %q; want why it changes nothing", st.ID(), out)
			}
			if entries, _ := os.ReadDir(root); len(entries) > 0 {
				t.Errorf("%s %s under a root wrote into it: %v", st.ID(), key, entries)
			}
		}
	}
	if n != 4 {
		t.Fatalf("%d commands; the fixture has 2 sysctl and 2 kernel_module blocks", n)
	}
}
