package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"trail/stepfmt"
)

// sandbox is a root with its own /etc/passwd and /etc/group, and a state
// directory, both under t.TempDir().
type sandbox struct {
	t     *testing.T
	root  string
	state string
	e     *Engine
	opts  Options
}

const passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n"
const group = "root:x:0:\nstaff:x:50:\nalice:x:1000:\nbob:x:1001:\n"

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	sb := &sandbox{t: t, root: t.TempDir(), state: t.TempDir()}
	for _, d := range []string{"/srv", "/opt", "/usr/bin", "/var/lib"} {
		if err := os.MkdirAll(sb.host(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sb.write("/etc/passwd", passwd, 0o644)
	sb.write("/etc/group", group, 0o644)
	sb.opts = Options{Root: sb.root, StateDir: filepath.Join(sb.state, "trail")}
	sb.open()
	return sb
}

func (sb *sandbox) open() {
	sb.t.Helper()
	if sb.e != nil {
		sb.e.Close()
	}
	e, err := Open(sb.opts)
	if err != nil {
		sb.t.Fatal(err)
	}
	sb.e = e
	sb.t.Cleanup(func() { e.Close() })
}

func (sb *sandbox) host(p string) string { return filepath.Join(sb.root, p) }

func (sb *sandbox) write(p, content string, mode os.FileMode) {
	sb.t.Helper()
	h := sb.host(p)
	if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
		sb.t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte(content), mode); err != nil {
		sb.t.Fatal(err)
	}
	if err := os.Chmod(h, mode); err != nil {
		sb.t.Fatal(err)
	}
}

func (sb *sandbox) read(p string) string {
	sb.t.Helper()
	b, err := os.ReadFile(sb.host(p))
	if err != nil {
		sb.t.Fatal(err)
	}
	return string(b)
}

func (sb *sandbox) stat(p string) *syscall.Stat_t {
	sb.t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(sb.host(p), &st); err != nil {
		sb.t.Fatal(err)
	}
	return &st
}

func (sb *sandbox) exists(p string) bool {
	_, err := os.Lstat(sb.host(p))
	return err == nil
}

var blobRE = regexp.MustCompile(`\{([^}]*)\}`)

// list parses steps written in the step language, where {text} stands for
// the store key of text (which is put in the store).
func (sb *sandbox) list(text string) *stepfmt.List {
	sb.t.Helper()
	return listIn(sb.t, sb.e.Store(), text)
}

func listIn(t testing.TB, st *Store, text string) *stepfmt.List {
	t.Helper()
	var perr error
	text = blobRE.ReplaceAllStringFunc(text, func(m string) string {
		k, err := st.Put([]byte(m[1 : len(m)-1]))
		if err != nil {
			perr = err
		}
		return k
	})
	if perr != nil {
		t.Fatal(perr)
	}
	l, errs := stepfmt.Parse("test.steps", []byte(text))
	if len(errs) > 0 {
		t.Fatalf("test list does not parse: %v", errs)
	}
	return l
}

func (sb *sandbox) apply(text, commit string) *Generation {
	sb.t.Helper()
	g, err := sb.e.Apply(context.Background(), sb.list(text), Meta{Commit: commit})
	if err != nil {
		sb.t.Fatalf("apply %s: %v", commit, err)
	}
	return g
}

func (sb *sandbox) applyErr(text, commit string) (*Generation, error) {
	sb.t.Helper()
	return sb.e.Apply(context.Background(), sb.list(text), Meta{Commit: commit})
}

// snapshot describes everything under dir, symlinks not followed: type,
// mode, owner, group and content or link target, one line per entry.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("%s %o %d:%d", rel, st.Mode, st.Uid, st.Gid)
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:8])
		case syscall.S_IFLNK:
			to, _ := os.Readlink(p)
			desc += " -> " + to
		}
		lines = append(lines, desc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// mtimes records the mtime, ctime and inode of everything under dir.
func mtimes(t testing.TB, dir string) map[string][3]int64 {
	t.Helper()
	out := map[string][3]int64{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) == nil {
			out[p] = [3]int64{st.Mtim.Nano(), st.Ctim.Nano(), int64(st.Ino)}
		}
		return nil
	})
	return out
}

// events collects what an engine reports.
type events []Event

func (ev *events) add(e Event) { *ev = append(*ev, e) }

func (ev events) of(typ EventType) []Event {
	var out []Event
	for _, e := range ev {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func stepsText(l *stepfmt.List) []byte { return stepfmt.Format(l) }
