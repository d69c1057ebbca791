package apply

import (
	"trail/apply/kind"
	"trail/apply/kinds/accounts"
	"trail/apply/kinds/commands"
	"trail/apply/kinds/packages"
	"trail/apply/kinds/paths"
	"trail/apply/kinds/units"
	"trail/stepfmt"
)

// kindRow is one row of the kind table.
type kindRow struct {
	kind stepfmt.Kind
	h    kind.Handler
	// path kinds manage a file-system path and run together in batches
	// whose writes are made durable at once; any other kind runs alone,
	// after everything before it is durable.
	path bool
}

// handlers is the one table of the kinds apply can run, in the order the
// engine consults their capabilities (kind.ListPlanner, kind.Recoverer, …). A new
// kind is a kind.Handler in a package under apply/kinds and one row here;
// TestKindTables holds this table to stepfmt's and compile's.
var handlers = []kindRow{
	{stepfmt.KindDir, paths.Dir{}, true},
	{stepfmt.KindFile, paths.File{}, true},
	{stepfmt.KindLink, paths.Link{}, true},
	{stepfmt.KindEdit, paths.Edit{}, true},
	{stepfmt.KindAttrs, paths.Attrs{}, true},
	{stepfmt.KindGroup, accounts.Group{}, false},
	{stepfmt.KindUser, accounts.User{}, false},
	{stepfmt.KindCommand, commands.Command{}, false},
	{stepfmt.KindCheck, commands.Check{}, false},
	{stepfmt.KindPackage, packages.Package{}, false},
	{stepfmt.KindUnit, units.Unit{}, false},
}

func handlerOf(k stepfmt.Kind) *kindRow {
	for i := range handlers {
		if handlers[i].kind == k {
			return &handlers[i]
		}
	}
	return nil
}
