package apply

import (
	"slices"
	"testing"

	"trail/compile"
	"trail/stepfmt"
)

// TestKindTables holds the three kind tables to each other: every kind of
// the step language but INCLUDE (which Load expands) has one row in
// apply's table, with stepfmt's path flag; every kind apply
// runs is one the language has and one a resource block compiles to.
func TestKindTables(t *testing.T) {
	compiled := compile.Kinds()
	seen := map[stepfmt.Kind]bool{}
	for _, row := range handlers {
		k := row.kind
		if seen[k] {
			t.Errorf("%s has two rows in apply's table", k)
		}
		seen[k] = true
		if !stepfmt.KnownKind(k) {
			t.Errorf("apply runs %s, which stepfmt does not know", k)
		}
		if !slices.Contains(compiled, k) {
			t.Errorf("apply runs %s, which no resource block compiles to", k)
		}
		if row.path != stepfmt.IsPath(k) {
			t.Errorf("%s: apply's path flag %v, stepfmt's %v", k, row.path, stepfmt.IsPath(k))
		}
	}
	for _, k := range stepfmt.Kinds() {
		if k != stepfmt.KindInclude && !seen[k] {
			t.Errorf("stepfmt has %s, which apply's table has no row for", k)
		}
	}
	for _, k := range compiled {
		if !seen[k] {
			t.Errorf("compile makes %s steps, which apply's table has no row for", k)
		}
	}
}
