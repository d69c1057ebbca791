package state_test

import (
	"strings"
	"testing"

	"trail/apply/state"
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
