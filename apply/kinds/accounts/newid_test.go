package accounts

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewIDAsGroupadd: the gid newID chooses is the one groupadd chooses
// on the same group file, for system groups and others, over random sets
// of used ids in small ranges, wrap-arounds and full ranges included.
func TestNewIDAsGroupadd(t *testing.T) {
	if _, err := exec.LookPath("/usr/sbin/groupadd"); err != nil {
		t.Skip("no groupadd")
	}
	defs := map[string]string{"GID_MIN": "1000", "GID_MAX": "1009", "SYS_GID_MIN": "100", "SYS_GID_MAX": "109"}
	var conf strings.Builder
	for k, v := range defs {
		fmt.Fprintf(&conf, "%s %s\n", k, v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range 40 {
		system := c%2 == 0
		base := uint64(1000)
		if system {
			base = 100
		}
		ids := map[uint64]int{}
		var group, gshadow strings.Builder
		n := rng.IntN(12)
		for i := range n {
			id := base - 2 + uint64(rng.IntN(14))
			if ids[id] > 0 {
				continue
			}
			ids[id]++
			fmt.Fprintf(&group, "g%d:x:%d:\n", i, id)
			fmt.Fprintf(&gshadow, "g%d:!::\n", i)
		}
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
		for f, body := range map[string]string{"group": group.String(), "gshadow": gshadow.String(), "passwd": "root:x:0:0::/root:/bin/sh\n", "shadow": "root:*:1::::::\n", "login.defs": conf.String()} {
			if err := os.WriteFile(filepath.Join(dir, "etc", f), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args := []string{"new"}
		if system {
			args = []string{"-r", "new"}
		}
		toolErr := shadowToolAt(dir, "groupadd", args...)
		got, ok := newID(&toolDefs{login: defs}, "GID", &idSet{used: ids}, system, nil)
		data, _ := os.ReadFile(filepath.Join(dir, "etc", "group"))
		var want string
		for l := range strings.SplitSeq(string(data), "\n") {
			if rest, found := strings.CutPrefix(l, "new:x:"); found {
				want = strings.TrimSuffix(rest, ":")
			}
		}
		switch {
		case toolErr != nil && ok:
			t.Errorf("case %d (system %v, used %v): groupadd found no gid (%v), newID %d", c, system, ids, toolErr, got)
		case toolErr == nil && (!ok || fmt.Sprint(got) != want):
			t.Errorf("case %d (system %v, used %v): newID %d (%v), groupadd %s", c, system, ids, got, ok, want)
		}
	}
}
