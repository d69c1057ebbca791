package host

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hashA = "0123456789abcdef0123456789abcdef01234567"
	hashB = "89abcdef0123456789abcdef0123456789abcdef"
)

// gitDir lays out a git directory from files (path → content).
func gitDir(t testing.TB, files map[string]string) *Checkout {
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &Checkout{Dir: dir, GitDir: dir, Common: dir}
}

func TestReadHead(t *testing.T) {
	tests := map[string]struct {
		files   map[string]string
		want    Head
		wantErr string
	}{
		"branch, loose ref": {
			files: map[string]string{"HEAD": "ref: refs/heads/main\n", "refs/heads/main": hashA + "\n"},
			want:  Head{Commit: hashA, Branch: "main"},
		},
		"branch, packed ref": {
			files: map[string]string{"HEAD": "ref: refs/heads/main\n",
				"packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + hashB + " refs/heads/dev\n" + hashA + " refs/heads/main\n^" + hashB + "\n"},
			want: Head{Commit: hashA, Branch: "main"},
		},
		"loose ref wins over packed": {
			files: map[string]string{"HEAD": "ref: refs/heads/main\n", "refs/heads/main": hashB + "\n", "packed-refs": hashA + " refs/heads/main\n"},
			want:  Head{Commit: hashB, Branch: "main"},
		},
		"detached": {
			files: map[string]string{"HEAD": hashA + "\n"},
			want:  Head{Commit: hashA},
		},
		"unborn branch": {
			files: map[string]string{"HEAD": "ref: refs/heads/main\n"},
			want:  Head{Branch: "main"},
		},
		"branch with a slash": {
			files: map[string]string{"HEAD": "ref: refs/heads/team/web\n", "refs/heads/team/web": hashA},
			want:  Head{Commit: hashA, Branch: "team/web"},
		},
		"garbage HEAD": {
			files:   map[string]string{"HEAD": "hello\n"},
			wantErr: `neither a ref nor a hash`,
		},
		"ref escaping the git dir": {
			files:   map[string]string{"HEAD": "ref: refs/../../etc/passwd\n"},
			wantErr: "not a ref name",
		},
		"garbage ref": {
			files:   map[string]string{"HEAD": "ref: refs/heads/main\n", "refs/heads/main": "nope\n"},
			wantErr: "is not a hash",
		},
		"symbolic loop": {
			files:   map[string]string{"HEAD": "ref: refs/heads/a\n", "refs/heads/a": "ref: refs/heads/b\n", "refs/heads/b": "ref: refs/heads/a\n"},
			wantErr: "nest too deep",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := gitDir(t, tc.files).ReadHead()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got.Pinned() != (tc.want.Branch == "") {
				t.Fatalf("Pinned() = %v for %+v", got.Pinned(), got)
			}
		})
	}
}

func TestFindCheckoutWorktree(t *testing.T) {
	top := t.TempDir()
	main := filepath.Join(top, "main", ".git")
	wt := filepath.Join(main, "worktrees", "canary")
	for p, data := range map[string]string{
		filepath.Join(main, "refs/heads/canary"): hashB,
		filepath.Join(main, "config"):            "[trail]\n\troot = /srv/root\n",
		filepath.Join(wt, "HEAD"):                "ref: refs/heads/canary\n",
		filepath.Join(wt, "commondir"):           "../..\n",
		filepath.Join(top, "canary", ".git"):     "gitdir: " + wt + "\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(top, "canary", "deep", "er")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := FindCheckout(sub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != filepath.Join(top, "canary") || c.GitDir != wt || c.Common != main {
		t.Fatalf("checkout %+v", c)
	}
	h, err := c.ReadHead()
	if err != nil || h != (Head{Commit: hashB, Branch: "canary"}) {
		t.Fatalf("head %+v, %v", h, err)
	}
	s, err := LoadSettings(c)
	if err != nil || s.Root != "/srv/root" {
		t.Fatalf("settings %+v, %v", s, err)
	}
	if _, err := FindCheckout(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not in a git checkout") {
		t.Fatalf("outside a checkout: %v", err)
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	tests := map[string]struct{ config, want string }{
		"bad lock timeout": {"[trail]\n\tlocktimeout = soon\n", "trail.locktimeout"},
		"bad mass removal": {"[trail]\n\tallowmassremoval = maybe\n", "trail.allowmassremoval"},
		"bad syntax":       {"[trail\n", "config"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := gitDir(t, map[string]string{"config": tc.config})
			if _, err := LoadSettings(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	c := gitDir(t, map[string]string{"config": "[trail]\n\troot = /r\n\tlocktimeout = 2s\n\tallowmassremoval = true\n[trail \"var\"]\n\taccounts = true\n"})
	s, err := LoadSettings(c)
	if err != nil || s.Root != "/r" || s.LockTimeout.String() != "2s" || !s.AllowMassRemoval || s.Vars["accounts"] != "true" {
		t.Fatalf("settings %+v, %v", s, err)
	}
}

// FuzzReadHead: whatever HEAD, a ref and packed-refs hold, ReadHead
// returns a full hash or an error, never panics, never reads outside.
func FuzzReadHead(f *testing.F) {
	f.Add("ref: refs/heads/main\n", hashA+"\n", hashA+" refs/heads/main\n")
	f.Add(hashA+"\n", "", "")
	f.Add("ref: refs/heads/main", "ref: refs/heads/main", "")
	f.Add("ref: refs/../HEAD", "", "^"+hashA)
	f.Fuzz(func(t *testing.T, head, ref, packed string) {
		c := gitDir(t, map[string]string{"HEAD": head, "refs/heads/main": ref, "packed-refs": packed})
		h, err := c.ReadHead()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a missing ref is an unborn branch, not an error: %v", err)
			}
			return
		}
		if h.Commit != "" && !isHash(h.Commit) {
			t.Fatalf("commit %q is not a hash", h.Commit)
		}
	})
}
