package apply

import (
	"os"
	"strings"
	"testing"
)

func TestCheckPassesAndReports(t *testing.T) {
	sb := newSandbox(t)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.apply(anchors+"FILE /srv/f {f}\nCHECK f run=\"cat srv/f\" timeout=5s", "c1")
	ch := ev.of(EventCheck)
	if len(ch) != 1 || ch[0].Result != ResultOK || ch[0].Source != "test.steps:4" || !strings.Contains(ch[0].Detail, "output: f") {
		t.Fatalf("check events = %+v", ch)
	}
}

// A failing check fails the apply, and every change of that apply is
// undone: the files it wrote and the users it made.
func TestCheckFailureRollsBackTheApply(t *testing.T) {
	sb := acctSandbox(t, true)
	var ev events
	sb.opts.OnEvent = ev.add
	sb.open()
	sb.write("/srv/keep", "old", 0o644)
	sb.apply(anchors+"FILE /srv/keep {v1}", "c1")
	old := snapshot(t, sb.root)
	g, err := sb.applyErr(anchors+"FILE /srv/keep {v2}\nFILE /srv/new {n}\nUSER carol\nCHECK health run=\"echo unhealthy; exit 1\" timeout=5s", "c2")
	if err == nil || g.Result != ResultFailed || g.ErrorSource != "test.steps:6" || !strings.Contains(err.Error(), "unhealthy") {
		t.Fatalf("apply = %+v, %v; want failed at the check test.steps:6", g, err)
	}
	// the home useradd made is left, as every reverse of a user leaves it
	if err := removeAllHost(sb, "/home/carol"); err != nil {
		t.Fatal(err)
	}
	sb.removeToolFiles()
	if now := snapshot(t, sb.root); now != old {
		t.Fatalf("root after the failed check:\n%s\nwant:\n%s", now, old)
	}
	ch := ev.of(EventCheck)
	if len(ch) != 1 || ch[0].Result != ResultFailed || ch[0].Source != "test.steps:6" || ch[0].Err == nil {
		t.Fatalf("check events = %+v", ch)
	}
	if cur, _ := sb.e.Current(); cur == nil || cur.Commit != "c1" {
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
			sb := newSandbox(t)
			var ev events
			sb.opts.OnEvent = ev.add
			sb.open()
			_, err := sb.applyErr(anchors+tc.check, "c1")
			if (err == nil) != tc.ok {
				t.Fatalf("apply error = %v, want ok=%v", err, tc.ok)
			}
			ch := ev.of(EventCheck)
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

func removeAllHost(sb *sandbox, p string) error { return os.RemoveAll(sb.host(p)) }
