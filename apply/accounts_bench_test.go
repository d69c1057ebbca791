package apply

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sbx "trail/apply/internal/sandbox"
)

// accountSizes are the numbers of USER steps the account benchmarks apply.
var accountSizes = []int{1000, 2000, 10000}

// baselineMax is the most users the baseline adds with useradd in one
// run; a larger size is compared with that run's time scaled up, which
// underestimates useradd there (each call rewrites files that grow).
const baselineMax = 2000

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

// BenchmarkAccounts applies n new users to a fresh root in one apply
// (users/n), and removes them again, by an apply of a list without them
// (remove/n). Each reports its time against useradd --prefix run on as
// many users in the same process (x-useradd; see baselineMax).
func BenchmarkAccounts(b *testing.B) {
	if _, err := exec.LookPath("useradd"); err != nil {
		b.Skip("no useradd")
	}
	baseline := map[int]time.Duration{}
	for _, n := range accountSizes {
		text := usersList(n)
		b.Run(fmt.Sprintf("users/%d", n), func(b *testing.B) {
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				e, _ := accountsEngine(b)
				l := listIn(b, e.Store(), text)
				b.StartTimer()
				start := time.Now()
				if _, err := e.Apply(context.Background(), l, Meta{Commit: "c1"}); err != nil {
					b.Fatal(err)
				}
				took = time.Since(start)
				b.StopTimer()
				e.Close()
				b.StartTimer()
			}
			b.ReportMetric(took.Seconds()/useraddTime(b, baseline, n).Seconds(), "x-useradd")
		})
		b.Run(fmt.Sprintf("remove/%d", n), func(b *testing.B) {
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				e, _ := accountsEngine(b)
				if _, err := e.Apply(context.Background(), listIn(b, e.Store(), text), Meta{Commit: "c1"}); err != nil {
					b.Fatal(err)
				}
				l := listIn(b, e.Store(), "DIR /srv/a\n")
				b.StartTimer()
				start := time.Now()
				if _, err := e.Apply(context.Background(), l, Meta{Commit: "c2"}); err != nil {
					b.Fatal(err)
				}
				took = time.Since(start)
				b.StopTimer()
				e.Close()
				b.StartTimer()
			}
			b.ReportMetric(took.Seconds()/useraddTime(b, baseline, n).Seconds(), "x-useradd")
		})
	}
}

// accountsEngine opens an engine on a fresh root fit for the shadow tools.
func accountsEngine(b *testing.B) (*Engine, *sbx.Root) {
	root := sbx.NewRoot(b)
	root.WithShadow(false)
	e, err := Open(Options{Root: root.Dir, StateDir: filepath.Join(b.TempDir(), "trail"), AllowMassRemoval: true})
	if err != nil {
		b.Fatal(err)
	}
	return e, root
}

// useraddTime is how long useradd --prefix takes to add the users of
// usersList(n) one call each, measured once per size (up to
// baselineMax users, scaled up beyond).
func useraddTime(b *testing.B, cache map[int]time.Duration, n int) time.Duration {
	m := min(n, baselineMax)
	if _, ok := cache[m]; !ok {
		root := sbx.NewRoot(b)
		root.WithShadow(false)
		start := time.Now()
		for i := range m {
			cmd := exec.Command("useradd", "--prefix", root.Dir, "-r", "-g", "staff", "-u", fmt.Sprint(20000+i), fmt.Sprintf("u%05d", i))
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("useradd: %v %s", err, out)
			}
		}
		cache[m] = time.Since(start)
	}
	return cache[m] * time.Duration(n) / time.Duration(m)
}
