package apply

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"trail/apply/state"
)

// A file system that fills up while the new files of a directory the
// apply made are written in the background fails the step whose file
// could not be written, and the whole apply is undone exactly.
func TestBackgroundDiskFullRollsBack(t *testing.T) {
	for _, batch := range []int{1, 7, defaultBatch} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			sb := newSandbox(t)
			sb.opts.batchSize = batch
			sb.open()
			os.MkdirAll(sb.host("/mnt/small"), 0o755)
			if err := unix.Mount("tmpfs", sb.host("/mnt/small"), "tmpfs", 0, "size=64k"); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v", err)
			}
			t.Cleanup(func() { unix.Unmount(sb.host("/mnt/small"), unix.MNT_DETACH) })
			sb.apply("DIR /srv/app\nFILE /srv/app/a {a1}", "c1")
			old := snapshot(t, sb.root)
			steps := "DIR /srv/app\nFILE /srv/app/a {a2}\nDIR /mnt/small/new\n"
			for i := range 40 {
				steps += fmt.Sprintf("FILE /mnt/small/new/f%02d {%s}\n", i, strings.Repeat(fmt.Sprint(i%10), 3000))
			}
			steps += "DIR /srv/app/after\nFILE /srv/app/after/x {x}\n"
			g, err := sb.applyErr(steps, "c2")
			if err == nil {
				t.Fatal("the apply succeeded")
			}
			if !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "FILE /mnt/small/new/f") {
				t.Fatalf("error %v; want the FILE that did not fit, no space left", err)
			}
			if g == nil || g.Result != ResultFailed || !strings.HasPrefix(g.ErrorStep, "FILE /mnt/small/new/f") {
				t.Fatalf("generation %+v", g)
			}
			t.Log(err)
			if now := snapshot(t, sb.root); now != old {
				t.Fatalf("root not at the old generation:\n%s\nwant:\n%s", now, old)
			}
			if _, err := os.Stat(sb.e.path(state.FileJournal)); !os.IsNotExist(err) {
				t.Fatal("journal left after a clean rollback")
			}
			if cur, _ := sb.e.Current(); cur == nil || cur.Commit != "c1" {
				t.Fatalf("current = %+v, want c1", cur)
			}
		})
	}
}
