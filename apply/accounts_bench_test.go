package apply

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sbx "trail/apply/internal/sandbox"
)

// accountSizes are the numbers of USER steps the account benchmarks apply.
var accountSizes = []int{1000, 2000}

// usersList is n USER steps with fixed uids, in group staff and no home
// directory (a group of each user's name would exhaust Debian's range of
// system gids before 1,000).
func usersList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "USER u%05d uid=%d group=staff system=true\n", i, 20000+i)
	}
	return b.String()
}

// BenchmarkAccounts applies n new users to a fresh root in one apply; its
// baseline, BenchmarkAccountsBaseline, runs useradd --prefix n times.
func BenchmarkAccounts(b *testing.B) {
	for _, n := range accountSizes {
		text := usersList(n)
		b.Run(fmt.Sprintf("users/%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				root := sbx.NewRoot(b)
				root.WithShadow(false)
				state := filepath.Join(b.TempDir(), "trail")
				e, err := Open(Options{Root: root.Dir, StateDir: state})
				if err != nil {
					b.Fatal(err)
				}
				l := listIn(b, e.Store(), text)
				b.StartTimer()
				if _, err := e.Apply(context.Background(), l, Meta{Commit: "c1"}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				e.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkAccountsBaseline adds the same users with useradd --prefix, one
// call each, as a shell loop would.
func BenchmarkAccountsBaseline(b *testing.B) {
	if _, err := exec.LookPath("useradd"); err != nil {
		b.Skip("no useradd")
	}
	for _, n := range accountSizes {
		b.Run(fmt.Sprintf("useradd/%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				root := sbx.NewRoot(b)
				root.WithShadow(false)
				b.StartTimer()
				for i := range n {
					cmd := exec.Command("useradd", "--prefix", root.Dir, "-r", "-g", "staff", "-u", fmt.Sprint(20000+i), fmt.Sprintf("u%05d", i))
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("useradd: %v %s", err, out)
					}
				}
			}
		})
	}
}
