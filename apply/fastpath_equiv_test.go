package apply

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/internal/lineedit"
	"trail/stepfmt"
)

// Quoted targets of the list below: what stepfmt quotes (a space, a
// quote, a backslash, a newline, a tab, bytes that are not UTF-8) and
// what only the step language does ('=' and '#', bare in the record).
var quotedNames = []string{
	"/srv/app/with space", `/srv/app/q"uote`, `/srv/app/back\slash`, "/srv/app/new\nline",
	"/srv/app/tab\tname", "/srv/app/\xff\xfebytes", "/srv/app/a=b#c",
}

// secretText is the plaintext of fastList's secret, found nowhere else.
const secretText = "s3cr3t-pw 7f1e\n"

// fastList is a list of every path kind, with secrets, drift policies and
// the quoted names, in the step language.
func fastList(ss *secretSandbox, edit string) string {
	var b strings.Builder
	b.WriteString(`DIR /srv/app mode=0750 owner=alice group=staff
FILE /srv/app/conf {v=1} mode=0640 owner=bob group=staff drift=heal
FILE /srv/app/loose {free}
FILE /srv/app/same {same} drift=ignore
FILE /srv/app/report {report} drift=report
LINK /srv/app/cur conf
LINK "/srv/app/link space" "to a space"
DIR /srv/app/cache
DIR "/srv/app/dir space" mode=0700
FILE /srv/app/nomode {plain}
`)
	fmt.Fprintf(&b, "EDIT /etc/ssh/sshd_config %s\n", edit)
	b.WriteString("ATTRS /etc/shadowish mode=0640 owner=alice\n")
	fmt.Fprintf(&b, "DIR /etc/app\nFILE /etc/app/db.pass %s secret=age mode=0600 drift=heal\n", ss.secret(secretText))
	for i, n := range quotedNames {
		fmt.Fprintf(&b, "FILE %s {q%d} mode=0644\n", stepfmt.Quote(n), i)
	}
	return b.String()
}

// longDrift is Drift's answer the long way: the applied record parsed
// whole, each target's kind's Drift compared with what trail wrote.
func longDrift(t *testing.T, e *Engine) ([]string, error) {
	t.Helper()
	x := e.newExec()
	var out []string
	_, err := state.EachRecord(e.path(state.FileApplied), func(rec *kind.Record) error {
		row := handlerOf(rec.ID.Kind)
		if row == nil {
			return nil
		}
		now, err := row.h.Drift(x, rec.ID.Target, rec.Wrote)
		if err != nil {
			out = append(out, driftLine(Drift{ID: rec.ID, Policy: rec.Policy, Err: err}))
		} else if !now.Equal(rec.Wrote) {
			out = append(out, driftLine(Drift{ID: rec.ID, Policy: rec.Policy, Wrote: rec.Wrote, Now: now, Changed: changed(rec.Wrote, now)}))
		}
		return nil
	})
	return out, err
}

func driftLine(d Drift) string {
	if d.Err != nil {
		return d.ID.String() + " " + d.Policy + " cannot read"
	}
	return fmt.Sprintf("%s %s %v now %s", d.ID, d.Policy, d.Changed, d.Now)
}

func driftLines(ds []Drift) []string {
	var out []string
	for _, d := range ds {
		out = append(out, driftLine(d))
	}
	return out
}

// Status (Drift, the record read as text and most targets compared by
// their kind's Matcher) and a --force of the applied commit
// (ForceMatches) answer as the long path does, the record parsed whole and
// every target's Drift run, for every path kind, secrets, drift policies,
// quoted names, and each way a target drifts; also with the drift index
// gone, torn or racily clean, the record's index gone, torn or
// damaged, and store contents lost or emptied. The forced Apply
// then puts back everything, after which both fast paths find nothing.
func TestFastPathsAnswerAsTheLongPath(t *testing.T) {
	type sb = secretSandbox
	replace := func(s *sb, p string, with func(h string)) {
		os.RemoveAll(s.host(p))
		with(s.host(p))
	}
	cases := []struct {
		name  string
		racy  bool
		drift func(s *sb)
		// same: the drift is of nothing the list manages; fails: the
		// forced Apply cannot put it back.
		same, fails bool
		// corrupt: a content the store holds is damaged; a file hashed
		// again is then measured against its size, which the long path
		// and status alike may take for a drift (a racily clean entry):
		// the forced Apply is not compared.
		corrupt bool
	}{
		{name: "nothing"},
		{name: "nothing, racily clean", racy: true},
		{name: "touched", drift: func(s *sb) {
			now := time.Now()
			for _, p := range append([]string{"/srv/app/conf", "/etc/app/db.pass", "/etc/ssh/sshd_config"}, quotedNames...) {
				os.Chtimes(s.host(p), now, now)
			}
		}},
		{name: "content same size", drift: func(s *sb) { s.write("/srv/app/conf", "v=2", 0o640); os.Chown(s.host("/srv/app/conf"), 1001, 50) }},
		{name: "content other size", drift: func(s *sb) { s.write("/srv/app/loose", "freedom", 0o644) }},
		{name: "content racily clean", racy: true, drift: func(s *sb) { s.write("/srv/app/loose", "FREE", 0o644) }},
		{name: "content, ignore", drift: func(s *sb) { s.write("/srv/app/same", "SAME", 0o644) }},
		{name: "content, report", drift: func(s *sb) { s.write("/srv/app/report", "REPORT", 0o644) }},
		{name: "mode of a file", drift: func(s *sb) { os.Chmod(s.host("/srv/app/conf"), 0o600) }},
		{name: "setuid bit", drift: func(s *sb) { os.Chmod(s.host("/srv/app/conf"), os.ModeSetuid|0o640) }},
		{name: "mode not managed", same: true, drift: func(s *sb) { os.Chmod(s.host("/srv/app/nomode"), 0o600) }},
		{name: "mode of a directory", drift: func(s *sb) { os.Chmod(s.host("/srv/app"), 0o755) }},
		{name: "owner", drift: func(s *sb) { os.Chown(s.host("/srv/app/conf"), 1000, 50) }},
		{name: "group", drift: func(s *sb) { os.Chown(s.host("/srv/app/conf"), 1001, 1001) }},
		{name: "owner of a directory", drift: func(s *sb) { os.Chown(s.host("/srv/app"), 1001, 50) }},
		{name: "missing file", drift: func(s *sb) { os.Remove(s.host("/srv/app/loose")) }},
		{name: "missing directory", drift: func(s *sb) { os.Remove(s.host("/srv/app/cache")) }},
		{name: "file made a directory", drift: func(s *sb) { replace(s, "/srv/app/loose", func(h string) { os.Mkdir(h, 0o644) }) }},
		{name: "file made a link to itself", drift: func(s *sb) {
			s.write("/srv/app/copy", "free", 0o644)
			replace(s, "/srv/app/loose", func(h string) { os.Symlink("copy", h) })
		}},
		{name: "directory made a link", drift: func(s *sb) {
			os.Mkdir(s.host("/srv/other"), 0o700)
			replace(s, "/srv/app/dir space", func(h string) { os.Symlink("/srv/other", h) })
		}},
		{name: "directory made a file", drift: func(s *sb) { replace(s, "/srv/app/cache", func(h string) { os.WriteFile(h, nil, 0o755) }) }},
		{name: "parent made a link", drift: func(s *sb) {
			os.Rename(s.host("/etc/app"), s.host("/etc/app2"))
			os.Symlink("app2", s.host("/etc/app"))
		}},
		{name: "link moved", drift: func(s *sb) { replace(s, "/srv/app/cur", func(h string) { os.Symlink("elsewhere", h) }) }},
		{name: "quoted link moved", drift: func(s *sb) { replace(s, "/srv/app/link space", func(h string) { os.Symlink("to a space ", h) }) }},
		{name: "link made a file", drift: func(s *sb) { replace(s, "/srv/app/cur", func(h string) { os.WriteFile(h, []byte("conf"), 0o644) }) }},
		{name: "edit undone", drift: func(s *sb) { s.write("/etc/ssh/sshd_config", "#PermitRootLogin prohibit-password\n", 0o644) }},
		{name: "edit's mode", same: true, drift: func(s *sb) { os.Chmod(s.host("/etc/ssh/sshd_config"), 0o600) }},
		{name: "attrs mode", drift: func(s *sb) { os.Chmod(s.host("/etc/shadowish"), 0o644) }},
		{name: "attrs owner", drift: func(s *sb) { os.Chown(s.host("/etc/shadowish"), 1001, 0) }},
		{name: "attrs file gone", fails: true, drift: func(s *sb) { os.Remove(s.host("/etc/shadowish")) }},
		{name: "secret content", drift: func(s *sb) { s.write("/etc/app/db.pass", "S3CR3T-PW\n", 0o600) }},
		{name: "secret mode", drift: func(s *sb) { os.Chmod(s.host("/etc/app/db.pass"), 0o644) }},
		{name: "secret gone", drift: func(s *sb) { os.Remove(s.host("/etc/app/db.pass")) }},
		{name: "quoted contents", drift: func(s *sb) {
			for i, n := range quotedNames {
				s.write(n, fmt.Sprintf("Q%d", i), 0o644)
			}
		}},
		{name: "quoted modes", drift: func(s *sb) {
			for _, n := range quotedNames {
				os.Chmod(s.host(n), 0o600)
			}
		}},
		{name: "index gone", drift: func(s *sb) {
			os.Remove(s.e.path(state.FileIndex))
			s.write("/srv/app/conf", "v=3", 0o640)
		}},
		{name: "index torn", drift: func(s *sb) {
			f := s.e.path(state.FileIndex)
			data, _ := os.ReadFile(f)
			os.WriteFile(f, data[:len(data)*2/3], 0o600)
			s.write("/srv/app/\xff\xfebytes", "Q5", 0o644)
		}},
		{name: "index garbage", drift: func(s *sb) {
			os.WriteFile(s.e.path(state.FileIndex), []byte("not an index\n\x00\xff"), 0o600)
		}},
		{name: "record index gone, a drift", drift: func(s *sb) {
			if err := os.Remove(s.e.path(state.FileAppliedIndex)); err != nil {
				s.t.Fatal(err)
			}
			s.write("/srv/app/conf", "v=4", 0o640)
		}},
		{name: "record index torn, a drift", drift: func(s *sb) {
			f := s.e.path(state.FileAppliedIndex)
			data, err := os.ReadFile(f)
			if err != nil || len(data) < 64 {
				s.t.Fatalf("no record index to tear: %v", err)
			}
			os.WriteFile(f, data[:len(data)/2], 0o600)
			os.Chmod(s.host("/srv/app/a=b#c"), 0o600)
		}},
		{name: "record index stale, a drift", drift: func(s *sb) {
			f := s.e.path(state.FileAppliedIndex)
			data, err := os.ReadFile(f)
			if err != nil || len(data) < 64 {
				s.t.Fatalf("no record index to damage: %v", err)
			}
			for i := len(data) / 2; i < len(data); i++ {
				data[i] ^= 0x5a
			}
			os.WriteFile(f, data, 0o600)
			os.Remove(s.host("/srv/app/new\nline"))
		}},
		{name: "store contents lost", drift: func(s *sb) {
			for _, c := range []string{"free", "q3", "v=1"} {
				k, _ := s.e.Store().Put([]byte(c))
				os.Remove(s.e.Store().Path(k))
			}
		}},
		{name: "store content emptied", corrupt: true, drift: func(s *sb) {
			k, _ := s.e.Store().Put([]byte("same"))
			os.Truncate(s.e.Store().Path(k), 0)
		}},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSecretSandbox(t)
			s.write("/etc/ssh/sshd_config", "#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n", 0o644)
			s.write("/etc/shadowish", "x\n", 0o600)
			ek, err := s.e.Store().Put(lineedit.Format([]lineedit.Edit{{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}}))
			if err != nil {
				t.Fatal(err)
			}
			s.apply(fastList(s, ek), "c1")
			if !c.racy {
				time.Sleep(2 * state.RacyWindow)
			}
			if c.drift != nil {
				c.drift(s)
			}
			s.open() // a new process: nothing cached
			want, werr := longDrift(t, s.e)
			got, gerr := s.e.Drift()
			if (werr != nil) != (gerr != nil) || strings.Join(driftLines(got), "\n") != strings.Join(want, "\n") {
				t.Fatalf("status found\n%s\n(%v)\nthe long path\n%s\n(%v)", strings.Join(driftLines(got), "\n"), gerr, strings.Join(want, "\n"), werr)
			}
			if again, err := s.e.Drift(); err != nil || strings.Join(driftLines(again), "\n") != strings.Join(want, "\n") {
				t.Fatalf("a second status found\n%s\n(%v)\nthe long path\n%s", strings.Join(driftLines(again), "\n"), err, strings.Join(want, "\n"))
			}
			wantBlobs, werr := s.e.store.CheckBlobsOf(func(fn func(*kind.Record) error) error {
				_, err := state.EachRecord(s.e.path(state.FileApplied), fn)
				return err
			})
			gotBlobs, gerr := s.e.CheckBlobs()
			if fmt.Sprint(gotBlobs, gerr) != fmt.Sprint(wantBlobs, werr) {
				t.Fatalf("status's store check found %v, %v; the long path %v, %v", gotBlobs, gerr, wantBlobs, werr)
			}
			if strings.HasPrefix(c.name, "store") && len(wantBlobs) == 0 {
				t.Fatalf("the long path finds no store content lost")
			}
			if !c.same && c.name != "nothing" && c.name != "nothing, racily clean" && c.name != "touched" && !strings.HasPrefix(c.name, "index") && !strings.HasPrefix(c.name, "store") && len(want) == 0 {
				t.Fatalf("the long path finds no drift: the case drifts nothing")
			}
			s.open()
			g, err := s.e.Current()
			if err != nil {
				t.Fatal(err)
			}
			meta := Meta{Commit: "c1", ReadFrom: g.Number, Force: true}
			fg, _, ferr := s.e.ForceMatches(meta)
			if ferr != nil || (fg != nil) != (len(want) == 0 && werr == nil) {
				t.Fatalf("ForceMatches: %v, %v; the long path found %d drifted", fg, ferr, len(want))
			}
			if c.corrupt {
				return
			}
			l, err := g.Steps()
			if err != nil {
				t.Fatal(err)
			}
			ag, aerr := s.e.Apply(ctx, l, meta)
			canRead := !c.fails && !strings.Contains(strings.Join(want, "\n"), "cannot read")
			if (aerr == nil) != canRead {
				t.Fatalf("the forced Apply: %v, where the long path found\n%s", aerr, strings.Join(want, "\n"))
			}
			if aerr != nil {
				return
			}
			if ag.NoOp != (len(want) == 0) {
				t.Fatalf("the forced Apply's no-op is %v where the long path found %d drifted: %v", ag.NoOp, len(want), want)
			}
			s.open()
			if left, err := longDrift(t, s.e); err != nil || len(left) != 0 {
				t.Fatalf("after the forced Apply the long path finds %v, %v", left, err)
			}
			if d, err := s.e.Drift(); err != nil || len(d) != 0 {
				t.Fatalf("after the forced Apply status finds %v, %v", driftLines(d), err)
			}
			g2, _ := s.e.Current()
			if fg, _, err := s.e.ForceMatches(Meta{Commit: "c1", ReadFrom: g2.Number, Force: true}); err != nil || fg == nil {
				t.Fatalf("after the forced Apply, ForceMatches: %v, %v; want a match", fg, err)
			}
			if tr := append(s.stateTraces(secretText), traces(secretText, s.eventTexts())...); len(tr) > 0 {
				t.Fatalf("the secret's plaintext or its hash is in %v", tr)
			}
		})
	}
}
