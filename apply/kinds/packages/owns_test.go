package packages_test

import (
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
)

// A package that ships /etc/trail-web, and a file written under it, in one
// list on a root that has neither: the plan knows the package makes the
// directory (owns=), and the apply writes the file over the package's.
func TestPackageOwnsPlansPathsUnderIt(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sandbox.BuildDeb(t, sb.Host("/var/cache/apt/archives"), sandbox.Deb{Name: "trail-web", Version: "1.0",
		Files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/web.conf {mine\n}\nDIR /etc/trail-web/sites\nFILE /etc/trail-web/sites/a {a\n}"
	p, err := sb.E.Plan(sb.List(steps))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := strings.Join(p.Work[1].Changes, ";"); got != "create file" {
		t.Fatalf("plan of the file: %q", got)
	}
	sb.Apply(steps, "c1")
	if got := sb.Read("/etc/trail-web/web.conf"); got != "mine\n" {
		t.Fatalf("web.conf is %q", got)
	}
	if got := sb.Read("/etc/trail-web/sites/a"); got != "a\n" {
		t.Fatalf("sites/a is %q", got)
	}
	sb.Apply("", "c0")
	if sb.Exists("/etc/trail-web") {
		t.Fatal("the reverse left /etc/trail-web: a package trail installed must be purged")
	}
	if got := sb.PkgState("trail-web"); got != "absent" {
		t.Fatalf("trail-web is %s after the reverse", got)
	}
}

// Without owns= the same list is refused at plan, saying what to add.
func TestPackageWithoutOwnsRefused(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sandbox.BuildDeb(t, sb.Host("/var/cache/apt/archives"), sandbox.Deb{Name: "trail-web", Version: "1.0",
		Files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	_, err := sb.E.Plan(sb.List("PKG trail-web\nFILE /etc/trail-web/web.conf {mine\n}"))
	if err == nil || !strings.Contains(err.Error(), "parent directory /etc/trail-web does not exist") {
		t.Fatalf("plan: %v, want the missing parent named", err)
	}
}

// An owned path the list writes as a file is a file, not a directory the
// package makes: the file plans as created and applies over the package's.
func TestPackageOwnsAFile(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sandbox.BuildDeb(t, sb.Host("/var/cache/apt/archives"), sandbox.Deb{Name: "trail-web", Version: "1.0",
		Files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web/web.conf\nFILE /etc/trail-web/web.conf {mine\n}"
	p, err := sb.E.Plan(sb.List(steps))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := strings.Join(p.Work[1].Changes, ";"); got != "create file" {
		t.Fatalf("plan of the file: %q", got)
	}
	sb.Apply(steps, "c1")
	if got := sb.Read("/etc/trail-web/web.conf"); got != "mine\n" {
		t.Fatalf("web.conf is %q", got)
	}
}

// A directory the package ships below what it owns need not be named: the
// plan expects it from the package, and the apply checks it on the machine.
func TestPackageOwnsItsSubdirectories(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sandbox.BuildDeb(t, sb.Host("/var/cache/apt/archives"), sandbox.Deb{Name: "trail-web", Version: "1.0",
		Files: map[string]string{"/etc/trail-web/sites-available/default": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/sites-available/mine {mine\n}"
	if _, err := sb.E.Plan(sb.List(steps)); err != nil {
		t.Fatalf("plan: %v", err)
	}
	sb.Apply(steps, "c1")
	if got := sb.Read("/etc/trail-web/sites-available/mine"); got != "mine\n" {
		t.Fatalf("sites-available/mine is %q", got)
	}
	sb.Apply("", "c0")
	if sb.Exists("/etc/trail-web") {
		t.Fatal("the reverse left /etc/trail-web")
	}
}

// When the package does not ship the directory after all, the step fails
// on the machine and the apply is undone: the package goes again.
func TestPackageOwnsMissingSubdirectoryUndone(t *testing.T) {
	t.Parallel()
	sb := engine.NewDeb(t)
	sandbox.BuildDeb(t, sb.Host("/var/cache/apt/archives"), sandbox.Deb{Name: "trail-web", Version: "1.0",
		Files: map[string]string{"/etc/trail-web/web.conf": "shipped\n"}})
	steps := "PKG trail-web owns=/etc/trail-web\nFILE /etc/trail-web/nowhere/mine {mine\n}"
	if _, err := sb.E.Plan(sb.List(steps)); err != nil {
		t.Fatalf("plan: %v", err)
	}
	_, err := sb.ApplyErr(steps, "c1")
	if err == nil || !strings.Contains(err.Error(), "parent directory /etc/trail-web/nowhere does not exist") {
		t.Fatalf("apply: %v, want the missing parent named", err)
	}
	if got := sb.PkgState("trail-web"); got != "absent" {
		t.Fatalf("trail-web is %s after the failed apply", got)
	}
}
