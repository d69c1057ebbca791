package apply

import (
	"fmt"
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
