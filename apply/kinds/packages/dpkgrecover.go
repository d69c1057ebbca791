package packages

import (
	"fmt"
	"os"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
)

// finishDpkg completes a dpkg run that was cut off in the root (trail,
// and so apt-get and dpkg, killed; or the power lost), as apt demands
// before it does anything else ("dpkg was interrupted, you must manually
// run 'dpkg --configure -a'"), so that recovery's undo of a PKG change
// can run apt-get. dpkg marks such a run by the files left in its
// updates directory, or, cut between two of its steps, by packages left
// half-installed or half-configured (dpkg --audit). Conffile questions
// keep the file on disk.
func finishDpkg(x *kind.Exec) (string, error) {
	t := pkgToolsOf(x)
	ents, err := os.ReadDir(t.host("/var/lib/dpkg/updates"))
	if err != nil {
		return "", nil
	}
	cut := false
	for _, ent := range ents {
		if n := ent.Name(); n != "" && strings.Trim(n, "0123456789") == "" {
			cut = true
			break
		}
	}
	var root []string
	if t.inRoot() {
		root = []string{"--root=" + t.Root}
	}
	if !cut {
		// A run cut between two of its steps leaves no journal, but
		// packages half-installed or half-configured, which --audit lists.
		out, err := proc.RunTool("dpkg", append(root, "--audit")...)
		if err == nil && strings.TrimSpace(out) == "" {
			return "", nil
		}
	}
	if _, err := proc.RunTool("dpkg", append(root, "--force-confdef", "--force-confold", "--configure", "-a")...); err != nil {
		return "", fmt.Errorf("dpkg's run in %s was cut off and finishing it failed: %w; run 'dpkg --configure -a' there by hand, then trail again", t.Root, err)
	}
	return "finished the dpkg run a crash cut off (dpkg --configure -a)", nil
}

// RecoverTools finishes a dpkg run the crash cut off (PKG's recovery).
func (Package) RecoverTools(x *kind.Exec) (string, error) { return finishDpkg(x) }
