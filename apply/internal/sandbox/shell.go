package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// WithShell copies this machine's /bin/sh and the libraries it loads
// into the root, so that maintainer scripts, which dpkg runs chrooted in
// the root, can run there.
func (r *Root) WithShell() {
	r.t.Helper()
	out, err := exec.Command("ldd", "/bin/sh").Output()
	if err != nil {
		r.t.Fatalf("ldd /bin/sh: %v", err)
	}
	files := []string{"/bin/sh"}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
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
