package stepfmt

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A step checked after others, with what validStep remembered of them,
// gets the errors it gets checked alone: over random runs of steps that
// share or change their kind, keys, absence and values, good and bad.
func TestValidStepMemoChangesNothing(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	kinds := []Kind{KindFile, KindDir, KindLink, KindUser, "BLOB"}
	values := map[string][]string{
		"mode":    {"0644", "0755", "644", "0999", ""},
		"owner":   {"root", "www-data", "a:b", "", "0"},
		"group":   {"root", "staff", "x y"},
		"content": {testHash, "sha256:00", "md5:1", ""},
		"to":      {"/a", "b", ""},
		"drift":   {"heal", "report", "sometimes"},
		"absent":  {"true", "false"},
		"uid":     {"1000", "-1"},
		"colour":  {"red"},
	}
	keys := []string{"mode", "owner", "group", "content", "to", "drift", "absent", "uid", "colour"}
	var memo stepMemo
	for n := 0; n < 20000; n++ {
		s := &Step{Kind: kinds[rnd.IntN(len(kinds))], Target: []string{"/a/b", "/a/./b", "u"}[rnd.IntN(3)], Src: Source{File: "t.hcl", Line: 1}}
		for _, k := range keys {
			if rnd.IntN(3) == 0 {
				vs := values[k]
				s.Attrs = append(s.Attrs, Attr{k, vs[rnd.IntN(len(vs))]})
			}
		}
		if rnd.IntN(20) == 0 && len(s.Attrs) > 0 {
			s.Attrs = append(s.Attrs, s.Attrs[0])
		}
		// Runs of one shape, as a tree gives them.
		for r := 0; r < 1+rnd.IntN(4); r++ {
			if r > 0 && len(s.Attrs) > 0 {
				i := rnd.IntN(len(s.Attrs))
				vs := values[s.Attrs[i].Key]
				s.Attrs[i].Value = vs[rnd.IntN(len(vs))]
			}
			var got, want ErrorList
			validStep(s, &got, &memo)
			validStep(s, &want, &stepMemo{})
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("step %v: remembered %v, alone %v", s, got, want)
			}
		}
	}
}
