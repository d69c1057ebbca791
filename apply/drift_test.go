package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
)

func TestDriftList(t *testing.T) {
	sb := newSandbox(t)
	sb.apply(`DIR /srv/app mode=0750
FILE /srv/app/conf {v=1} mode=0640 drift=heal
FILE /srv/app/loose {free}
FILE /srv/app/same {same} drift=ignore
LINK /srv/app/cur conf
DIR /srv/app/cache
FILE /etc/motd {hello} owner=alice`, "c1")
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("fresh apply drifted: %v %v", d, err)
	}
	time.Sleep(60 * time.Millisecond) // past the racy window
	sb.write("/srv/app/conf", "v=2", 0o640)
	os.Chmod(sb.host("/srv/app/loose"), 0o600) // mode not managed: no drift
	sb.write("/srv/app/same", "changed", 0o644)
	os.Remove(sb.host("/srv/app/cur"))
	os.Symlink("elsewhere", sb.host("/srv/app/cur"))
	os.Remove(sb.host("/srv/app/cache"))
	os.Chown(sb.host("/etc/motd"), 1001, 1000)
	os.Chmod(sb.host("/srv/app"), 0o755)
	d, err := sb.e.Drift()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range d {
		got = append(got, x.ID.String()+" "+x.Policy+" "+strings.Join(x.Changed, ","))
	}
	sort.Strings(got)
	want := []string{
		"DIR /srv/app report mode",
		"DIR /srv/app/cache report state",
		"FILE /etc/motd report uid",
		"FILE /srv/app/conf heal content",
		"FILE /srv/app/same ignore content",
		"LINK /srv/app/cur report to",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, x := range d {
		if x.ID.Target == "/srv/app/conf" && (x.Wrote.Value("content") != kind.HashKey([]byte("v=1")) || x.Now.Value("content") != kind.HashKey([]byte("v=2"))) {
			t.Fatalf("conf drift hashes: wrote %s now %s", x.Wrote, x.Now)
		}
	}
}

// The drift check trusts the index for a file whose stat did not change,
// and hashes again one changed within the racy window of the index.
func TestDriftIndex(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}", "c1")
	time.Sleep(2 * state.RacyWindow)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c2")
	time.Sleep(60 * time.Millisecond)
	if d, _ := sb.e.Drift(); len(d) != 0 {
		t.Fatalf("drift right after apply: %v", d)
	}
	ix := state.LoadIndex(sb.e.path(state.FileIndex))
	if ix.Len() != 2 {
		t.Fatalf("index has %d entries, want 2", ix.Len())
	}
	// Lie in the index about /etc/a (stat unchanged, hash wrong) and make
	// /etc/b's entry racy (its ctime as recent as the index): the check
	// believes the first and re-reads the second.
	wrong := kind.HashKey([]byte("not a"))
	ea, _ := ix.Entry("/etc/a")
	ea.Key = wrong
	eb, _ := ix.Entry("/etc/b")
	eb.Key = wrong
	if err := errors.Join(ix.Set("/etc/a", ea), ix.Set("/etc/b", eb)); err != nil {
		t.Fatal(err)
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(sb.e.path(state.FileIndex))
	_, body, _ := strings.Cut(string(data), "\n")
	asOf := strconv.FormatInt(eb.Ctime+int64(state.RacyWindow/2), 10)
	os.WriteFile(sb.e.path(state.FileIndex), []byte("TRAIL-INDEX v1 asof="+asOf+"\n"+body), 0o600)
	d, err := sb.e.Drift()
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || d[0].ID.Target != "/etc/a" {
		t.Fatalf("drift = %+v; want only /etc/a (trusted from the index)", d)
	}
}

// A drifted target is saved to the store before an apply overwrites or
// removes it, and the drift is reported with both hashes.
func TestDriftSavedOnApply(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.write("/etc/issue", "origin", 0o644)
	sb.apply("FILE /etc/motd {m1}\nFILE /etc/issue {i1}", "c1")
	sb.write("/etc/motd", "edited by hand", 0o644)
	sb.write("/etc/issue", "also edited", 0o644)
	g := sb.apply("FILE /etc/motd {m2}", "c2")
	if sb.read("/etc/motd") != "m2" || sb.read("/etc/issue") != "origin" {
		t.Fatal("apply did not overwrite the drifted file and restore the removed one")
	}
	for _, content := range []string{"edited by hand", "also edited"} {
		if b, err := sb.e.Store().Get(kind.HashKey([]byte(content))); err != nil || string(b) != content {
			t.Fatalf("drifted content %q not saved: %v", content, err)
		}
	}
	if g.Counts.Drifted != 2 || len(g.Drift) != 2 {
		t.Fatalf("generation drift = %+v", g.Drift)
	}
	drifts := ev.of(EventDrift)
	if len(drifts) != 2 {
		t.Fatalf("%d drift events, want 2", len(drifts))
	}
	for _, x := range drifts {
		if !strings.Contains(x.Detail, "sha256:") || x.Source == "" {
			t.Fatalf("drift event without hashes or source: %+v", x)
		}
	}
	for _, n := range g.Drift {
		if n.Step == "FILE /etc/motd" && (!strings.Contains(n.Before, kind.HashKey([]byte("m1"))) || !strings.Contains(n.After, kind.HashKey([]byte("edited by hand")))) {
			t.Fatalf("drift note = %+v", n)
		}
	}
}

func TestHeal(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.apply("FILE /etc/healed {good} mode=0644 drift=heal\nFILE /etc/reported {good}\nDIR /srv/h mode=0750 drift=heal", "c1")
	if g, err := sb.e.Heal(context.Background()); g != nil || err != nil {
		t.Fatalf("heal with nothing drifted: %v, %v", g, err)
	}
	sb.write("/etc/healed", "bad", 0o600)
	sb.write("/etc/reported", "bad", 0o644)
	os.Chmod(sb.host("/srv/h"), 0o777)
	g, err := sb.e.Heal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.Commit != "c1" || g.Counts.Modified != 2 || g.Result != ResultOK {
		t.Fatalf("heal generation = %+v", g)
	}
	sb.fs().WantFile("/etc/healed", "good", 0o644, 0, 0)
	sb.fs().WantDir("/srv/h", 0o750, 0, 0)
	if sb.read("/etc/reported") != "bad" {
		t.Fatal("a drift=report target was healed")
	}
	if b, err := sb.e.Store().Get(kind.HashKey([]byte("bad"))); err != nil || string(b) != "bad" {
		t.Fatal("the drifted content was not saved before healing")
	}
	if n := len(ev.of(EventHeal)); n != 2 {
		t.Fatalf("%d heal events, want 2", n)
	}
	d, _ := sb.e.Drift()
	if len(d) != 1 || d[0].ID.Target != "/etc/reported" {
		t.Fatalf("drift after heal = %+v", d)
	}
}

// A drift check of an engine that holds no parsed record reads the
// applied record line by line and keeps none of it; the next check keeps
// it parsed. Either way the index keeps the managed files, a changed one
// hashed anew, and drops what is not managed.
func TestDriftStreamed(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	ix := state.LoadIndex(sb.e.path(state.FileIndex))
	ea, _ := ix.Entry("/etc/a")
	if err := ix.Set("/etc/gone", ea); err != nil {
		t.Fatal(err)
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // past the racy window
	sb.write("/etc/b", "c", 0o644)    // the size trail wrote: hashed
	sb.open()
	for i, kept := range []bool{false, true} {
		d, err := sb.e.Drift()
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != 1 || d[0].ID.Target != "/etc/b" {
			t.Fatalf("check %d: drift %v, want /etc/b", i, d)
		}
		if (sb.e.cache.applied != nil) != kept {
			t.Fatalf("check %d: the parsed record is kept: %v, want %v", i, sb.e.cache.applied != nil, kept)
		}
		ix := state.LoadIndex(sb.e.path(state.FileIndex))
		if _, ok := ix.Entry("/etc/gone"); ok || ix.Len() != 2 {
			t.Fatalf("check %d: index has %d entries (/etc/gone: %v), want /etc/a and /etc/b", i, ix.Len(), ok)
		}
		if e, _ := ix.Entry("/etc/b"); e.Key != kind.HashKey([]byte("c")) {
			t.Fatalf("check %d: index has %s for /etc/b, want the changed content's hash", i, e.Key)
		}
	}
}

// A long-lived engine (trail watch) that keeps the applied record open
// and parsed reads the new one once another process's apply replaced it,
// not the old file it still holds open.
func TestDriftSeesAnotherApply(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}", "c1")
	w, err := Open(sb.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 2 {
		if d, err := w.Drift(); err != nil || len(d) != 0 {
			t.Fatalf("drift %v, %v; want none", d, err)
		}
	}
	if w.cache.applied == nil {
		t.Fatal("the watching engine keeps no record: the test would not test it")
	}
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c2")
	sb.write("/etc/b", "changed", 0o644)
	d, err := w.Drift()
	if err != nil || len(d) != 1 || d[0].ID.Target != "/etc/b" {
		t.Fatalf("drift %v, %v; want /etc/b, which the other apply wrote", d, err)
	}
}

// An apply that writes a few files over an index it loaded leaves the
// index file as it is; the drift check after it hashes those files, finds no
// drift, and saves their entries.
func TestApplyLeavesIndexBehind(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	file := sb.e.path(state.FileIndex)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sb.open() // a new process, as each pull's hook is
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b2}", "c2")
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatalf("an apply of one file wrote the index:\n%s\nbefore:\n%s", after, before)
	}
	time.Sleep(2 * state.RacyWindow)
	sb.open()
	if d, err := sb.e.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift %v, %v; want none", d, err)
	}
	if e, ok := state.LoadIndex(file).Entry("/etc/b"); !ok || e.Key != kind.HashKey([]byte("b2")) {
		t.Fatalf("after the drift check the index has %+v, %v for /etc/b, want the new content's hash", e, ok)
	}
}

// A list the caller read from the applied generation (Meta.ReadFrom, a
// compile taken from the cache) is that generation's list without being
// printed to compare: forced, it puts back what drifted and nothing else;
// not forced, it is the no-op path.
func TestApplyReadFromApplied(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	g, err := sb.e.Current()
	if err != nil {
		t.Fatal(err)
	}
	l, err := g.Steps()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if g2, err := sb.e.Apply(ctx, l, Meta{Commit: "c1", ReadFrom: g.Number}); err != nil || !g2.NoOp {
		t.Fatalf("the applied list again: %+v, %v; want the no-op", g2, err)
	}
	sb.write("/etc/b", "hand edit", 0o644)
	g3, err := sb.e.Apply(ctx, l, Meta{Commit: "c1", ReadFrom: g.Number, Force: true})
	if err != nil || g3.Counts.Modified != 1 || g3.Counts.Unchanged != 1 {
		t.Fatalf("forced: %+v, %v; want /etc/b put back, /etc/a unchanged", g3, err)
	}
	if data := sb.read("/etc/b"); data != "b" {
		t.Fatalf("/etc/b holds %q after the forced apply", data)
	}
}

// A forced apply with Meta.Fetch asks it for the contents its changes
// need that the store lacks, and only those: nothing drifted, nothing is
// asked; a fetch that fails is the plan's error, which says what was
// missing, and nothing is changed.
func TestApplyFetchesWhatDriftNeeds(t *testing.T) {
	sb := newSandbox(t)
	sb.apply("FILE /etc/a {a}\nFILE /etc/b {b}", "c1")
	g, err := sb.e.Current()
	if err != nil {
		t.Fatal(err)
	}
	l, err := g.Steps()
	if err != nil {
		t.Fatal(err)
	}
	key := kind.HashKey([]byte("b"))
	if err := os.Remove(sb.e.Store().Path(key)); err != nil {
		t.Fatal(err)
	}
	var asked [][]string
	data := map[string][]byte{key: []byte("b")}
	fetch := func(keys []string) error {
		asked = append(asked, keys)
		for _, k := range keys {
			d, ok := data[k]
			if !ok {
				return fmt.Errorf("no content %s", k)
			}
			if _, err := sb.e.Store().Stage(bytes.NewReader(d)); err != nil {
				return err
			}
		}
		return sb.e.Store().Flush()
	}
	ctx := context.Background()
	meta := Meta{Commit: "c1", ReadFrom: g.Number, Force: true, Fetch: fetch}
	if g2, err := sb.e.Apply(ctx, l, meta); err != nil || !g2.NoOp || len(asked) != 0 {
		t.Fatalf("nothing drifted: %+v, %v, asked %v; want the no-op, nothing asked", g2, err, asked)
	}

	sb.write("/etc/b", "hand edit", 0o644)
	delete(data, key)
	_, err = sb.e.Apply(ctx, l, meta)
	if err == nil || !strings.Contains(err.Error(), "missing from the store") || !strings.Contains(err.Error(), "no content "+key) {
		t.Fatalf("a fetch that fails: %v; want an error naming the content", err)
	}
	if got := sb.read("/etc/b"); got != "hand edit" {
		t.Fatalf("a refused forced apply changed /etc/b to %q", got)
	}

	asked, data[key] = nil, []byte("b")
	g3, err := sb.e.Apply(ctx, l, meta)
	if err != nil || g3.Counts.Modified != 1 || len(asked) != 1 || len(asked[0]) != 1 || asked[0][0] != key {
		t.Fatalf("forced: %+v, %v, asked %v; want /etc/b put back with its content fetched", g3, err, asked)
	}
	if got := sb.read("/etc/b"); got != "b" {
		t.Fatalf("/etc/b holds %q after the forced apply", got)
	}
}

// Only the applied generation's own list goes unvalidated: a list said
// to be read from another generation, or from none, is validated, and an
// invalid one is refused.
func TestApplyValidatesAListNotTheApplied(t *testing.T) {
	sb := newSandbox(t)
	g1 := sb.apply("FILE /etc/a {a}", "c1")
	sb.apply("FILE /etc/a {b}", "c2")
	bad := sb.list("FILE /etc/a {a}\nFILE /etc/a {c}")
	for _, from := range []int{0, g1.Number} {
		_, err := sb.e.Apply(context.Background(), bad, Meta{Commit: "c3", ReadFrom: from, Force: true})
		if err == nil || !strings.Contains(err.Error(), "managed twice") {
			t.Fatalf("ReadFrom %d: %v; want the list refused as invalid", from, err)
		}
	}
	if got := sb.read("/etc/a"); got != "b" {
		t.Fatalf("/etc/a holds %q after the refusals", got)
	}
}

// A forced apply that finds nothing to change but hashed many files again
// (touched, not changed) saves the drift index with their new stats, so
// the next one does not hash them again; it writes no generation.
func TestForceSavesRehashedIndex(t *testing.T) {
	sb := newSandbox(t)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "FILE /etc/f%d {%d}\n", i, i)
	}
	list := b.String()
	g := sb.apply(list, "c1")
	time.Sleep(2 * state.RacyWindow)
	for i := range 100 {
		if err := os.Chmod(sb.host(fmt.Sprintf("/etc/f%d", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sb.open()
	g2, err := sb.e.Apply(context.Background(), sb.list(list), Meta{Commit: "c1", Force: true})
	if err != nil || !g2.NoOp || g2.Number != g.Number {
		t.Fatalf("forced: %+v, %v; want the no-op of generation %d", g2, err, g.Number)
	}
	ix := state.LoadIndex(sb.e.path(state.FileIndex))
	for i := range 100 {
		p := fmt.Sprintf("/etc/f%d", i)
		e, ok := ix.Entry(p)
		if st := sb.stat(p); !ok || e.Ctime != st.Ctim.Nano() {
			t.Fatalf("%s: the index has %+v, %v; want its stat now (ctime %d)", p, e, ok, st.Ctim.Nano())
		}
	}
}
