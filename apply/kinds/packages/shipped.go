package packages

import (
	"fmt"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// Shipped lists the paths dpkg says the package of s ships as installed
// now (kind.Shipper): an install, upgrade or downgrade (and its undo)
// replaces each of them that is not a conffile, and a conffile dpkg finds
// as the version before shipped it; a removal deletes those that are not
// conffiles, a purge all.
func (Package) Shipped(x *kind.Exec, s *stepfmt.Step) ([]string, error) {
	return pkgToolsOf(x).Files(s.Target)
}

// Files lists the paths of an installed package, as dpkg-query -L does
// (without "/." and the notes on diversions); none when it is not
// installed.
func (t Tools) Files(name string) ([]string, error) {
	args := []string{"-L", name}
	if t.inRoot() {
		args = append([]string{"--root=" + t.Root}, args...)
	}
	out, err := proc.RunTool("dpkg-query", args...)
	if proc.ExitStatus(err) == 1 {
		return nil, nil // not installed: it ships nothing
	}
	if err != nil {
		return nil, fmt.Errorf("dpkg-query -L %s: %w", name, err)
	}
	var files []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "/") && l != "/." {
			files = append(files, l)
		}
	}
	return files, nil
}
