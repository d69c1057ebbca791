package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsnotify/fsnotify"

	"trail/stepfmt"
)

func TestDerive(t *testing.T) {
	for name, tc := range map[string]struct {
		root, steps   string
		dirs, targets []string
	}{
		"files share a parent": {"/r", "DIR /srv\nFILE /srv/a sha256:" + zeros + "\nFILE /srv/b sha256:" + zeros,
			[]string{"/r", "/r/srv"}, []string{"/r/srv", "/r/srv/a", "/r/srv/b"}},
		"a link":        {"/r", "LINK /etc/x y", []string{"/r/etc"}, []string{"/r/etc/x"}},
		"top level":     {"/r", "DIR /srv", []string{"/r"}, []string{"/r/srv"}},
		"root is slash": {"/", "FILE /etc/motd sha256:" + zeros + "\nDIR /srv", []string{"/", "/etc"}, []string{"/etc/motd", "/srv"}},
		"not paths": {"/r", "USER alice\nPKG nginx\nUNIT nginx.service enabled=true\nCMD x run=true undo=true timeout=1s",
			[]string{}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			l, errs := stepfmt.Parse("t", []byte(tc.steps))
			if len(errs) > 0 {
				t.Fatal(errs.Err())
			}
			p := derive(tc.root, l)
			if got := p.sortedDirs(); !slices.Equal(got, tc.dirs) {
				t.Errorf("dirs %q, want %q", got, tc.dirs)
			}
			var got []string
			for x := range p.targets {
				got = append(got, x)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.targets) && !(len(got) == 0 && len(tc.targets) == 0) {
				t.Errorf("targets %q, want %q", got, tc.targets)
			}
		})
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestWithin(t *testing.T) {
	for name, tc := range map[string]struct {
		root, h string
		want    bool
	}{
		"below":          {"/r", "/r/x", true},
		"itself":         {"/r", "/r", true},
		"sibling prefix": {"/r", "/rx", false},
		"above":          {"/r/x", "/r", false},
		"slash":          {"/", "/etc", true},
		"relative":       {"/", "etc", false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := within(tc.root, tc.h); got != tc.want {
				t.Errorf("within(%q, %q) = %v", tc.root, tc.h, got)
			}
		})
	}
}

// The watches follow the wanted set: dropped directories are unwatched,
// a missing one is watched through its nearest existing ancestor, and
// its own watch replaces the stand-in when it is back.
func TestWatchSetSync(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	var logs []string
	s := newWatchSet(fw, root, state, func(f string, a ...any) { logs = append(logs, f) })
	want := func(dirs ...string) *paths {
		p := &paths{targets: map[string]struct{}{}, dirs: map[string]struct{}{}}
		for _, d := range dirs {
			p.dirs[filepath.Join(root, d)] = struct{}{}
		}
		return p
	}
	list := func() string {
		var out []string
		for _, w := range fw.WatchList() {
			switch {
			case w == state:
				out = append(out, "STATE")
			case w == root:
				out = append(out, "ROOT")
			default:
				out = append(out, strings.TrimPrefix(strings.TrimPrefix(w, root), "/"))
			}
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	s.replace(want("a", "b"))
	if got := list(); got != "STATE a b" {
		t.Errorf("first set watches %q", got)
	}
	s.replace(want("b", "c", "c/d/e"))
	if got := list(); got != "STATE b c" {
		t.Errorf("after replace, watching %q, want b, c and c standing in for c/d/e", got)
	}
	if !s.route(filepath.Join(root, "c/d")) {
		t.Error("an event on the way to a missing directory does not call for a check")
	}
	if err := os.MkdirAll(filepath.Join(root, "c/d/e"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.sync(false)
	if got := list(); got != "STATE b c c/d/e" {
		t.Errorf("after the missing directory came back, watching %q", got)
	}
	if err := os.RemoveAll(filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	if !s.route(filepath.Join(root, "b")) {
		t.Error("the removal of a watched directory does not call for a check")
	}
	s.sync(false)
	if got := list(); got != "ROOT STATE c c/d/e" {
		t.Errorf("after b was removed, watching %q, want the root standing in for b", got)
	}
	if _, ok := s.missing[filepath.Join(root, "b")]; !ok {
		t.Error("b is not known as missing")
	}
	if len(logs) > 0 {
		t.Errorf("logged %q", logs)
	}
}

// FuzzDerive: for any valid step list, every target's directory is
// watched, and nothing outside the root is.
func FuzzDerive(f *testing.F) {
	f.Add("DIR /srv\nFILE /srv/a sha256:" + zeros + "\nLINK /srv/l a")
	f.Add("DIR /\nUSER bob")
	f.Add("INCLUDE x.steps")
	f.Fuzz(func(t *testing.T, text string) {
		l, errs := stepfmt.Parse("fuzz", []byte(text))
		if len(errs) > 0 || len(stepfmt.Validate(l)) > 0 {
			return
		}
		for _, root := range []string{"/", "/r/oot"} {
			p := derive(root, l)
			for d := range p.dirs {
				if !within(root, d) {
					t.Fatalf("root %s: watches %s", root, d)
				}
			}
			for _, s := range l.Steps {
				if !stepfmt.IsPath(s.Kind) {
					continue
				}
				h := hostPath(root, s.Target)
				if _, ok := p.targets[h]; !ok || !within(root, h) {
					t.Fatalf("root %s: target %s as %s", root, s.Target, h)
				}
				if _, ok := p.dirs[parentOf(root, h)]; !ok {
					t.Fatalf("root %s: %s's directory is not watched", root, s.Target)
				}
			}
		}
	})
}
