package units_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/stepfmt"
)

const (
	demoUnit  = sandbox.DemoUnit
	wantsLink = sandbox.WantsLink
)

func newUnitSandbox(t *testing.T) (*engine.Sandbox, *engine.Events) {
	sb := engine.New(t)
	sb.WithUnits()
	sb.Opts.AllowMassRemoval = true
	return sb, sb.Record()
}

// systemctl runs systemctl --root on the sandbox.
func systemctl(sb *engine.Sandbox, args ...string) string {
	sb.T.Helper()
	out, _ := exec.Command("systemctl", append([]string{"--root=" + sb.Dir}, args...)...).Output()
	return strings.TrimSpace(string(out))
}

// Each case applies a UNIT step, checks the unit file state systemctl
// reports, then applies the empty list: the state must be as before.
func TestUnitForwardReverse(t *testing.T) {
	cases := map[string]struct {
		setup  []string // systemctl verbs run before trail
		steps  string
		want   string
		before string
	}{
		"enable":                 {steps: "UNIT demo.service enabled=true", want: "enabled", before: "disabled"},
		"disable a pre-enabled":  {setup: []string{"enable"}, steps: "UNIT demo.service enabled=false", want: "disabled", before: "enabled"},
		"pre-enabled stays":      {setup: []string{"enable"}, steps: "UNIT demo.service enabled=true", want: "enabled", before: "enabled"},
		"mask":                   {steps: "UNIT demo.service enabled=false masked=true", want: "masked", before: "disabled"},
		"mask an enabled":        {setup: []string{"enable"}, steps: "UNIT demo.service enabled=false masked=true", want: "masked", before: "enabled"},
		"unmask a pre-masked":    {setup: []string{"mask"}, steps: "UNIT demo.service masked=false enabled=true", want: "enabled", before: "masked"},
		"static is left alone":   {steps: "UNIT helper.service enabled=true", want: "static", before: "static"},
		"mask a unit with none":  {steps: "UNIT ghost.service enabled=false masked=true", want: "masked", before: ""},
		"running is a note only": {steps: "UNIT demo.service enabled=true running=true", want: "enabled", before: "disabled"},
		// unit blocks with absent = true (and masked = true) compile to these
		"absent":                   {setup: []string{"enable"}, steps: "UNIT demo.service enabled=false running=false", want: "disabled", before: "enabled"},
		"absent and masked":        {setup: []string{"enable"}, steps: "UNIT demo.service enabled=false running=false masked=true", want: "masked", before: "enabled"},
		"absent with no unit file": {steps: "UNIT ghost.service enabled=false running=false", want: "", before: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb, ev := newUnitSandbox(t)
			unit := strings.Fields(tc.steps)[1]
			for _, verb := range tc.setup {
				systemctl(sb, verb, unit)
			}
			if got := systemctl(sb, "is-enabled", unit); got != tc.before {
				t.Fatalf("set up: %s is %q, want %q", unit, got, tc.before)
			}
			sb.Apply(tc.steps, "c1")
			if got := systemctl(sb, "is-enabled", unit); got != tc.want {
				t.Fatalf("after apply: %q, want %q", got, tc.want)
			}
			if strings.Contains(tc.steps, "running=") {
				steps := ev.Of(apply.EventStep)
				if len(steps) != 1 || !strings.Contains(steps[0].Detail, "not applicable") {
					t.Fatalf("running in a root must be reported as not applicable: %+v", steps)
				}
			}
			if ds, err := sb.E.Drift(); err != nil || len(ds) != 0 {
				t.Fatalf("drift right after the apply: %+v %v", ds, err)
			}
			again := len(*ev)
			sb.Apply(tc.steps, "c2")
			for _, e := range (*ev)[again:] {
				if e.Type == apply.EventStep && e.Result != apply.StepUnchanged {
					t.Fatalf("a second apply changed %s: %s", e.Step, e.Detail)
				}
			}
			sb.Apply("", "c0")
			if got := systemctl(sb, "is-enabled", unit); got != tc.before {
				t.Fatalf("after reverse: %q, want %q", got, tc.before)
			}
		})
	}
}

func TestUnitEnableWritesTheSymlink(t *testing.T) {
	sb, _ := newUnitSandbox(t)
	sb.Apply("UNIT demo.service enabled=true", "c1")
	if to, err := os.Readlink(sb.Host(wantsLink)); err != nil || to != "/lib/systemd/system/demo.service" {
		t.Fatalf("wants symlink: %q %v", to, err)
	}
	sb.Apply("", "c0")
	if sb.Exists(wantsLink) {
		t.Fatal("the reverse left the wants symlink")
	}
}

func TestUnitDriftDisabledByHand(t *testing.T) {
	sb, _ := newUnitSandbox(t)
	sb.Apply("UNIT demo.service enabled=true masked=false", "c1")
	systemctl(sb, "disable", "demo.service")
	ds, err := sb.E.Drift()
	if err != nil || len(ds) != 1 {
		t.Fatalf("drift: %+v %v, want one", ds, err)
	}
	if d := ds[0]; d.ID.String() != "UNIT demo.service" || strings.Join(d.Changed, ",") != "enabled" {
		t.Fatalf("drift %+v, want UNIT demo.service enabled", d)
	}
}

func TestUnitBadInputFailsAtPlan(t *testing.T) {
	cases := map[string]struct{ steps, want string }{
		"no unit file":       {"UNIT nothere.service enabled=true", "has no unit file"},
		"masked and enabled": {"UNIT demo.service enabled=true masked=true", "a masked unit cannot be enabled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sb, _ := newUnitSandbox(t)
			before := sandbox.Snapshot(t, sb.Dir)
			_, err := sb.E.Plan(sb.List(tc.steps))
			var el stepfmt.ErrorList
			if !errors.As(err, &el) || len(el) != 1 || !strings.HasPrefix(el[0].Error(), "test.steps:1: UNIT ") ||
				!strings.Contains(el[0].Error(), tc.want) {
				t.Fatalf("plan: %v, want one error at test.steps:1 saying %q", err, tc.want)
			}
			if _, err := sb.ApplyErr(tc.steps, "c1"); err == nil {
				t.Fatal("the apply was not refused")
			}
			if sandbox.Snapshot(t, sb.Dir) != before {
				t.Fatal("a refused apply changed the root")
			}
		})
	}
}

// A unit file written by a FILE step of the same list is there for the
// unit step: the plan accepts it, the apply enables it, the reverse
// disables it before the file goes.
func TestUnitFileFromAFileStep(t *testing.T) {
	sb, _ := newUnitSandbox(t)
	os.MkdirAll(sb.Host("/etc/systemd/system"), 0o755)
	steps := "FILE /etc/systemd/system/own.service {" + demoUnit + "}\nUNIT own.service enabled=true"
	sb.Apply(steps, "c1")
	if got := systemctl(sb, "is-enabled", "own.service"); got != "enabled" {
		t.Fatalf("own.service is %q", got)
	}
	sb.Apply("", "c0")
	if sb.Exists("/etc/systemd/system/multi-user.target.wants/own.service") || sb.Exists("/etc/systemd/system/own.service") {
		t.Fatal("the reverse left the unit or its symlink")
	}
}

// restart-on triggers once per apply in which a named file changed, after
// the file steps; in a root it is reported, not run. The step does not say
// the unit should run: it would be restarted only if it runs.
func TestUnitRestartOn(t *testing.T) {
	sb, ev := newUnitSandbox(t)
	restarts := func(from int) []apply.Event { return restartsIn((*ev)[from:]) }
	list := func(conf, other string) string {
		return "FILE /etc/demo.conf {" + conf + "}\nFILE /etc/other.conf {" + conf + "}\nFILE /etc/unrelated {" + other + "}\n" +
			"UNIT demo.service enabled=true restart-on=/etc/demo.conf,/etc/other.conf"
	}
	steps := []struct {
		name, conf, other string
		want              int
	}{
		{"first apply writes both files", "a", "x", 1},
		{"no-op apply", "a", "x", 0},
		{"unrelated change", "a", "y", 0},
		{"config change", "b", "y", 1},
	}
	for i, st := range steps {
		from := len(*ev)
		sb.Apply(list(st.conf, st.other), "c"+string(rune('1'+i)))
		got := restarts(from)
		if len(got) != st.want {
			t.Fatalf("%s: %d restarts, want %d: %+v", st.name, len(got), st.want, got)
		}
		if st.want == 0 {
			continue
		}
		if !strings.Contains(got[0].Detail, "would restart if running") || !strings.Contains(got[0].Detail, "/etc/demo.conf") {
			t.Fatalf("%s: restart detail %q", st.name, got[0].Detail)
		}
		last := -1
		for k, e := range (*ev)[from:] {
			if e.Type == apply.EventStep && e.Op != "restart" {
				last = k
			}
		}
		if idx := indexOf((*ev)[from:], got[0]); idx < last {
			t.Fatalf("%s: the restart came before a file step", st.name)
		}
	}
}

// restartsIn returns the restart events of evs.
func restartsIn(evs []apply.Event) []apply.Event {
	return slices.DeleteFunc(slices.Clone(evs), func(e apply.Event) bool {
		return e.Type != apply.EventStep || e.Op != apply.OpRestart
	})
}

func indexOf(evs []apply.Event, e apply.Event) int {
	for i := range evs {
		if evs[i].Op == e.Op && evs[i].Step == e.Step && evs[i].Time == e.Time {
			return i
		}
	}
	return -1
}
