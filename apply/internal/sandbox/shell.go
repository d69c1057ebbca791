package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// WithShell copies this machine's /bin/sh, the programs named (absolute
// paths, such as /bin/ln for a postinst that makes a link) and the
// libraries they load into the root, so that maintainer scripts, which
// dpkg runs chrooted in the root, can run there.
func (r *Root) WithShell(programs ...string) {
	r.t.Helper()
	files := []string{}
	for _, p := range append([]string{"/bin/sh"}, programs...) {
		out, err := exec.Command("ldd", p).Output()
		if err != nil {
			r.t.Fatalf("ldd %s: %v", p, err)
		}
		files = append(files, p)
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			r.t.Fatal(err)
		}
		h := r.Host(f)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(h, data, 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
}
