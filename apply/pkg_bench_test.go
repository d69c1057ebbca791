package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
	"trail/apply/kinds/packages"
	"trail/stepfmt"
)

// BenchmarkPackageCapture measures what predicting an install's new
// dependencies adds to capturing an absent package's pre-image: "state"
// is the capture without it (dpkg-query and the mark), the baseline.
func BenchmarkPackageCapture(b *testing.B) {
	root := b.TempDir()
	sbx.At(b, root).DebRoot()
	sbx.At(b, root).AptRepo(sbx.Deb{Name: "trail-a", Version: "1.0", Depends: "trail-b"}, sbx.Deb{Name: "trail-b", Version: "1.0", Depends: ""})
	e, err := Open(Options{Root: root, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	x := e.newExec()
	s := &stepfmt.Step{Kind: stepfmt.KindPackage, Target: "trail-a"}
	b.Run("state", func(b *testing.B) {
		for b.Loop() {
			if _, err := packages.Read(x, s.Target); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with-prediction", func(b *testing.B) {
		for b.Loop() {
			img, err := packages.Package{}.Capture(x, s)
			if err != nil || img.Value("brings") != "trail-b" {
				b.Fatalf("%v %v", img, err)
			}
		}
	})
}

// BenchmarkParseInstalled reads dpkg-query's list of a host with 3000
// packages, which every apt-get call of an install reads twice.
func BenchmarkParseInstalled(b *testing.B) {
	var sb strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&sb, "package-%d\tinstall ok installed\n", i)
	}
	out := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		if len(packages.ParseInstalled(out)) != 3000 {
			b.Fatal("lost packages")
		}
	}
}

// BenchmarkPackageCaptureGroup measures capturing a group of eight absent
// packages, each bringing a dependency (two share theirs), with the
// root's apt reading this machine's Debian lists too when it has them
// (/var/lib/apt/lists, copied with its sources), since reading its lists
// is most of what an apt call costs: "each" is a Capture per step, an
// apt-cache policy and an apt-get -s each, as before groups were captured
// together, the baseline; "group" is one CaptureGroup.
func BenchmarkPackageCaptureGroup(b *testing.B) {
	root := b.TempDir()
	sbx.At(b, root).DebRoot()
	var debs []sbx.Deb
	var steps []*stepfmt.Step
	for i := range 8 {
		dep := fmt.Sprintf("trail-dep%d", min(i, 6))
		debs = append(debs, sbx.Deb{Name: fmt.Sprintf("trail-p%d", i), Version: "1.0", Depends: dep})
		steps = append(steps, &stepfmt.Step{Kind: stepfmt.KindPackage, Target: fmt.Sprintf("trail-p%d", i)})
		if i < 7 {
			debs = append(debs, sbx.Deb{Name: dep, Version: "1.0"})
		}
	}
	sbx.At(b, root).AptRepo(debs...)
	hostLists(b, root)
	e, err := Open(Options{Root: root, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	x := e.newExec()
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			for _, s := range steps {
				if img, err := (packages.Package{}).Capture(x, s); err != nil || img.Value("brings") == "" {
					b.Fatalf("%v %v", img, err)
				}
			}
		}
	})
	b.Run("group", func(b *testing.B) {
		for b.Loop() {
			imgs, err := packages.Package{}.CaptureGroup(x, steps)
			if err != nil || imgs[7].Value("brings") != "trail-dep6" {
				b.Fatalf("%v %v", imgs, err)
			}
		}
	})
}

// hostLists copies this machine's apt lists and their sources into root,
// beside the root's own, when it has any.
func hostLists(b *testing.B, root string) {
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*")
	sources, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	if len(lists) == 0 || len(sources) == 0 {
		return
	}
	for _, f := range append(lists, sources...) {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
