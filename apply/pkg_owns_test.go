package apply

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debSpec is a test package that ships files: path to content, those
// under /etc listed in conffiles unless noConf.
type debSpec struct {
	name, version, depends string
	files                  map[string]string
	noConf                 bool
	multiArch              bool // of the native architecture, Multi-Arch: same (as libraries are)
}

// buildDebSpec builds d into dir and returns the .deb's path.
func buildDebSpec(t testing.TB, dir string, d debSpec) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), d.name)
	if err := os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	arch := "all"
	if d.multiArch {
		out, err := exec.Command("dpkg", "--print-architecture").Output()
		if err != nil {
			t.Fatal(err)
		}
		arch = strings.TrimSpace(string(out)) + "\nMulti-Arch: same"
	}
	control := "Package: " + d.name + "\nVersion: " + d.version + "\nArchitecture: " + arch + "\nMaintainer: trail <trail@localhost>\n"
	if d.depends != "" {
		control += "Depends: " + d.depends + "\n"
	}
	control += "Description: trail test package\n test\n"
	var conffiles []string
	files := map[string]string{"DEBIAN/control": control}
	for p, c := range d.files {
		files[strings.TrimPrefix(p, "/")] = c
		if strings.HasPrefix(p, "/etc/") && !d.noConf {
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
	deb := filepath.Join(dir, d.name+"_"+d.version+"_all.deb")
	if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

// A package that ships /etc/trail-web, and a file written under it, in one
// list on a root that has neither: the plan knows the package makes the
// directory (owns=), and the apply writes the file over the package's.
func TestPackageOwnsPlansPathsUnderIt(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	buildDebSpec(t, sb.host("/var/cache/apt/archives"), debSpec{name: "trail-web", version: "1.0",
		files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/web.conf {mine\n}\nDIR /etc/trail-web/sites\nFILE /etc/trail-web/sites/a {a\n}"
	p, err := sb.e.Plan(sb.list(steps))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := strings.Join(p.Work[1].Changes, ";"); got != "create file" {
		t.Fatalf("plan of the file: %q", got)
	}
	sb.apply(steps, "c1")
	if got := sb.read("/etc/trail-web/web.conf"); got != "mine\n" {
		t.Fatalf("web.conf is %q", got)
	}
	if got := sb.read("/etc/trail-web/sites/a"); got != "a\n" {
		t.Fatalf("sites/a is %q", got)
	}
	sb.apply("", "c0")
	if sb.exists("/etc/trail-web") {
		t.Fatal("the reverse left /etc/trail-web: a package trail installed must be purged")
	}
	if got := sb.pkgState("trail-web"); got != "absent" {
		t.Fatalf("trail-web is %s after the reverse", got)
	}
}

// Without owns= the same list is refused at plan, saying what to add.
func TestPackageWithoutOwnsRefused(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	buildDebSpec(t, sb.host("/var/cache/apt/archives"), debSpec{name: "trail-web", version: "1.0",
		files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	_, err := sb.e.Plan(sb.list("PKG trail-web\nFILE /etc/trail-web/web.conf {mine\n}"))
	if err == nil || !strings.Contains(err.Error(), "parent directory /etc/trail-web does not exist") {
		t.Fatalf("plan: %v, want the missing parent named", err)
	}
}

// An owned path the list writes as a file is a file, not a directory the
// package makes: the file plans as created and applies over the package's.
func TestPackageOwnsAFile(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	buildDebSpec(t, sb.host("/var/cache/apt/archives"), debSpec{name: "trail-web", version: "1.0",
		files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web/web.conf\nFILE /etc/trail-web/web.conf {mine\n}"
	p, err := sb.e.Plan(sb.list(steps))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := strings.Join(p.Work[1].Changes, ";"); got != "create file" {
		t.Fatalf("plan of the file: %q", got)
	}
	sb.apply(steps, "c1")
	if got := sb.read("/etc/trail-web/web.conf"); got != "mine\n" {
		t.Fatalf("web.conf is %q", got)
	}
}

// A directory the package ships below what it owns need not be named: the
// plan expects it from the package, and the apply checks it on the machine.
func TestPackageOwnsItsSubdirectories(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	buildDebSpec(t, sb.host("/var/cache/apt/archives"), debSpec{name: "trail-web", version: "1.0",
		files: map[string]string{"/etc/trail-web/sites-available/default": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/sites-available/mine {mine\n}"
	if _, err := sb.e.Plan(sb.list(steps)); err != nil {
		t.Fatalf("plan: %v", err)
	}
	sb.apply(steps, "c1")
	if got := sb.read("/etc/trail-web/sites-available/mine"); got != "mine\n" {
		t.Fatalf("sites-available/mine is %q", got)
	}
	sb.apply("", "c0")
	if sb.exists("/etc/trail-web") {
		t.Fatal("the reverse left /etc/trail-web")
	}
}

// When the package does not ship the directory after all, the step fails
// on the machine and the apply is undone: the package goes again.
func TestPackageOwnsMissingSubdirectoryUndone(t *testing.T) {
	t.Parallel()
	sb := newDebSandbox(t)
	buildDebSpec(t, sb.host("/var/cache/apt/archives"), debSpec{name: "trail-web", version: "1.0",
		files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/nowhere/mine {mine\n}"
	if _, err := sb.e.Plan(sb.list(steps)); err != nil {
		t.Fatalf("plan: %v", err)
	}
	_, err := sb.applyErr(steps, "c1")
	if err == nil || !strings.Contains(err.Error(), "parent directory /etc/trail-web/nowhere does not exist") {
		t.Fatalf("apply: %v, want the missing parent named", err)
	}
	if got := sb.pkgState("trail-web"); got != "absent" {
		t.Fatalf("trail-web is %s after the failed apply", got)
	}
}
