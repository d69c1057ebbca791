package packages_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/stepfmt"
)

// aptCalls puts apt-get, apt-cache and dpkg-query wrappers first on PATH
// that log each call's arguments and run the real program, and returns a count
// of the logged calls whose arguments hold all of words. The test cannot
// run in parallel (PATH).
func aptCalls(t *testing.T) (count func(words ...string) int, reset func()) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	for _, name := range []string{"apt-get", "apt-cache", "dpkg-query"} {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("no %s: %v", name, err)
		}
		script := "#!/bin/sh\necho \"" + name + " $*\" >>'" + log + "'\nexec '" + real + "' \"$@\"\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	count = func(words ...string) int {
		data, _ := os.ReadFile(log)
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			f := " " + line + " "
			all := line != ""
			for _, w := range words {
				all = all && strings.Contains(f, " "+w+" ")
			}
			if all {
				n++
			}
		}
		return n
	}
	return count, func() { os.Remove(log) }
}

// batchRepo is a repository of packages that share new dependencies,
// depend on each other, and have an alternative already installed.
func batchRepo(t *testing.T) *engine.Sandbox {
	sb := engine.NewDeb(t)
	sb.AptRepo(sandbox.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-d, trail-e"},
		sandbox.Deb{Name: "trail-b", Version: "1.0", Depends: "trail-d, trail-f"},
		sandbox.Deb{Name: "trail-c", Version: "1.0", Depends: "trail-a"},
		sandbox.Deb{Name: "trail-g", Version: "1.0", Depends: "trail-x | trail-y"},
		sandbox.Deb{Name: "trail-h", Version: "1.0"},
		sandbox.Deb{Name: "trail-d", Version: "1.0"}, sandbox.Deb{Name: "trail-e", Version: "1.0"},
		sandbox.Deb{Name: "trail-f", Version: "1.0"}, sandbox.Deb{Name: "trail-x", Version: "1.0"},
		sandbox.Deb{Name: "trail-y", Version: "1.0"})
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-y", Version: "1.0"}))
	return sb
}

// A group's capture reads the packages' states with one dpkg-query (and
// one more for the installed set its split reads) and predicts with one
// apt-cache policy, one apt-get -s and one apt-cache depends, however
// many steps it holds, and each step's prediction is the one its own
// capture, one apt-get -s for it alone, makes: a new dependency two
// steps share is brought by both.
func TestCaptureGroupOneSimulation(t *testing.T) {
	count, reset := aptCalls(t)
	sb := batchRepo(t)
	x := sb.Exec()
	var steps []*stepfmt.Step
	for _, n := range []string{"trail-a", "trail-b", "trail-c", "trail-g", "trail-h"} {
		steps = append(steps, &stepfmt.Step{Kind: stepfmt.KindPackage, Target: n})
	}
	want := map[string]string{"trail-a": "absent brings=trail-d,trail-e", "trail-b": "absent brings=trail-d,trail-f",
		"trail-c": "absent brings=trail-a,trail-d,trail-e", "trail-g": "absent", "trail-h": "absent"}
	var alone []kind.Image
	for _, s := range steps {
		img, err := packages.Package{}.Capture(x, s)
		if err != nil {
			t.Fatal(err)
		}
		if img.String() != want[s.Target] {
			t.Fatalf("%s alone: %s, want %s", s.Target, img, want[s.Target])
		}
		alone = append(alone, img)
	}
	if n := count("apt-get", "-s"); n != len(steps) {
		t.Fatalf("%d simulations for %d steps captured alone", n, len(steps))
	}
	if n := count("dpkg-query"); n != len(steps) {
		t.Fatalf("%d dpkg-query for %d steps captured alone, want one each", n, len(steps))
	}
	reset()
	imgs, err := packages.Package{}.CaptureGroup(x, steps)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		if !imgs[i].Equal(alone[i]) {
			t.Errorf("%s in the group: %s, alone: %s", s.Target, imgs[i], alone[i])
		}
	}
	for _, c := range []struct {
		words []string
		want  int
	}{{[]string{"apt-get", "-s"}, 1}, {[]string{"apt-cache", "policy"}, 1}, {[]string{"apt-cache", "depends"}, 1},
		{[]string{"dpkg-query"}, 2}} {
		if n := count(c.words...); n != c.want {
			t.Errorf("%q: %d calls, want %d", c.words, n, c.want)
		}
	}
}

// A role's packages applied in one commit: one simulation predicts them
// all, and the rollback takes away exactly what each brought (after the
// install, a step's dependencies are those of the call's new packages in
// its installed closure: trail-c's closure holds trail-a's).
func TestApplyGroupAptCalls(t *testing.T) {
	count, _ := aptCalls(t)
	sb := batchRepo(t)
	before := sb.Packages()
	sb.Apply("PKG trail-a\nPKG trail-b\nPKG trail-c\nPKG trail-g\nPKG trail-h", "c1")
	if n := count("apt-get", "-s"); n != 1 {
		t.Fatalf("%d simulations, want one for the group", n)
	}
	if n := count("apt-cache", "policy"); n != 3 {
		t.Fatalf("%d apt-cache policy, want one for the plan, the capture and the install", n)
	}
	if n := count("apt-cache", "depends"); n != 2 {
		t.Fatalf("%d apt-cache depends, want one for the capture and one for the install", n)
	}
	for name, want := range map[string]string{"trail-a": "absent deps=trail-d,trail-e", "trail-b": "absent deps=trail-d,trail-f",
		"trail-c": "absent deps=trail-d,trail-e", "trail-g": "absent", "trail-h": "absent"} {
		if got := sb.Origin(stepfmt.KindPackage, name); got != want {
			t.Errorf("%s: origin %q, want %q", name, got, want)
		}
	}
	if got := sb.PkgState("trail-x"); got != "absent" {
		t.Fatalf("trail-x is %s: trail-y, installed, satisfies trail-g", got)
	}
	g := sb.Apply("", "c0")
	if after := sb.Packages(); after != before {
		t.Fatalf("packages after the rollback:\n%s\nwant:\n%s", after, before)
	}
	if len(g.Kept) != 0 {
		t.Fatalf("kept %q", g.Kept)
	}
}

// The installed closure of each package, from one apt-cache depends for
// all, is the one apt-cache depends of the package alone names.
func TestClosuresAsAlone(t *testing.T) {
	sb := batchRepo(t)
	names := []string{"trail-a", "trail-b", "trail-c", "trail-g", "trail-h", "trail-r"}
	sb.Apply("PKG trail-a\nPKG trail-b\nPKG trail-c\nPKG trail-g\nPKG trail-h", "c1")
	sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: "trail-r", Version: "1.0", Depends: "trail-h", Recommends: "trail-b"}))
	tools := packages.Tools{Root: sb.Dir}
	for _, rec := range []bool{false, true} {
		all, err := tools.Closures(names, rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			alone, err := tools.Closure(n, rec)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(all[n])
			slices.Sort(got)
			slices.Sort(alone)
			if !slices.Equal(got, alone) {
				t.Errorf("recommends %v: %s: %q together, %q alone", rec, n, got, alone)
			}
		}
	}
}

// The rollback of pins on packages installed before trail at another
// version asks apt-cache policy as often for three packages as for one:
// one call for the group's decision and one for its apt-get call, not
// one a package. Each gets its old version back.
func TestRestoreOldVersionsOnePolicy(t *testing.T) {
	count, reset := aptCalls(t)
	calls := map[int]int{}
	for _, n := range []int{1, 3} {
		sb := engine.NewDeb(t)
		var debs []sandbox.Deb
		var pins []string
		for i := range n {
			name := fmt.Sprintf("trail-p%d", i)
			debs = append(debs, sandbox.Deb{Name: name, Version: "1.0"}, sandbox.Deb{Name: name, Version: "2.0"})
			sb.DpkgInstall(sandbox.BuildDeb(t, t.TempDir(), sandbox.Deb{Name: name, Version: "1.0"}))
			pins = append(pins, "PKG "+name+" version=2.0")
		}
		sb.AptRepo(debs...)
		before := sb.Packages()
		sb.Apply(strings.Join(pins, "\n"), "c1")
		if got := sb.PkgState("trail-p0"); got != "installed 2.0" {
			t.Fatalf("%d packages: trail-p0 is %s after the pin", n, got)
		}
		reset()
		sb.Apply("", "c0")
		calls[n] = count("apt-cache", "policy")
		if after := sb.Packages(); after != before {
			t.Fatalf("%d packages after the rollback:\n%s\nwant:\n%s", n, after, before)
		}
	}
	if calls[3] != calls[1] {
		t.Fatalf("apt-cache policy: %d calls for three packages, %d for one", calls[3], calls[1])
	}
}
