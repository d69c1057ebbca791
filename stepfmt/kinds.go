package stepfmt

import "sort"

// attrSpec describes one attribute a kind accepts.
type attrSpec struct {
	key      string
	typ      valueType
	required bool
}

// kindSpec describes a kind: what its target is, which namespace the target
// lives in (a path can be managed by one DIR, FILE or LINK step only), its
// positional attribute (printed without key right after the target) and its
// attributes in canonical order.
type kindSpec struct {
	kind       Kind
	target     valueType
	namespace  string
	positional string
	attrs      []attrSpec
}

var (
	drift  = attrSpec{"drift", tDrift, false}
	absent = attrSpec{"absent", tTrue, false}
)

// absentAttrs are the attributes a step with absent=true may carry besides
// it: what to remove is the whole target, so nothing else is managed.
var absentAttrs = map[Kind][]string{
	KindDir: {"recursive", "drift"}, KindFile: {"drift"}, KindLink: {"drift"},
	KindGroup: {"drift"}, KindUser: {"drift"}, KindPackage: {"purge", "drift"},
}

// kinds is the table of step kinds, in the order the reference documents
// them. Adding a kind is one row here and, in apply, one file.
var kinds = []kindSpec{
	{KindDir, tPath, "path", "", []attrSpec{
		{"mode", tMode, false}, {"owner", tOwner, false}, {"group", tOwner, false}, absent, {"recursive", tTrue, false}, drift}},
	{KindFile, tPath, "path", "content", []attrSpec{
		{"content", tHash, true}, {"secret", tSecret, false}, {"mode", tMode, false}, {"owner", tOwner, false}, {"group", tOwner, false},
		{"validate", tValidate, false}, absent, drift}},
	{KindLink, tPath, "path", "to", []attrSpec{
		{"to", tLinkTarget, true}, {"owner", tOwner, false}, {"group", tOwner, false}, absent, drift}},
	{KindEdit, tPath, "path", "edits", []attrSpec{
		{"edits", tHash, true}, {"validate", tValidate, false}, drift}},
	{KindAttrs, tPath, "path", "", []attrSpec{
		{"mode", tMode, false}, {"owner", tOwner, false}, {"group", tOwner, false}, drift}},
	{KindGroup, tAccount, "group", "", []attrSpec{
		{"gid", tID, false}, {"members", tAccountList, false}, {"system", tBool, false}, absent, drift}},
	{KindUser, tAccount, "user", "", []attrSpec{
		{"uid", tID, false}, {"group", tOwner, false}, {"groups", tAccountList, false},
		{"home", tPath, false}, {"shell", tPath, false}, {"system", tBool, false},
		{"password", tText, false}, {"comment", tText, false}, absent, drift}},
	{KindPackage, tPackage, "package", "", []attrSpec{
		{"version", tDebVersion, false}, {"recommends", tBool, false}, {"purge", tBool, false},
		{"owns", tPathList, false}, absent, drift}},
	{KindUnit, tUnit, "unit", "", []attrSpec{
		{"enabled", tBool, false}, {"running", tBool, false}, {"masked", tBool, false},
		{"restart-on", tTriggerList, false}, {"reload-on", tTriggerList, false}, {"reload", tBool, false}, drift}},
	{KindCommand, tName, "command", "", []attrSpec{
		{"run", tText, true}, {"undo", tText, true}, {"creates", tPath, false},
		{"unless", tText, false}, {"timeout", tDuration, true}}},
	{KindCheck, tName, "check", "", []attrSpec{
		{"run", tText, true}, {"retries", tCount, false}, {"interval", tDuration, false},
		{"timeout", tDuration, true}}},
	{KindInclude, tIncludePath, "include", "", nil},
}

// specOf returns the spec of kind k, or nil for an unknown kind.
func specOf(k Kind) *kindSpec {
	for i := range kinds {
		if kinds[i].kind == k {
			return &kinds[i]
		}
	}
	return nil
}

// attr returns the spec of attribute key, or nil when the kind has none.
func (ks *kindSpec) attr(key string) *attrSpec {
	for i := range ks.attrs {
		if ks.attrs[i].key == key {
			return &ks.attrs[i]
		}
	}
	return nil
}

func (ks *kindSpec) attrIndex(key string) int {
	for i := range ks.attrs {
		if ks.attrs[i].key == key {
			return i
		}
	}
	return len(ks.attrs)
}

// Kinds lists the known kinds in table order.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i := range kinds {
		out[i] = kinds[i].kind
	}
	return out
}

// KnownKind reports whether k is a kind of the step language.
func KnownKind(k Kind) bool { return specOf(k) != nil }

// IsPath reports whether steps of kind k manage a file-system path.
func IsPath(k Kind) bool {
	return k == KindDir || k == KindFile || k == KindLink || k == KindEdit || k == KindAttrs
}

// Namespace returns the namespace targets of kind k live in ("path" for DIR,
// FILE and LINK), so that one target cannot be managed by two kinds.
func Namespace(k Kind) string {
	if ks := specOf(k); ks != nil {
		return ks.namespace
	}
	return string(k)
}

// AttrKeys lists the attributes kind k accepts, in canonical order.
func AttrKeys(k Kind) []string {
	ks := specOf(k)
	if ks == nil {
		return nil
	}
	out := make([]string, len(ks.attrs))
	for i, a := range ks.attrs {
		out[i] = a.key
	}
	return out
}

// sortAttrs puts attributes in the kind's canonical order (unknown keys last,
// by name) so that printing and comparison do not depend on input order.
func sortAttrs(k Kind, attrs []Attr) {
	ks := specOf(k)
	if ks == nil {
		sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
		return
	}
	sorted := true
	for i := 1; i < len(attrs); i++ {
		if ks.attrIndex(attrs[i-1].Key) > ks.attrIndex(attrs[i].Key) {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	sort.SliceStable(attrs, func(i, j int) bool {
		a, b := ks.attrIndex(attrs[i].Key), ks.attrIndex(attrs[j].Key)
		if a != b {
			return a < b
		}
		return attrs[i].Key < attrs[j].Key
	})
}
