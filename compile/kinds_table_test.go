package compile

import (
	"slices"
	"testing"

	"trail/stepfmt"
)

// TestKindTable holds the resource block table to the step language: each
// block compiles to a kind stepfmt knows and sets only attributes that
// kind has, and resourceTypes names exactly the blocks of the table.
func TestKindTable(t *testing.T) {
	blocks := map[string]bool{}
	for _, kd := range kindDefs {
		blocks[kd.block] = true
		if !stepfmt.KnownKind(kd.kind) {
			t.Errorf("block %s compiles to %s, which stepfmt does not know", kd.block, kd.kind)
		}
		keys := stepfmt.AttrKeys(kd.kind)
		for _, f := range kd.fields {
			if !slices.Contains(keys, f.key) {
				t.Errorf("block %s sets %s, which %s does not have (it has %v)", kd.block, f.key, kd.kind, keys)
			}
		}
		if !resourceTypes[kd.block] {
			t.Errorf("block %s is missing from resourceTypes", kd.block)
		}
	}
	for b := range resourceTypes {
		if !blocks[b] {
			t.Errorf("resourceTypes names %s, which kindDefs does not have", b)
		}
	}
}
