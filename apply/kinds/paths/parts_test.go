package paths_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/internal/lineedit"
	"trail/stepfmt"
)

// sshdConfig stands for the file a package ships.
const sshdConfig = "#Port 22\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\nX11Forwarding yes\n"

// script puts an edit script in the store and returns its key.
func script(sb *engine.Sandbox, edits ...lineedit.Edit) string {
	sb.T.Helper()
	k, err := sb.E.Store().Put(lineedit.Format(edits))
	if err != nil {
		sb.T.Fatal(err)
	}
	return k
}

var (
	noRoot   = lineedit.Edit{Line: "PermitRootLogin no", Regexp: "^#?PermitRootLogin"}
	noPass   = lineedit.Edit{Line: "PasswordAuthentication no", Regexp: "^#?PasswordAuthentication"}
	noX11    = lineedit.Edit{Regexp: "^X11Forwarding", Absent: true}
	maxTries = lineedit.Edit{Line: "MaxAuthTries 3"}
)

// partsSandbox is a root holding a package's sshd_config, mode 0640
// group 50, that may remove everything it manages.
func partsSandbox(t *testing.T) *engine.Sandbox {
	sb := engine.New(t)
	sb.Opts.AllowMassRemoval = true
	sb.Open()
	sb.Write("/etc/ssh/sshd_config", sshdConfig, 0o640)
	if err := os.Chown(sb.Host("/etc/ssh/sshd_config"), 0, 50); err != nil {
		t.Fatal(err)
	}
	return sb
}

func TestEditForwardReverse(t *testing.T) {
	sb := partsSandbox(t)
	before := sandbox.Snapshot(t, sb.Dir)
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot, noPass, noX11, maxTries)), "c1")
	want := "#Port 22\nPermitRootLogin no\nPasswordAuthentication no\nMaxAuthTries 3\n"
	sb.WantFile("/etc/ssh/sshd_config", want, 0o640, 0, 50)
	if drift, err := sb.E.Drift(); err != nil || len(drift) != 0 {
		t.Fatalf("drift right after the apply: %v %v", drift, err)
	}
	// Applying it again writes nothing.
	mt := sandbox.Mtimes(t, sb.Dir)
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot, noPass, noX11, maxTries)), "c1")
	if after := sandbox.Mtimes(t, sb.Dir); fmt.Sprint(after) != fmt.Sprint(mt) {
		t.Fatal("applying the applied edits again touched the root")
	}
	sb.Apply("", "c2")
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatalf("the reverse did not give the package's file back exactly:\n%s\nwant:\n%s", after, before)
	}
}

// A changed script applies to the file as it was before trail, not to
// the file trail wrote: an edit dropped from the script is gone.
func TestEditModifyStartsFromOrigin(t *testing.T) {
	sb := partsSandbox(t)
	before := sandbox.Snapshot(t, sb.Dir)
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot, maxTries)), "c1")
	p, err := sb.E.Plan(sb.List(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noPass))))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Work[0].Changes, "; "); !strings.Contains(got, `line 3: "PasswordAuthentication yes" -> "PasswordAuthentication no"`) {
		t.Fatalf("the plan says %q", got)
	}
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noPass)), "c2")
	sb.WantFile("/etc/ssh/sshd_config", strings.Replace(sshdConfig, "PasswordAuthentication yes", "PasswordAuthentication no", 1), 0o640, 0, 50)
	sb.Apply("", "c3")
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatalf("the reverse did not give the package's file back:\n%s\nwant:\n%s", after, before)
	}
}

// A package upgrade that replaced the file shows as drift; the next change
// of the edits applies them to the new file (and says so), which is from
// then on the base of the edits and what the reverse gives back.
func TestEditAfterPackageUpgrade(t *testing.T) {
	sb := partsSandbox(t)
	ev := sb.Record()
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot)), "c1")
	upgraded := "# new in 1:9.3\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\n"
	sb.Write("/etc/ssh/sshd_config", upgraded, 0o640)
	drift, err := sb.E.Drift()
	if err != nil || len(drift) != 1 || drift[0].ID.Kind != stepfmt.KindEdit {
		t.Fatalf("drift = %+v, %v; want the EDIT", drift, err)
	}
	p, err := sb.E.Plan(sb.List(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot, noPass))))
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(p.Work[0].Notes, "; "); !strings.Contains(notes, "changed since trail edited it") {
		t.Fatalf("the plan does not note the changed file: %q", notes)
	}
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noRoot, noPass)), "c2")
	sb.WantFile("/etc/ssh/sshd_config", "# new in 1:9.3\nPermitRootLogin no\nPasswordAuthentication no\n", 0o640, 0, 50)
	saved := 0
	for _, e := range ev.Of(apply.EventDrift) {
		if e.Result == apply.DriftStored && strings.HasSuffix(e.Detail, "("+apply.DriftStored+")") {
			saved++
		}
	}
	if saved != 1 {
		t.Fatalf("%d drift events of the apply, want the upgraded file's: %+v", saved, ev.Of(apply.EventDrift))
	}
	// A later change starts from the upgraded file, not the one before it.
	sb.Apply(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s", script(sb, noPass)), "c3")
	sb.WantFile("/etc/ssh/sshd_config", "# new in 1:9.3\n#PermitRootLogin prohibit-password\nPasswordAuthentication no\n", 0o640, 0, 50)
	sb.Apply("", "c4")
	sb.WantFile("/etc/ssh/sshd_config", upgraded, 0o640, 0, 50)
}

func TestEditRefusals(t *testing.T) {
	sb := partsSandbox(t)
	sb.Write("/etc/dir/x", "x", 0o644)
	before := sandbox.Snapshot(t, sb.Dir)
	for _, tc := range []struct{ target, want string }{
		{"/etc/ssh/missing", "/etc/ssh/missing does not exist: EDIT changes lines of a file that is there"},
		{"/etc/dir", "/etc/dir is a directory, not a regular file"},
	} {
		_, err := sb.ApplyErr(fmt.Sprintf("EDIT %s %s", tc.target, script(sb, noRoot)), "c1")
		if err == nil || !strings.Contains(err.Error(), "test.steps:1: EDIT "+tc.target+": "+tc.want) {
			t.Errorf("err = %v, want %q at test.steps:1", err, tc.want)
		}
	}
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatal("a refused edit changed the root")
	}
}

func TestAttrsForwardReverse(t *testing.T) {
	sb := partsSandbox(t)
	before := sandbox.Snapshot(t, sb.Dir)
	sb.Apply("ATTRS /etc/ssh/sshd_config mode=0600 owner=alice", "c1")
	sb.WantFile("/etc/ssh/sshd_config", sshdConfig, 0o600, 1000, 50)
	// Only what the step manages is drift.
	if err := os.Chown(sb.Host("/etc/ssh/sshd_config"), 1000, 0); err != nil {
		t.Fatal(err)
	}
	if d, err := sb.E.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("a change of the unmanaged group is drift: %+v %v", d, err)
	}
	if err := os.Chmod(sb.Host("/etc/ssh/sshd_config"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := sb.E.Drift(); err != nil || len(d) != 1 || strings.Join(d[0].Changed, ",") != "mode" {
		t.Fatalf("drift = %+v, %v; want the mode", d, err)
	}
	os.Chmod(sb.Host("/etc/ssh/sshd_config"), 0o600)
	os.Chown(sb.Host("/etc/ssh/sshd_config"), 1000, 50)
	// A modify that stops managing the owner gives it back.
	sb.Apply("ATTRS /etc/ssh/sshd_config mode=0600", "c2")
	sb.WantFile("/etc/ssh/sshd_config", sshdConfig, 0o600, 0, 50)
	sb.Apply("", "c3")
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatalf("the reverse did not give the attributes back:\n%s\nwant:\n%s", after, before)
	}
}

// The reverse of ATTRS gives back the attributes alone: content a package
// upgrade wrote meanwhile stays.
func TestAttrsReverseKeepsContent(t *testing.T) {
	sb := partsSandbox(t)
	sb.Apply("ATTRS /etc/ssh/sshd_config mode=0600 group=root", "c1")
	if err := os.WriteFile(sb.Host("/etc/ssh/sshd_config"), []byte("upgraded\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sb.Apply("", "c2")
	sb.WantFile("/etc/ssh/sshd_config", "upgraded\n", 0o640, 0, 50)
}

func TestAttrsRefusals(t *testing.T) {
	sb := partsSandbox(t)
	before := sandbox.Snapshot(t, sb.Dir)
	for _, tc := range []struct{ step, want string }{
		{"ATTRS /etc/ssh/missing mode=0600", "/etc/ssh/missing does not exist: ATTRS sets the mode, owner and group of a file that is there"},
		{"ATTRS /etc/ssh mode=0700", "/etc/ssh is a directory, not a regular file"},
		{"ATTRS /etc/ssh/sshd_config owner=nobody", `user "nobody" is not in`},
	} {
		_, err := sb.ApplyErr(tc.step, "c1")
		if err == nil || !strings.Contains(err.Error(), "test.steps:1: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q at test.steps:1", tc.step, err, tc.want)
		}
	}
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatal("a refused ATTRS changed the root")
	}
}

// validator writes an executable shell script outside the root and
// returns its path.
func validator(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "check")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	sb := partsSandbox(t)
	// The checker sees a copy of the new content, with the step's mode,
	// named as the target, and refuses a config holding "bad".
	check := validator(t, `test "$(basename "$1")" = sudoers || { echo "wrong name $1"; exit 2; }
test "$(stat -c %a "$1")" = 440 || { echo "wrong mode"; exit 2; }
if grep -n bad "$1"; then echo "syntax error near bad" >&2; exit 1; fi`)
	before := sandbox.Snapshot(t, sb.Dir)
	g, err := sb.ApplyErr(fmt.Sprintf("DIR /etc/sudo\nFILE /etc/sudo/sudoers {ok\nbad line} mode=0440 validate=\"%s %%s\"", check), "c1")
	if err == nil || !strings.Contains(err.Error(), "test.steps:2: FILE /etc/sudo/sudoers: validate `"+check+" %s` refused the new content (exit 1): 2:bad line") ||
		!strings.Contains(err.Error(), "syntax error near bad") {
		t.Fatalf("err = %v, want the checker's refusal with its output at test.steps:2", err)
	}
	if g == nil || g.Result != apply.ResultRefused || g.ErrorSource != "test.steps:2" {
		t.Fatalf("generation = %+v, want refused at test.steps:2", g)
	}
	if after := sandbox.Snapshot(t, sb.Dir); after != before {
		t.Fatal("a refused validate changed the root (the directory of the same apply included)")
	}
	sb.Apply(fmt.Sprintf("DIR /etc/sudo\nFILE /etc/sudo/sudoers {ok\n} mode=0440 validate=\"%s %%s\"", check), "c2")
	sb.WantFile("/etc/sudo/sudoers", "ok\n", 0o440, 0, 0)

	// An edit's result is validated too.
	_, err = sb.ApplyErr(fmt.Sprintf("EDIT /etc/ssh/sshd_config %s validate=\"%s\"", script(sb, lineedit.Edit{Line: "bad"}),
		validator(t, `grep -q bad "$1" && { echo "sshd: bad option"; exit 255; }; exit 0`)+" %s"), "c3")
	if err == nil || !strings.Contains(err.Error(), "refused the new content (exit 255): sshd: bad option") {
		t.Fatalf("err = %v, want the edit refused", err)
	}
	sb.WantFile("/etc/ssh/sshd_config", sshdConfig, 0o640, 0, 50)
}

// Two files of the same content and checker but other names or modes
// are checked each: the checker sees the name and the mode.
func TestValidateEachNameAndMode(t *testing.T) {
	sb := partsSandbox(t)
	check := validator(t, `case "$(basename "$1") $(stat -c %a "$1")" in
a.conf\ 644) exit 0;;
*) echo "refused $(basename "$1")"; exit 1;;
esac`)
	for _, second := range []string{"/etc/b.conf {same\n}", "/etc/c.conf {same\n} mode=0600"} {
		before := sandbox.Snapshot(t, sb.Dir)
		_, err := sb.ApplyErr(fmt.Sprintf("FILE /etc/a.conf {same\n} validate=\"%s %%s\"\nFILE %s validate=\"%s %%s\"", check, second, check), "c1")
		if err == nil || !strings.Contains(err.Error(), "refused "+filepath.Base(strings.Fields(second)[0])) {
			t.Fatalf("%s: err = %v, want its own check to refuse it", second, err)
		}
		if after := sandbox.Snapshot(t, sb.Dir); after != before {
			t.Fatalf("%s: a refused validate changed the root", second)
		}
	}
}

// A checker that is not installed when the apply plans (a package or a
// command of the same apply brings it) runs right before the file is
// written; its refusal fails the step, and the apply is undone.
func TestValidateDeferred(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{{"accepts", "exit 0", true}, {"refuses", "echo no; exit 1", false}} {
		t.Run(tc.name, func(t *testing.T) {
			sb := partsSandbox(t)
			tool := filepath.Join(t.TempDir(), "bin", "checker")
			body := filepath.Join(t.TempDir(), "body")
			os.WriteFile(body, []byte("#!/bin/sh\n"+tc.body+"\n"), 0o755)
			steps := fmt.Sprintf("CMD install-checker run=\"mkdir -p %s && cp %s %s\" undo=\"rm -f %s\" timeout=10s\n"+
				"FILE /etc/app.conf {new} validate=\"%s %%s\"", filepath.Dir(tool), body, tool, tool, tool)
			p, err := sb.E.Plan(sb.List(steps))
			if err != nil {
				t.Fatal(err)
			}
			if notes := strings.Join(p.Work[1].Notes, "; "); !strings.Contains(notes, "validate deferred until right before the file is written: "+tool+" is not installed yet") {
				t.Fatalf("plan notes %q", notes)
			}
			before := sandbox.Snapshot(t, sb.Dir)
			g, err := sb.ApplyErr(steps, "c1")
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				sb.WantFile("/etc/app.conf", "new", 0o644, 0, 0)
				return
			}
			if err == nil || !strings.Contains(err.Error(), "test.steps:2: FILE /etc/app.conf: validate") || !strings.Contains(err.Error(), "(exit 1): no") {
				t.Fatalf("err = %v", err)
			}
			if g.Result != apply.ResultFailed {
				t.Fatalf("result %s, want failed", g.Result)
			}
			if after := sandbox.Snapshot(t, sb.Dir); after != before {
				t.Fatalf("the failed apply was not undone:\n%s\nwant:\n%s", after, before)
			}
			if _, err := os.Stat(tool); err == nil {
				t.Fatal("the command's undo did not run")
			}
		})
	}
}

// drift=heal puts the edits back on a file an upgrade replaced (on the new
// file) and the attributes back on a file changed by hand.
func TestHealEditAndAttrs(t *testing.T) {
	sb := partsSandbox(t)
	sb.Write("/etc/shadowish", "x\n", 0o644)
	steps := fmt.Sprintf("EDIT /etc/ssh/sshd_config %s drift=heal\nATTRS /etc/shadowish mode=0640 drift=heal", script(sb, noRoot))
	sb.Apply(steps, "c1")
	sb.Write("/etc/ssh/sshd_config", "# upgraded\n#PermitRootLogin prohibit-password\n", 0o640)
	os.Chmod(sb.Host("/etc/shadowish"), 0o666)
	if _, err := sb.E.Heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	sb.WantFile("/etc/ssh/sshd_config", "# upgraded\nPermitRootLogin no\n", 0o640, 0, 50)
	sb.WantFile("/etc/shadowish", "x\n", 0o640, 0, 0)
	if d, err := sb.E.Drift(); err != nil || len(d) != 0 {
		t.Fatalf("drift after the heal: %+v %v", d, err)
	}
	sb.Apply("", "c2")
	sb.WantFile("/etc/ssh/sshd_config", "# upgraded\n#PermitRootLogin prohibit-password\n", 0o640, 0, 50)
	sb.WantFile("/etc/shadowish", "x\n", 0o644, 0, 0)
}
