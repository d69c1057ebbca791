package dist

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sandbox lays out a root holding systemd's own units, a stand-in trail
// binary, the default checkout and the given unit files, for
// systemd-analyze verify --root.
func sandbox(t *testing.T, units map[string][]byte) string {
	t.Helper()
	const system = "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(system, "sysinit.target")); err != nil {
		t.Skipf("SKIP: systemd's units are not installed (%v): install the systemd package to verify the units", err)
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skipf("SKIP: systemd-analyze not found (%v): install the systemd package to verify the units", err)
	}
	root := t.TempDir()
	for _, d := range []string{"usr/lib/systemd", "usr/local/bin", "etc/systemd/system", "var/lib/trail/repo"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("cp", "-a", system, filepath.Join(root, "usr/lib/systemd/")).CombinedOutput()
	if err != nil {
		t.Fatalf("copy systemd units: %v\n%s", err, out)
	}
	if err := os.Symlink("usr/lib", filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/local/bin/trail"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range units {
		if err := os.WriteFile(filepath.Join(root, "etc/systemd/system", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// verify runs systemd-analyze verify and returns everything it said; it
// says nothing about units it fully accepts.
func verify(t *testing.T, root string, names ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no", "--root=" + root}, names...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func shipped(t *testing.T) map[string][]byte {
	t.Helper()
	units := map[string][]byte{}
	for _, name := range Names {
		data, err := fs.ReadFile(Units, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		units[name] = data
	}
	return units
}

func TestUnitsVerify(t *testing.T) {
	root := sandbox(t, shipped(t))
	out, err := verify(t, root, Names...)
	if err != nil || out != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestVerifyCatchesMistakes shows the check above can fail: a misspelt key
// and a missing binary are both reported.
func TestVerifyCatchesMistakes(t *testing.T) {
	tests := map[string]struct {
		edit func(root string, unit []byte) []byte
		want string
	}{
		"unknown key": {
			edit: func(_ string, u []byte) []byte {
				return bytes.Replace(u, []byte("\n[Service]\n"), []byte("\n[Service]\nWatchDogSec=5s\n"), 1)
			},
			want: "Unknown key",
		},
		"missing binary": {
			edit: func(root string, u []byte) []byte {
				os.Remove(filepath.Join(root, "usr/local/bin/trail"))
				return u
			},
			want: "/usr/local/bin/trail",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			units := shipped(t)
			root := sandbox(t, units)
			path := filepath.Join(root, "etc/systemd/system/trail-watch.service")
			if err := os.WriteFile(path, tc.edit(root, units["trail-watch.service"]), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := verify(t, root, "trail-watch.service")
			if !strings.Contains(out, tc.want) {
				t.Fatalf("systemd-analyze verify said %q, want it to mention %q", out, tc.want)
			}
		})
	}
}

// TestUnitSettings pins the settings the rest of trail relies on.
func TestUnitSettings(t *testing.T) {
	units := shipped(t)
	tests := map[string]struct {
		unit string
		want []string
		not  []string
	}{
		"watch is a notify service with a watchdog": {
			unit: "trail-watch.service",
			want: []string{"Type=notify", "WatchdogSec=", "Restart=on-failure",
				"ExecStart=/usr/local/bin/trail watch", "WorkingDirectory=/var/lib/trail/repo"},
		},
		"pull runs trail pull in the checkout": {
			unit: "trail-pull.service",
			want: []string{"Type=oneshot", "ExecStart=/usr/local/bin/trail pull", "WorkingDirectory=/var/lib/trail/repo"},
		},
		"timer fires every 15 minutes, spread out": {
			unit: "trail-pull.timer",
			want: []string{"OnCalendar=*:0/15", "RandomizedDelaySec=", "Persistent=true"},
		},
	}
	// Options that would stop trail from managing the machine.
	blocking := []string{"ProtectSystem=", "ProtectHome=", "PrivateTmp=", "ReadOnlyPaths=",
		"NoNewPrivileges=", "RestrictSUIDSGID=", "DynamicUser=", "User=", "UMask=",
		"ProtectKernelModules=", "PrivateDevices=", "SystemCallFilter=", "CapabilityBoundingSet="}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lines := settings(units[tc.unit])
			for _, w := range tc.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
					t.Errorf("%s: no line starting %q", tc.unit, w)
				}
			}
			for _, b := range blocking {
				if slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, b) }) {
					t.Errorf("%s sets %s, which would block a config-management job", tc.unit, b)
				}
			}
		})
	}
}

// settings returns the unit's non-comment lines.
func settings(unit []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(unit), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
