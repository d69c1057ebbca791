package state

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"trail/stepfmt"
)

// Wrote gives the policy and image Get's record has, in or out of line
// order; a line whose policy or image does not parse is an error for Err.
func TestAppliedWrote(t *testing.T) {
	lines := "FILE\t/etc/a\theal\tfile content=sha256:" + strings.Repeat("1", 64) + " mode=0600\tfile content=sha256:" + strings.Repeat("2", 64) + " mode=0644 owner=0\n" +
		"DIR\t\"/srv/a b\"\treport\tabsent\tdir mode=0755\n" +
		"LINK\t/etc/l\tignore\tabsent\tlink to=\"/x y\"\n"
	a, err := ParseApplied("applied", []byte(AppliedHeader+"1\n"+lines))
	if err != nil {
		t.Fatal(err)
	}
	ids := []stepfmt.ID{{Kind: stepfmt.KindLink, Target: "/etc/l"}, {Kind: stepfmt.KindFile, Target: "/etc/a"}, {Kind: stepfmt.KindDir, Target: "/srv/a b"}}
	for _, id := range append(ids, ids...) {
		policy, wrote, ok := a.Wrote(id)
		r := a.Get(id)
		if !ok || r == nil || policy != r.Policy || !reflect.DeepEqual(wrote, r.Wrote) {
			t.Fatalf("Wrote(%s) = %q, %+v, %v; Get has %+v", id, policy, wrote, ok, r)
		}
	}
	if _, _, ok := a.Wrote(stepfmt.ID{Kind: stepfmt.KindFile, Target: "/etc/none"}); ok {
		t.Fatal("Wrote found a target not recorded")
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{"FILE\t/etc/a\tsometimes\tabsent\tfile\n", "FILE\t/etc/a\treport\tabsent\t=file\n", "FILE\t/etc/a\treport\tabsent\n"} {
		data := []byte(AppliedHeader + "1\n" + bad)
		id := stepfmt.ID{Kind: stepfmt.KindFile, Target: "/etc/a"}
		b := &Applied{src: bytes.NewReader(data), size: int64(len(data)),
			ents: []recordEnt{{hash: hashID(id.Kind, id.Target), off: int64(bytes.IndexByte(data, '\n') + 1)}}}
		if _, _, ok := b.Wrote(id); ok || b.Err() == nil {
			t.Fatalf("%q: Wrote ok %v, Err %v; want an error", bad, ok, b.Err())
		}
	}
}
