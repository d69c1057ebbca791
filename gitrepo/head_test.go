package gitrepo

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"trail/gitrepo/gittest"
)

const (
	hashA = "0123456789abcdef0123456789abcdef01234567"
	hashB = "89abcdef0123456789abcdef0123456789abcdef"
)

// gitDir lays out a git directory from files (path → content).
func gitDir(t testing.TB, files map[string]string) string {
	dir := t.TempDir()
	gittest.WriteFiles(t, dir, files)
	return dir
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
			dir := gitDir(t, tc.files)
			got, err := ReadHead(dir, dir)
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

// FuzzReadHead: whatever HEAD, a ref and packed-refs hold, ReadHead
// returns a full hash or an error, never panics, never reads outside.
func FuzzReadHead(f *testing.F) {
	f.Add("ref: refs/heads/main\n", hashA+"\n", hashA+" refs/heads/main\n")
	f.Add(hashA+"\n", "", "")
	f.Add("ref: refs/heads/main", "ref: refs/heads/main", "")
	f.Add("ref: refs/../HEAD", "", "^"+hashA)
	f.Fuzz(func(t *testing.T, head, ref, packed string) {
		dir := gitDir(t, map[string]string{"HEAD": head, "refs/heads/main": ref, "packed-refs": packed})
		h, err := ReadHead(dir, dir)
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
