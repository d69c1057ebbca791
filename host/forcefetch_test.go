package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"trail/apply/kind"
)

// A --force of the applied commit takes its list from the compiled cache
// without looking for each content in the store: with nothing drifted it
// changes nothing, even with a content gone from the store; a target
// found drifted whose content the store lost is put back all the same,
// its content read from the commit again.
func TestForceFetchesLostContent(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "www/d/page"), []byte("one\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "www/d/other"), []byte("other\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	force := func() *Outcome {
		t.Helper()
		o, err := h.Apply(context.Background(), ApplyOptions{Force: true})
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		return o
	}
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	page := filepath.Join(h.Settings.root(), "etc/www/d/page")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Cached || !c.unchecked {
		t.Fatalf("the applied commit's compile: cached %v, unchecked %v; want both", c.Cached, c.unchecked)
	}
	key := ""
	for _, s := range c.List.Steps {
		if s.Target == "/etc/www/d/page" {
			key = s.Value("content")
		}
	}
	e, _ := h.Engine()
	blob := e.Store().Path(key)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.Current()

	if o := force(); !o.Matched {
		t.Fatalf("a --force with nothing drifted and a content lost did not match:\n%s", out.String())
	}
	if now, _ := e.Current(); now.Number != cur.Number {
		t.Fatalf("a --force with nothing drifted made generation %d", now.Number)
	}
	if e.Store().Has(key) {
		t.Fatal("a --force with nothing drifted looked for the contents it did not need")
	}

	if err := os.WriteFile(page, []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if o := force(); o.Matched || o.Generation == nil || o.Generation.Counts.Drifted != 1 {
		t.Fatalf("the drifted page was not put back as one drifted target:\n%s", out.String())
	}
	if got, _ := os.ReadFile(page); string(got) != "one\n" {
		t.Fatalf("after --force the page holds %q", got)
	}
	if !e.Store().Has(key) {
		t.Fatal("the content read from the commit again is not in the store")
	}
	if !strings.Contains(out.String(), "1 found changed by hand") {
		t.Fatalf("the drift is not reported:\n%s", out.String())
	}
}

// The contents a --force puts back may sit in a pack: with the packs lost
// (pack and index), a fresh trail, as the next command is, finds the
// drifted targets' contents missing and reads them from the commit again.
func TestForceFetchesLostPackedContent(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 80 {
		os.WriteFile(filepath.Join(dir, "www", fmt.Sprintf("f%02d", i)), []byte(fmt.Sprintf("page %d\n", i)), 0o644)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	var out bytes.Buffer
	open := func() *Host {
		t.Helper()
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := open()
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := h.Engine()
	target := ""
	for _, s := range c.List.Steps {
		k := s.Value("content")
		if s.Kind != "FILE" {
			continue
		}
		if _, err := os.Stat(e.Store().Path(k)); e.Store().Has(k) && errors.Is(err, fs.ErrNotExist) {
			target = s.Target
			break
		}
	}
	packs, _ := filepath.Glob(filepath.Join(h.Settings.state(), "store", "pack", "*"))
	if target == "" || len(packs) == 0 {
		t.Fatalf("no content of the tree is in a pack (packs %v)", packs)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "www", filepath.Base(target)))
	h.Close()
	for _, p := range packs {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(filepath.Dir(dir), "root", target)
	if err := os.WriteFile(page, []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h = open()
	defer h.Close()
	forceHeals(t, h, &out, page, string(want))
}

// An EDIT names its edit script by a store key too: a --force that finds
// the edited file drifted and the script lost reads it from the commit.
func TestForceFetchesLostEditScript(t *testing.T) {
	dir := testCheckout(t, "edit \"/etc/hostname\" {\n  line = \"extra\"\n}\n")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	c, err := h.compileToApply("HEAD")
	if err != nil || !c.unchecked {
		t.Fatalf("the applied commit's compile: %v, unchecked %v", err, c != nil && c.unchecked)
	}
	key := c.List.Steps[0].Value("edits")
	e, _ := h.Engine()
	if err := os.Remove(e.Store().Path(key)); err != nil {
		t.Fatal(err)
	}
	hostname := filepath.Join(h.Settings.root(), "etc/hostname")
	if err := os.WriteFile(hostname, []byte("web1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	forceHeals(t, h, &out, hostname, "web1\nextra\n")
}

// An apply of a commit other than the applied one takes its cached list
// only when the store holds every content it names, its edit scripts
// among them: else it compiles, and the lost script is stored again.
func TestCachedListNeedsItsEditScripts(t *testing.T) {
	dir := testCheckout(t, "edit \"/etc/hostname\" {\n  line = \"extra\"\n}\n")
	first := strings.TrimSpace(gitOut(t, dir, "rev-parse", "HEAD"))
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	apply := func(rev string) {
		t.Helper()
		if _, err := h.Apply(context.Background(), ApplyOptions{Rev: rev}); err != nil {
			t.Fatalf("apply %s: %v\n%s", rev, err, out.String())
		}
	}
	apply("")
	c, err := h.compileToApply(first)
	if err != nil {
		t.Fatal(err)
	}
	key := c.List.Steps[0].Value("edits")
	commitSite(t, dir, "edit \"/etc/hostname\" {\n  line = \"other\"\n}\n", "second")
	apply("")
	e, _ := h.Engine()
	if err := os.Remove(e.Store().Path(key)); err != nil {
		t.Fatal(err)
	}
	if c, err := h.compileToApply(first); err != nil || c.Cached {
		t.Fatalf("a list whose edit script the store lost: %v, cached %v; want a compile", err, c != nil && c.Cached)
	}
	apply(first)
	if !e.Store().Has(key) {
		t.Fatal("the lost edit script was not stored again")
	}
}

// A content the store holds corrupt (its bytes no longer hash to its key)
// is to a --force what a lost one is: a drifted target that needs it is
// put back, the content read from the commit again, and the store's copy
// is good again after (fsck finds nothing wrong).
func TestForceFetchesCorruptContent(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "www/page"), []byte("one\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for _, s := range c.List.Steps {
		if s.Target == "/etc/www/page" {
			key = s.Value("content")
		}
	}
	e, _ := h.Engine()
	blob := e.Store().Path(key)
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, []byte("rot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(h.Settings.root(), "etc/www/page")
	if err := os.WriteFile(page, []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	forceHeals(t, h, &out, page, "one\n")
	if got, err := e.Store().Get(key); err != nil || string(got) != "one\n" {
		t.Fatalf("the store's copy after --force: %q, %v", got, err)
	}
	r, err := h.Fsck()
	if err != nil || !r.OK() {
		t.Fatalf("fsck after --force: %v %+v", err, r)
	}
}

// A content corrupt inside a pack is stored again beside it, as a file of
// its own, which reads then take instead of the packed copy: a --force
// whose drifted target needs it heals the target. fsck still reports the
// bad packed copy, and says the content is intact.
func TestForceHealsCorruptPackedContent(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 80 {
		os.WriteFile(filepath.Join(dir, "www", fmt.Sprintf("f%02d", i)), []byte(fmt.Sprintf("packed page number %d\n", i)), 0o644)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "www")
	var out bytes.Buffer
	h := appliedHost(t, dir, &out)
	packs, _ := filepath.Glob(filepath.Join(h.Settings.state(), "store", "pack", "*.pack"))
	var pack string
	var data []byte
	name, want := "", ""
	for _, p := range packs {
		b, _ := os.ReadFile(p)
		for i := range 80 {
			if j := bytes.Index(b, []byte(fmt.Sprintf("packed page number %d\n", i))); j >= 0 {
				b[j] = 'X'
				pack, data, name = p, b, fmt.Sprintf("f%02d", i)
				want = fmt.Sprintf("packed page number %d\n", i)
				break
			}
		}
		if pack != "" {
			break
		}
	}
	if pack == "" {
		t.Fatalf("no content of the tree is in a pack (packs %v)", packs)
	}
	os.Chmod(pack, 0o644)
	if err := os.WriteFile(pack, data, 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(h.Settings.root(), "etc/www", name)
	if err := os.WriteFile(page, []byte("by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := kind.HashKey([]byte(want))
	e, _ := h.Engine()
	forceHeals(t, h, &out, page, want)
	if got, err := e.Store().Get(key); err != nil || string(got) != want {
		t.Fatalf("the store's copy after --force: %q, %v", got, err)
	}
	if _, err := os.Stat(e.Store().Path(key)); err != nil {
		t.Fatalf("the content was not stored again as a file of its own: %v", err)
	}
	r, err := h.Fsck()
	if err != nil || r.OK() {
		t.Fatalf("fsck after --force says nothing of the bad packed copy: %v %+v", err, r)
	}
	text := fmt.Sprintf("%+v", r)
	if !strings.Contains(text, key) || !strings.Contains(text, "intact") {
		t.Fatalf("fsck after --force: %s", text)
	}
}

// forceHeals runs a --force that must find one target drifted and put
// file back to want.
func forceHeals(t *testing.T, h *Host, out *bytes.Buffer, file, want string) {
	t.Helper()
	o, err := h.Apply(context.Background(), ApplyOptions{Force: true})
	if err != nil || o.Matched || o.Generation == nil || o.Generation.Counts.Drifted != 1 {
		t.Fatalf("the drifted %s was not put back: %v\n%s", file, err, out.String())
	}
	if got, _ := os.ReadFile(file); string(got) != want {
		t.Fatalf("after --force %s holds %q, want %q", file, got, want)
	}
}

// appliedHost opens the checkout dir, its output to out, and applies HEAD.
func appliedHost(t *testing.T, dir string, out *bytes.Buffer) *Host {
	t.Helper()
	h, err := Open(dir, out, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return h
}
