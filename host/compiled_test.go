package host

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"trail/compile"
	"trail/stepfmt"
)

// A rollback to a commit applied before, and a re-apply, take the compiled
// list from the generation that applied it instead of compiling, and it is
// the list a fresh compile gives; a change of anything the output depends
// on (a host var, the host name), a damaged entry or a content gone from
// the store (of a list other than the applied one) is a compile.
func TestCompiledCacheServesRollback(t *testing.T) {
	site := "variable \"motd\" {\n  default = \"a\"\n}\n" +
		"file \"/etc/motd\" {\n  content = \"${var.motd} on ${host.hostname}\\n\"\n}\n" +
		"tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n"
	dir := testCheckout(t, site)
	if err := os.MkdirAll(filepath.Join(dir, "www/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "www/d/page"), []byte("one\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "a")
	a := strings.TrimSpace(gitOut(t, dir, "rev-parse", "HEAD"))
	os.WriteFile(filepath.Join(dir, "www/d/page"), []byte("two\n"), 0o644)
	gitIn(t, dir, "commit", "-q", "-am", "b")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	apply := func(rev string) {
		t.Helper()
		if _, err := h.Apply(context.Background(), ApplyOptions{Rev: rev, Deliberate: true, Force: true}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	cached := func(rev string, want bool) {
		t.Helper()
		c, err := h.compileToApply(rev)
		if err != nil {
			t.Fatal(err)
		}
		if c.Cached != want {
			t.Fatalf("compile of %s: cached %v, want %v", rev, c.Cached, want)
		}
		fresh, err := h.Compile(rev)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := stepfmt.Format(c.List), stepfmt.Format(fresh.List); !bytes.Equal(got, want) {
			t.Fatalf("the list of %s differs from a fresh compile's:\n%s\nvs\n%s", rev, got, want)
		}
	}
	apply(a)
	apply("HEAD")
	cached(a, true)
	cached("HEAD", true)
	apply(a)
	if got, _ := os.ReadFile(filepath.Join(h.Settings.root(), "etc/www/d/page")); string(got) != "one\n" {
		t.Fatalf("after the rollback the page holds %q", got)
	}

	h.Settings.Vars = map[string]string{"motd": "b"}
	cached(a, false)
	apply(a)
	cached(a, true)
	h.Settings.Hostname = "web2"
	cached(a, false)
	apply(a)
	cached(a, true)

	c, _ := h.compileToApply(a)
	p := h.compiledPath(compileKey(mustFacts(t, h), compile.Options{Commit: c.Commit.Hash, Vars: h.Settings.Vars, HostVars: true}))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	os.WriteFile(p, data, 0o600)
	cached(a, false)
	apply(a)
	cached(a, true)

	e, _ := h.Engine()
	for k := range c.Blobs {
		t.Fatalf("a cached compile holds content %s", k)
	}
	// A content of a list that is not the applied one gone from the store
	// is a compile (the applied one's is fetched when needed:
	// TestForceFetchesLostContent).
	apply("HEAD")
	apply(a)
	cached("HEAD", true)
	fresh, _ := h.Compile("HEAD")
	ours, _ := h.Compile(a)
	for k := range fresh.Blobs {
		if _, shared := ours.Blobs[k]; shared {
			continue
		}
		if err := os.Remove(e.Store().Path(k)); err != nil {
			t.Fatal(err)
		}
		break
	}
	cached("HEAD", false)
}

func mustFacts(t *testing.T, h *Host) compile.Facts {
	t.Helper()
	f, err := h.Facts()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Every compile.Options field either shapes the output, and is then in the
// compiled cache's key, or only changes what a compile reads (or keeps
// beside its list, which the cache does not save); and every
// fact is in the key. A field added to either fails here until the key
// takes it.
func TestCompileKeyCoversOptions(t *testing.T) {
	readsOnly := map[string]bool{"LazyTree": true, "KnownBlob": true, "Trees": true, "Read": true, "Resolved": true, "Files": true, "Before": true,
		"NoRepoPaths": true}
	keyed := map[string]bool{}
	for f := range reflect.TypeFor[keyOptions]().Fields() {
		keyed[f.Name] = true
	}
	for f := range reflect.TypeFor[compile.Options]().Fields() {
		if !keyed[f.Name] && !readsOnly[f.Name] {
			t.Errorf("compile.Options.%s is not in the compiled cache's key (keyOptions), nor known to change only what is read", f.Name)
		}
	}
	base := compile.Facts{}
	k0 := compileKey(base, compile.Options{})
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		f := compile.Facts{}
		fv := reflect.ValueOf(&f).Elem().Field(i)
		if !v.Type().Field(i).IsExported() {
			continue // what is still to be read is keyed by Pending
		}
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("x")
		case reflect.Int, reflect.Int64:
			fv.SetInt(1)
		case reflect.Slice:
			fv.Set(reflect.MakeSlice(fv.Type(), 1, 1))
		case reflect.Map:
			m := reflect.MakeMap(fv.Type())
			m.SetMapIndex(reflect.Zero(fv.Type().Key()), reflect.Zero(fv.Type().Elem()))
			fv.Set(m)
		case reflect.Bool:
			fv.SetBool(true)
		default:
			t.Errorf("fact %s: set it here", v.Type().Field(i).Name)
			continue
		}
		if compileKey(f, compile.Options{}) == k0 {
			t.Errorf("fact %s does not change the compiled cache's key", v.Type().Field(i).Name)
		}
	}
}

// A fact read on first use (host.packages) is not in the key, which is
// made before the compile; the entry names it, and a lookup reads it and
// compiles again when it changed.
func TestCompiledCacheSeesLazyFacts(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/v\" {\n  content = \"${lookup(host.packages, \"foo\", \"none\")}\\n\"\n}\n")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	status := filepath.Join(h.Settings.root(), "var/lib/dpkg/status")
	os.MkdirAll(filepath.Dir(status), 0o755)
	install := func(v string) {
		os.WriteFile(status, []byte("Package: foo\nStatus: install ok installed\nArchitecture: all\nVersion: "+v+"\n\n"), 0o644)
	}
	install("1.0")
	step := func(wantCached bool) string {
		t.Helper()
		c, err := h.compileToApply("HEAD")
		if err != nil {
			t.Fatal(err)
		}
		if c.Cached != wantCached {
			t.Fatalf("cached %v, want %v", c.Cached, wantCached)
		}
		if _, err := h.Apply(context.Background(), ApplyOptions{Force: true}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		got, _ := os.ReadFile(filepath.Join(h.Settings.root(), "etc/v"))
		return string(got)
	}
	if got := step(false); got != "1.0\n" {
		t.Fatalf("/etc/v = %q", got)
	}
	if got := step(true); got != "1.0\n" {
		t.Fatalf("/etc/v = %q", got)
	}
	install("2.0")
	if got := step(false); got != "2.0\n" {
		t.Fatalf("after foo 2.0 was installed /etc/v = %q", got)
	}
	if got := step(true); got != "2.0\n" {
		t.Fatalf("/etc/v = %q", got)
	}
}

// Over random commits and rollbacks, each applied with the state's caches
// (resolved trees saved and loaded, compiled lists reused), the list the
// host applies is, byte for byte, a fresh compile's of that commit.
func TestCachedAppliesEqualFreshCompiles(t *testing.T) {
	site := "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n  exclude = [\"*.tmp\"]\n}\n" +
		"tree \"bin\" {\n  path = \"/etc/wbin\"\n  source = \"www/d1\"\n  mode = \"0600\"\n}\n"
	dir := testCheckout(t, site)
	rnd := rand.New(rand.NewPCG(5, 6))
	write := func(p, data string) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(data), 0o644)
	}
	for i := 0; i < 60; i++ {
		write(fmt.Sprintf("www/d%d/f%d", i%4, i), fmt.Sprintf("v0 %d\n", i%25))
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "r0")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for round := 0; round < 16; round++ {
		if round > 0 {
			for j := 0; j < 1+rnd.IntN(5); j++ {
				n := rnd.IntN(60)
				p := fmt.Sprintf("www/d%d/f%d", n%4, n)
				switch rnd.IntN(5) {
				case 0:
					write(p, fmt.Sprintf("v%d %d\n", round, n%10))
				case 1:
					os.Remove(filepath.Join(dir, p))
				case 2:
					os.Chmod(filepath.Join(dir, p), 0o755)
				case 3:
					l := filepath.Join(dir, fmt.Sprintf("www/d%d/l%d", n%4, n%3))
					os.Remove(l)
					os.Symlink(fmt.Sprintf("f%d", n), l)
				case 4:
					write(fmt.Sprintf("www/d%d/x%d.tmp", n%4, n), "scratch\n")
				}
			}
			gitIn(t, dir, "add", "-A")
			gitIn(t, dir, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("r%d", round))
		}
		commits = append(commits, strings.TrimSpace(gitOut(t, dir, "rev-parse", "HEAD")))
		rev := commits[len(commits)-1]
		if round > 2 && rnd.IntN(3) == 0 {
			rev = commits[rnd.IntN(len(commits))]
		}
		if _, err := h.Apply(context.Background(), ApplyOptions{Rev: rev, Deliberate: true}); err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, out.String())
		}
		g, err := e.Current()
		if err != nil {
			t.Fatal(err)
		}
		applied, err := g.Steps()
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := h.Compile(rev)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := stepfmt.Format(applied), stepfmt.Format(fresh.List); !bytes.Equal(a, b) {
			t.Fatalf("round %d: the applied list of %s differs from a fresh compile's:\n%s\nvs\n%s", round, rev, a, b)
		}
	}
	if n := len(h.loadTrees().at); n == 0 {
		t.Fatal("no resolved trees were saved")
	}
}

// An entry whose generation's step list gc pruned is a compile, and the
// apply then works as without the cache.
func TestCompiledCacheAfterGC(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/motd\" {\n  content = \"one\\n\"\n}\n")
	a := strings.TrimSpace(gitOut(t, dir, "rev-parse", "HEAD"))
	commitSite(t, dir, "file \"/etc/motd\" {\n  content = \"two\\n\"\n}\n", "two")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, rev := range []string{a, "HEAD"} {
		if _, err := h.Apply(context.Background(), ApplyOptions{Rev: rev, Deliberate: true}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	if c, err := h.compileToApply(a); err != nil || !c.Cached {
		t.Fatalf("before gc: cached %v, %v", c != nil && c.Cached, err)
	}
	e, _ := h.Engine()
	if _, err := e.GC(1, false); err != nil {
		t.Fatal(err)
	}
	if c, err := h.compileToApply(a); err != nil || c.Cached {
		t.Fatalf("after gc pruned its list: cached %v, %v", c != nil && c.Cached, err)
	}
	if _, err := h.Apply(context.Background(), ApplyOptions{Rev: a, Deliberate: true}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got, _ := os.ReadFile(filepath.Join(h.Settings.root(), "etc/motd")); string(got) != "one\n" {
		t.Fatalf("/etc/motd = %q after the rollback", got)
	}
}
