package state_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
	"trail/stepfmt"
)

// An amend entry replaces the undo image of its intent; one without an
// intent before it is damage.
func TestJournalAmend(t *testing.T) {
	const begin = `{"op":"begin","gen":2,"from":1}` + "\n"
	const intent = `{"op":"intent","i":3,"change":"add","step":"PKG trail-a","undo":"absent brings=trail-x"}` + "\n"
	cases := map[string]struct {
		data, undo, err string
	}{
		"amended":          {begin + intent + `{"op":"amend","i":3,"undo":"absent deps=trail-b"}` + "\n", "absent deps=trail-b", ""},
		"not amended":      {begin + intent, "absent brings=trail-x", ""},
		"amend cut short":  {begin + intent + `{"op":"amend","i":3,"undo":"absent de`, "absent brings=trail-x", ""},
		"no intent before": {begin + `{"op":"amend","i":3,"undo":"absent"}` + "\n" + intent, "", "no intent 3 before it"},
		"bad image":        {begin + intent + `{"op":"amend","i":3,"undo":"absent deps"}` + "\n", "", "amend 3"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			js, err := state.ParseJournal("journal", []byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(js.Intents) != 1 || js.Intents[0].Undo.String() != tc.undo {
				t.Fatalf("got %+v (%v), want the undo %q", js, err, tc.undo)
			}
		})
	}
}

// Intent and Done write their lines by hand: each is the line
// json.Marshal writes of the same entry, escapes and all, and reads back
// as the step and image journaled.
func TestJournalLinesAsMarshal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "journal")
	j, err := state.BeginJournal(file, &state.Generation{Number: 2, From: 1, Commit: "c"})
	if err != nil {
		t.Fatal(err)
	}
	key := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	src := stepfmt.Source{File: "a <b>.hcl", Line: 3}
	steps := []*stepfmt.Step{
		{Kind: stepfmt.KindFile, Target: "/srv/plain", Attrs: []stepfmt.Attr{{Key: "content", Value: key("a")}}, Src: src},
		{Kind: stepfmt.KindFile, Target: "/srv/with \"quotes\" and \\ <html> & tab\t", Attrs: []stepfmt.Attr{{Key: "content", Value: key("b")}}},
		{Kind: stepfmt.KindLink, Target: "/srv/ünï", Attrs: []stepfmt.Attr{{Key: "to", Value: "/srv/é"}}, Src: src},
		{Kind: stepfmt.KindDir, Target: "/srv/d", Attrs: []stepfmt.Attr{{Key: "mode", Value: "0750"}}},
	}
	undos := []string{"absent", "file content=" + key("c") + " mode=0644 uid=0 gid=0", `link to="x y" uid=0 gid=0`, "dir mode=0755 uid=0 gid=0"}
	var want []string
	for i, s := range steps {
		undo, err := kind.ParseImage(undos[i])
		if err != nil {
			t.Fatal(err)
		}
		j.Intent(i, stepfmt.OpAdd, s, undo)
		var b bytes.Buffer
		stepfmt.AppendStep(&b, s, true)
		line, _ := json.Marshal(state.JournalEntry{Op: "intent", I: i, Change: "add", Step: b.String(), Undo: undo.String()})
		want = append(want, string(line))
	}
	for i := range 2 {
		j.Done(i)
		line, _ := json.Marshal(state.JournalEntry{Op: "done", I: i})
		want = append(want, string(line))
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:]
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal lines:\n%s\nwant, as json.Marshal writes them:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	js, err := state.ParseJournal(file, data)
	if err != nil || len(js.Intents) != len(steps) {
		t.Fatalf("read back: %v, %d intents", err, len(js.Intents))
	}
	for i, in := range js.Intents {
		if in.Undo.String() != undos[i] {
			t.Fatalf("intent %d reads back with the undo %q, want %q", i, in.Undo, undos[i])
		}
	}
}
