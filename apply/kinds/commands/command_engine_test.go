package commands_test

import (
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox/engine"
)

// cmdStep is a CMD step that appends its name to $TRAIL_ROOT/ran when it
// runs and to undone when its undo runs.
func cmdStep(name, extra string) string {
	return "CMD " + name + ` run="echo ` + name + ` >> ran; echo out-of-` + name + `" undo="echo ` + name + ` >> undone" timeout=5s ` + extra
}

func TestCommandRunGuardsAndUndo(t *testing.T) {
	cases := map[string]struct {
		setup   func(sb *engine.Sandbox)
		extra   string
		ran     bool // run ran
		undoRan bool // removing the step ran undo
	}{
		"no guard":             {nil, "", true, true},
		"creates exists":       {func(sb *engine.Sandbox) { sb.Write("/srv/made", "x", 0o644) }, "creates=/srv/made", false, false},
		"creates missing":      {nil, "creates=/srv/made", true, false}, // the run did not create it: nothing to undo
		"unless exits 0":       {nil, `unless="test -d srv"`, false, false},
		"unless exits 1":       {nil, `unless="test -e srv/nothing"`, true, false},
		"creates made by run":  {nil, "creates=/srv/made2", true, true},
		"unless true after it": {nil, `unless="test -e ran"`, true, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.New(t)
			ev := sb.Record()
			if tc.setup != nil {
				tc.setup(sb)
			}
			step := cmdStep("c", tc.extra)
			if name == "creates made by run" {
				step = `CMD c run="echo c >> ran; touch srv/made2" undo="echo c >> undone" creates=/srv/made2 timeout=5s`
			}
			sb.Apply(engine.Anchors+step, "c1")
			if got := sb.Exists("/ran"); got != tc.ran {
				t.Fatalf("run ran = %v, want %v", got, tc.ran)
			}
			if tc.ran && name == "no guard" {
				var detail string
				for _, e := range ev.Of(apply.EventStep) {
					if strings.HasPrefix(e.Step, "CMD") {
						detail = e.Detail
					}
				}
				if !strings.Contains(detail, "out-of-c") {
					t.Fatalf("the step event's detail %q lacks the command's output", detail)
				}
			}
			// applying again runs nothing
			sb.Apply(engine.Anchors+step, "c2")
			if tc.ran && sb.Read("/ran") != "c\n" {
				t.Fatalf("run ran again: %q", sb.Read("/ran"))
			}
			sb.Apply(engine.Anchors, "c3")
			if got := sb.Exists("/undone"); got != tc.undoRan {
				t.Fatalf("undo ran = %v, want %v", got, tc.undoRan)
			}
		})
	}
}

// Without a root of "/", a command runs at the root with TRAIL_ROOT set,
// in a clean environment.
func TestCommandEnvironment(t *testing.T) {
	sb := engine.New(t)
	t.Setenv("TRAIL_LEAK", "yes")
	sb.Apply(engine.Anchors+`CMD env run="pwd > where; echo $TRAIL_ROOT > root; echo x$TRAIL_LEAK > leak" undo=true timeout=5s`, "c1")
	if got := strings.TrimSpace(sb.Read("/where")); got != sb.Dir {
		t.Fatalf("cwd = %q, want the root %q", got, sb.Dir)
	}
	if got := strings.TrimSpace(sb.Read("/root")); got != sb.Dir {
		t.Fatalf("TRAIL_ROOT = %q", got)
	}
	if got := strings.TrimSpace(sb.Read("/leak")); got != "x" {
		t.Fatalf("the applier's environment leaked: %q", got)
	}
}

func TestCommandFailureAndTimeoutRollBack(t *testing.T) {
	cases := map[string]struct{ step, want string }{
		"exit status": {`CMD bad run="echo partial >> ran; echo oops >&2; exit 3" undo="echo bad >> undone" timeout=5s`, "exit status 3"},
		"timeout":     {`CMD slow run="echo partial >> ran; sleep 30" undo="echo slow >> undone" timeout=200ms`, "timed out after 200ms"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb := engine.New(t)
			g, err := sb.ApplyErr(engine.Anchors+"FILE /srv/f {f}\n"+tc.step, "c1")
			if err == nil || !strings.Contains(err.Error(), tc.want) || g.ErrorSource != "test.steps:4" {
				t.Fatalf("apply = %+v, %v; want %q at test.steps:4", g, err, tc.want)
			}
			if name == "exit status" && !strings.Contains(err.Error(), "oops") {
				t.Fatalf("error %q lacks the command's output", err)
			}
			if sb.Exists("/srv/f") || sb.Exists("/srv/a") {
				t.Fatal("files of the failed apply were left")
			}
			// the command ran part-way: its undo runs in the rollback
			if !sb.Exists("/undone") {
				t.Fatal("undo did not run in the rollback")
			}
		})
	}
}

// A command trail ran in an earlier generation is not undone when a later
// apply that only changes its undo fails.
func TestCommandEarlierRunSurvivesFailedApply(t *testing.T) {
	sb := engine.New(t)
	sb.Apply(engine.Anchors+cmdStep("c", ""), "c1")
	_, err := sb.ApplyErr(engine.Anchors+`CMD c run="echo c >> ran; echo out-of-c" undo="echo changed >> undone" timeout=5s`+
		"\n"+`CMD bad run="exit 1" undo=true timeout=5s`, "c2")
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if sb.Exists("/undone") {
		t.Fatalf("the rollback undid a command of the old generation: %q", sb.Read("/undone"))
	}
	// a changed run runs again; its removal runs the new undo
	sb.Apply(engine.Anchors+`CMD c run="echo c2 >> ran" undo="echo new >> undone" timeout=5s`, "c3")
	if sb.Read("/ran") != "c\nc2\n" {
		t.Fatalf("ran = %q", sb.Read("/ran"))
	}
	sb.Apply(engine.Anchors, "c4")
	if sb.Read("/undone") != "new\n" {
		t.Fatalf("undone = %q", sb.Read("/undone"))
	}
}
