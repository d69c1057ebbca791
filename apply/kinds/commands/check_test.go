package commands_test

import (
	"os"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
)

func TestCheckPassesAndReports(t *testing.T) {
	sb := engine.New(t)
	ev := sb.Record()
	sb.Apply(engine.Anchors+"FILE /srv/f {f}\nCHECK f run=\"cat srv/f\" timeout=5s", "c1")
	ch := ev.Of(apply.EventCheck)
	if len(ch) != 1 || ch[0].Result != apply.ResultOK || ch[0].Source != "test.steps:4" || !strings.Contains(ch[0].Detail, "output: f") {
		t.Fatalf("check events = %+v", ch)
	}
}

// A failing check fails the apply, and every change of that apply is
// undone: the files it wrote and the users it made.
func TestCheckFailureRollsBackTheApply(t *testing.T) {
	sb := engine.NewAccounts(t, true)
	ev := sb.Record()
	sb.Write("/srv/keep", "old", 0o644)
	sb.Apply(engine.Anchors+"FILE /srv/keep {v1}", "c1")
	old := sandbox.Snapshot(t, sb.Dir)
	g, err := sb.ApplyErr(engine.Anchors+"FILE /srv/keep {v2}\nFILE /srv/new {n}\nUSER carol\nCHECK health run=\"echo unhealthy; exit 1\" timeout=5s", "c2")
	if err == nil || g.Result != apply.ResultFailed || g.ErrorSource != "test.steps:6" || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("apply = %+v, %v; want failed at the check test.steps:6", g, err)
	}
	// the home useradd made is left, as every reverse of a user leaves it
	if err := removeAllHost(sb, "/home/carol"); err != nil {
		t.Fatal(err)
	}
	sb.RemoveToolFiles()
	if now := sandbox.Snapshot(t, sb.Dir); now != old {
		t.Fatalf("root after the failed check:\n%s\nwant:\n%s", now, old)
	}
	ch := ev.Of(apply.EventCheck)
	if len(ch) != 1 || ch[0].Result != apply.ResultFailed || ch[0].Source != "test.steps:6" || ch[0].Err == nil {
		t.Fatalf("check events = %+v", ch)
	}
	if cur, _ := sb.E.Current(); cur == nil || cur.Commit != "c1" {
		t.Fatalf("current = %+v, want c1", cur)
	}
}

func TestCheckRetriesAndTimeout(t *testing.T) {
	cases := map[string]struct {
		check string
		ok    bool
		want  string
	}{
		"passes at the third attempt": {`CHECK c run="echo x >> n; test $(wc -l < n) -ge 3" retries=2 interval=10ms timeout=5s`, true, "passed at attempt 3 of 3"},
		"too few retries":             {`CHECK c run="echo x >> n; test $(wc -l < n) -ge 3" retries=1 interval=10ms timeout=5s`, false, "failed after 2 attempt(s)"},
		"timeout":                     {`CHECK c run="sleep 30" timeout=100ms`, false, "timed out after 100ms"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.New(t)
			ev := sb.Record()
			_, err := sb.ApplyErr(engine.Anchors+tc.check, "c1")
			if (err == nil) != tc.ok {
				t.Fatalf("apply error = %v, want ok=%v", err, tc.ok)
			}
			ch := ev.Of(apply.EventCheck)
			if len(ch) != 1 {
				t.Fatalf("check events = %+v", ch)
			}
			text := ch[0].Detail
			if ch[0].Err != nil {
				text += " " + ch[0].Err.Error()
			}
			if !strings.Contains(text, tc.want) {
				t.Fatalf("check event %q lacks %q", text, tc.want)
			}
		})
	}
}

func removeAllHost(sb *engine.Sandbox, p string) error { return os.RemoveAll(sb.Host(p)) }
