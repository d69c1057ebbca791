package sandbox

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/internal/fsx"
)

// DebRoot makes the root a Debian root as far as dpkg and apt need: an
// empty dpkg database and apt's directories.
func (r *Root) DebRoot() {
	r.t.Helper()
	for _, d := range []string{"/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers",
		"/etc/apt/apt.conf.d", "/etc/apt/preferences.d", "/etc/apt/sources.list.d",
		"/var/lib/apt/lists/partial", "/var/cache/apt/archives/partial", "/var/log/apt"} {
		if err := os.MkdirAll(r.Host(d), 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := os.WriteFile(r.Host("/var/lib/dpkg/status"), nil, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Deb is a test package: name, version, Depends, Recommends, Suggests,
// and the files it ships (path to content; /usr/share/NAME/version when
// none), those under /etc listed in conffiles unless NoConf.
type Deb struct {
	Name, Version, Depends string
	Recommends, Suggests   string
	Files                  map[string]string
	NoConf                 bool
	MultiArch              bool // of the native architecture, Multi-Arch: same (as libraries are)
	// Scripts are its maintainer scripts (preinst, prerm, ...) by name;
	// dpkg runs them chrooted in the root, which needs a shell (WithShell).
	Scripts map[string]string
}

// BuildDeb builds d into dir and returns the .deb's path.
func BuildDeb(t testing.TB, dir string, d Deb) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), d.Name)
	if err := os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	arch := "all"
	if d.MultiArch {
		out, err := exec.Command("dpkg", "--print-architecture").Output()
		if err != nil {
			t.Fatal(err)
		}
		arch = strings.TrimSpace(string(out)) + "\nMulti-Arch: same"
	}
	control := "Package: " + d.Name + "\nVersion: " + d.Version + "\nArchitecture: " + arch + "\nMaintainer: trail <trail@localhost>\n"
	if d.Depends != "" {
		control += "Depends: " + d.Depends + "\n"
	}
	if d.Recommends != "" {
		control += "Recommends: " + d.Recommends + "\n"
	}
	if d.Suggests != "" {
		control += "Suggests: " + d.Suggests + "\n"
	}
	control += "Description: trail test package\n test\n"
	shipped := d.Files
	if shipped == nil {
		shipped = map[string]string{"/usr/share/" + d.Name + "/version": d.Version + "\n"}
	}
	var conffiles []string
	files := map[string]string{"DEBIAN/control": control}
	for p, c := range shipped {
		files[strings.TrimPrefix(p, "/")] = c
		if strings.HasPrefix(p, "/etc/") && !d.NoConf {
			conffiles = append(conffiles, p)
		}
	}
	if len(conffiles) > 0 {
		files["DEBIAN/conffiles"] = strings.Join(conffiles, "\n") + "\n"
	}
	for p, c := range files {
		h := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range d.Scripts {
		if err := os.WriteFile(filepath.Join(src, "DEBIAN", name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(dir, d.Name+"_"+d.Version+"_all.deb")
	if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

// Archive builds a package into the root's apt archive directory.
func (r *Root) Archive(name, version, depends string) string {
	return BuildDeb(r.t, r.Host("/var/cache/apt/archives"), Deb{Name: name, Version: version, Depends: depends})
}

// DpkgInstall installs a .deb into the root by hand, as an admin would.
func (r *Root) DpkgInstall(deb string) {
	r.t.Helper()
	if out, err := exec.Command("dpkg", "--root="+r.Dir, "-i", deb).CombinedOutput(); err != nil {
		r.t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
}

// PkgState is dpkg's "status version" of name in the root, or "absent".
func (r *Root) PkgState(name string) string {
	r.t.Helper()
	st, err := packages.Tools{Root: r.Dir}.Status(name)
	if err != nil {
		r.t.Fatal(err)
	}
	return strings.TrimSpace(st.State + " " + st.Version)
}

// AptMark marks name auto or manual, as apt-mark does.
func (r *Root) AptMark(verb, name string) {
	r.t.Helper()
	if err := (packages.Tools{Root: r.Dir}).Mark(verb == "auto", name); err != nil {
		r.t.Fatal(err)
	}
}

// IsAuto reports whether name is marked automatically installed.
func (r *Root) IsAuto(name string) bool {
	r.t.Helper()
	auto, err := packages.Tools{Root: r.Dir}.AutoMarked(name)
	if err != nil {
		r.t.Fatal(err)
	}
	return auto
}

// AptRepo builds debs into a flat repository outside the root (its
// Packages index written as e2e/repo.sh writes it), points the root's apt
// at it and reads its lists, so that apt resolves dependencies as on a
// real host.
func (r *Root) AptRepo(debs ...Deb) {
	r.t.Helper()
	dir := r.t.TempDir()
	var paths []string
	for _, d := range debs {
		paths = append(paths, BuildDeb(r.t, dir, d))
	}
	r.WriteRepo(dir, paths)
}

// WriteRepo writes the Packages index of debs, all in dir, points the
// root's apt at dir and reads its lists.
func (r *Root) WriteRepo(dir string, debs []string) {
	r.t.Helper()
	os.Chmod(dir, 0o755)
	var index strings.Builder
	for _, deb := range debs {
		control, err := exec.Command("dpkg-deb", "-f", deb).Output()
		if err != nil {
			r.t.Fatalf("dpkg-deb -f: %v", err)
		}
		data, err := os.ReadFile(deb)
		if err != nil {
			r.t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&index, "%sFilename: ./%s\nSize: %d\nSHA256: %x\n\n", control, filepath.Base(deb), len(data), sum)
	}
	if err := os.WriteFile(filepath.Join(dir, "Packages"), []byte(index.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
	src := "deb [trusted=yes] file:" + dir + " ./\n"
	if err := os.WriteFile(r.Host("/etc/apt/sources.list"), []byte(src), 0o644); err != nil {
		r.t.Fatal(err)
	}
	tools := packages.Tools{Root: r.Dir}
	if out, err := tools.Apt("apt-get", "-q", "update"); err != nil {
		r.t.Fatalf("apt-get update: %v\n%s", err, out)
	}
}

// Packages lists every package dpkg knows in the root that is not absent,
// as "name status version mark", sorted: the package state a rollback
// must give back.
func (r *Root) Packages() string {
	r.t.Helper()
	t := packages.Tools{Root: r.Dir}
	out, err := proc.RunTool("dpkg-query", "--root="+r.Dir, "-W", "-f", "${binary:Package}\n")
	if err != nil && strings.TrimSpace(out) != "" {
		r.t.Fatalf("dpkg-query: %v", err)
	}
	root, err := fsx.Open(r.Dir)
	if err != nil {
		r.t.Fatal(err)
	}
	defer root.Close()
	var lines []string
	for _, name := range strings.Fields(out) {
		p, err := packages.Read(&kind.Exec{Root: root}, name)
		if err != nil {
			r.t.Fatal(err)
		}
		if p.State == kind.StateAbsent {
			continue
		}
		mark := ""
		if p.State == packages.Installed {
			mark = "manual"
			if auto, _ := t.AutoMarked(name); auto {
				mark = "auto"
			}
		}
		lines = append(lines, strings.TrimSpace(name+" "+p.State+" "+p.Version+" "+mark))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// AccountScript is a postinst that makes the system user and group name
// (uid and gid id) as adduser --system does, writing the account files
// with the shell alone, and, with unit, enables that unit (shipped under
// /lib/systemd/system) as deb-systemd-helper does, with mkdir and ln
// (WithShell("/bin/mkdir", "/bin/ln")).
func AccountScript(name string, id int, unit string) map[string]string {
	s := fmt.Sprintf("#!/bin/sh\nset -e\n[ \"$1\" = configure ] || exit 0\n"+
		"echo '%[1]s:x:%[2]d:%[2]d::/nonexistent:/usr/sbin/nologin' >>/etc/passwd\n"+
		"echo '%[1]s:x:%[2]d:' >>/etc/group\necho '%[1]s:!:19000::::::' >>/etc/shadow\necho '%[1]s:!::' >>/etc/gshadow\n", name, id)
	if unit != "" {
		s += "mkdir -p /etc/systemd/system/multi-user.target.wants\n" +
			"ln -s /lib/systemd/system/" + unit + " /etc/systemd/system/multi-user.target.wants/" + unit + "\n"
	}
	return map[string]string{"postinst": s}
}
