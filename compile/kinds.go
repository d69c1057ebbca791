package compile

import (
	"slices"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// field maps one attribute of a resource block onto a step attribute.
type field struct {
	name string // attribute in the language
	key  string // step attribute it sets
	list bool   // a list of strings, written comma separated
	def  string // value when the attribute is not given ("" for none)
}

// kindDef describes one resource block type. The target attribute (path
// or name) defaults to the block label. Fields are copied generically;
// build, when set, adds what the kind needs beyond that (file content,
// tree walking, unit references).
type kindDef struct {
	block  string
	kind   stepfmt.Kind
	target string
	fields []field
	extra  []string // further attributes the build function reads
	build  func(r *resource, st *stepfmt.Step)
	// expand replaces the generic single step (tree).
	expand func(r *resource)
	// absent lists the attributes a block with absent = true may have
	// besides its target and the meta attributes; nil when the block
	// cannot be absent.
	absent []string
	// alt is the kind build makes of a block that asks for less (a file
	// without content: ATTRS).
	alt    stepfmt.Kind
	schema *hcl.BodySchema
}

// resourceTypes names the resource block types; kept apart from kindDefs
// because expression checks, which the build functions use, need it.
var resourceTypes = map[string]bool{"directory": true, "file": true, "symlink": true, "tree": true, "edit": true,
	"group": true, "user": true, "package": true, "unit": true, "command": true, "check": true, "apt_source": true,
	"cron": true, "sysctl": true, "kernel_module": true}

// metaAttrs are accepted by every resource block.
var metaAttrs = []string{"for_each", "when", "depends_on"}

var (
	fMode     = field{name: "mode", key: "mode"}
	fOwner    = field{name: "owner", key: "owner", def: "root"}
	fGroup    = field{name: "group", key: "group", def: "root"}
	fDrift    = field{name: "drift", key: "drift"}
	fValidate = field{name: "validate", key: "validate"}
)

func withDef(f field, def string) field { f.def = def; return f }

// kindDefs is the table of resource blocks, in documentation order.
var kindDefs = []*kindDef{
	{block: "directory", kind: stepfmt.KindDir, target: "path",
		fields: []field{withDef(fMode, "0755"), fOwner, fGroup, fDrift}, absent: []string{"recursive", "drift"}},
	{block: "file", kind: stepfmt.KindFile, target: "path", alt: stepfmt.KindAttrs,
		fields: []field{withDef(fMode, "0644"), fOwner, fGroup, fValidate, fDrift},
		extra:  []string{"content", "source", "template", "secret", "vars"}, build: buildFile, absent: []string{"drift"}},
	{block: "symlink", kind: stepfmt.KindLink, target: "path",
		fields: []field{{name: "to", key: "to"}, fOwner, fGroup, fDrift}, absent: []string{"drift"}},
	{block: "edit", kind: stepfmt.KindEdit, target: "path",
		fields: []field{fValidate, fDrift},
		extra:  editAttrs, build: buildEdit},
	{block: "tree", kind: stepfmt.KindDir, target: "path",
		extra:  []string{"source", "mode", "dir_mode", "owner", "group", "exclude", "drift"},
		expand: expandTree},
	{block: "group", kind: stepfmt.KindGroup, target: "name",
		fields: []field{{name: "gid", key: "gid"}, {name: "members", key: "members", list: true},
			{name: "system", key: "system"}, fDrift}, absent: []string{"drift"}},
	{block: "user", kind: stepfmt.KindUser, target: "name",
		fields: []field{{name: "uid", key: "uid"}, {name: "group", key: "group"},
			{name: "groups", key: "groups", list: true}, {name: "home", key: "home"},
			{name: "shell", key: "shell"}, {name: "system", key: "system"},
			{name: "password", key: "password"}, {name: "comment", key: "comment"}, fDrift}, absent: []string{"drift"}},
	{block: "apt_source", kind: stepfmt.KindFile, target: "name", extra: aptSourceAttrs, expand: expandAptSource},
	{block: "package", kind: stepfmt.KindPackage, target: "name",
		fields: []field{{name: "version", key: "version"}, {name: "recommends", key: "recommends"},
			{name: "purge", key: "purge"}, fDrift},
		extra: []string{"owns"}, build: buildPackage, absent: []string{"purge", "drift"}},
	{block: "unit", kind: stepfmt.KindUnit, target: "name",
		fields: []field{{name: "masked", key: "masked"}, {name: "reload", key: "reload"}, fDrift},
		extra:  []string{"enabled", "running", "restart_on", "reload_on"}, build: buildUnit, absent: []string{"masked", "drift"}},
	{block: "command", kind: stepfmt.KindCommand, target: "name",
		fields: []field{{name: "run", key: "run"}, {name: "undo", key: "undo"},
			{name: "creates", key: "creates"}, {name: "unless", key: "unless"},
			{name: "timeout", key: "timeout", def: "5m"}}, build: buildCommand},
	{block: "check", kind: stepfmt.KindCheck, target: "name",
		fields: []field{{name: "run", key: "run"}, {name: "retries", key: "retries"},
			{name: "interval", key: "interval"}, {name: "timeout", key: "timeout", def: "30s"}}},
	// Shorthands for FILE and CMD steps (conveniences.go).
	{block: "cron", kind: stepfmt.KindFile, target: "name", extra: []string{"schedule", "command", "user", "environment"}, expand: expandCron},
	{block: "sysctl", kind: stepfmt.KindFile, target: "key", extra: []string{"value"}, expand: expandSysctl},
	{block: "kernel_module", kind: stepfmt.KindFile, target: "name", extra: []string{"options"}, expand: expandKernelModule},
}

// Kinds lists the step kinds resource blocks compile to, in table order,
// each once: apply's test holds it to stepfmt's kinds and apply's.
func Kinds() []stepfmt.Kind {
	var out []stepfmt.Kind
	for _, kd := range kindDefs {
		for _, k := range []stepfmt.Kind{kd.kind, kd.alt} {
			if k != "" && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// required lists the attributes a block must have, per block type.
// presentRequired are those only a block that is not absent needs.
var required = map[string][]string{
	"tree":       {"source"},
	"command":    {"run"},
	"check":      {"run"},
	"apt_source": {"uris", "suites"},
	"cron":       {"schedule", "command"},
	"sysctl":     {"value"},
}

var presentRequired = map[string][]string{"symlink": {"to"}}

var kindByBlock = func() map[string]*kindDef {
	m := make(map[string]*kindDef, len(kindDefs))
	for _, kd := range kindDefs {
		attrs := []hcl.AttributeSchema{{Name: kd.target}}
		for _, a := range metaAttrs {
			attrs = append(attrs, hcl.AttributeSchema{Name: a})
		}
		for _, f := range kd.fields {
			attrs = append(attrs, hcl.AttributeSchema{Name: f.name})
		}
		for _, a := range kd.extra {
			attrs = append(attrs, hcl.AttributeSchema{Name: a})
		}
		if kd.absent != nil {
			attrs = append(attrs, hcl.AttributeSchema{Name: "absent"})
		}
		for _, name := range absentOnly(kd) {
			attrs = append(attrs, hcl.AttributeSchema{Name: name})
		}
		for _, name := range required[kd.block] {
			for i := range attrs {
				if attrs[i].Name == name {
					attrs[i].Required = true
				}
			}
		}
		kd.schema = &hcl.BodySchema{Attributes: attrs}
		m[kd.block] = kd
	}
	return m
}()

// resourceBlocks are the block headers of every resource type.
func resourceBlocks() []hcl.BlockHeaderSchema {
	out := make([]hcl.BlockHeaderSchema, len(kindDefs))
	for i, kd := range kindDefs {
		out[i] = hcl.BlockHeaderSchema{Type: kd.block, LabelNames: []string{"name"}}
	}
	return out
}

// blockNames lists resource block types, for suggestions.
func blockNames() []string {
	out := make([]string, len(kindDefs))
	for i, kd := range kindDefs {
		out[i] = kd.block
	}
	return out
}

var moduleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "include"}},
	Blocks: append([]hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "role", LabelNames: []string{"name"}},
		{Type: "module", LabelNames: []string{"name"}},
	}, resourceBlocks()...),
}

var roleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "hosts"}, {Name: "when"}},
	Blocks: append([]hcl.BlockHeaderSchema{
		{Type: "role", LabelNames: []string{"name"}},
		{Type: "module", LabelNames: []string{"name"}},
	}, resourceBlocks()...),
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}},
}

// moduleMeta are the attributes of a module block that are not arguments.
var moduleMeta = map[string]bool{"source": true, "for_each": true, "when": true, "depends_on": true}
