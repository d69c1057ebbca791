package stepfmt

import (
	"fmt"
	"strings"
	"testing"
)

const testHash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func st(k Kind, target string, attrs ...string) *Step {
	s := &Step{Kind: k, Target: target, Src: Source{File: "t.hcl", Line: 1}}
	for i := 0; i+1 < len(attrs); i += 2 {
		s.Attrs = append(s.Attrs, Attr{attrs[i], attrs[i+1]})
	}
	return s
}

// TestValidateRules has one case per rule: each list breaks exactly that
// rule, so removing the rule makes its case fail; the "valid" case guards
// against rules that fire on good lists.
func TestValidateRules(t *testing.T) {
	file := func(p string, attrs ...string) *Step {
		return st(KindFile, p, append([]string{"content", testHash}, attrs...)...)
	}
	tests := map[string]struct {
		steps []*Step
		want  string // substring of the only error; "" for none
	}{
		"valid": {[]*Step{st(KindGroup, "g"), st(KindUser, "u", "group", "g"), st(KindDir, "/a", "owner", "u"),
			file("/a/f", "group", "g"), st(KindUnit, "x.service", "restart-on", "/a/f"),
			st(KindCommand, "c", "run", "x", "undo", "y", "timeout", "1s"), st(KindPackage, "nginx"),
			st(KindUnit, "y.service", "restart-on", "/a/f,command:c", "reload-on", "package:nginx")}, ""},
		"managed twice":             {[]*Step{st(KindDir, "/a"), file("/a")}, "managed twice: also by DIR /a at t.hcl:1"},
		"parent managed later":      {[]*Step{file("/a/f"), st(KindDir, "/a")}, "parent directory /a is managed later"},
		"grandparent later":         {[]*Step{file("/a/b/f"), st(KindDir, "/a")}, "parent directory /a is managed later"},
		"under a file":              {[]*Step{file("/a"), file("/a/b/c")}, "is under /a, which is managed as a file"},
		"under a symlink":           {[]*Step{st(KindLink, "/a", "to", "/b"), st(KindDir, "/a/b")}, "managed as a symlink"},
		"relative path":             {[]*Step{st(KindDir, "a/b")}, "is relative"},
		"dotdot path":               {[]*Step{st(KindDir, "/a/../b")}, "contains .."},
		"unclean path":              {[]*Step{st(KindDir, "/a/./b")}, "is not clean"},
		"root path":                 {[]*Step{st(KindDir, "/")}, "root directory itself"},
		"unknown kind":              {[]*Step{st("BLOB", "/a")}, "unknown kind"},
		"unknown attribute":         {[]*Step{st(KindDir, "/a", "colour", "red")}, `unknown attribute "colour"`},
		"attribute twice":           {[]*Step{st(KindDir, "/a", "mode", "0755", "mode", "0755")}, "given twice"},
		"bad mode":                  {[]*Step{st(KindDir, "/a", "mode", "0999")}, "not an octal mode"},
		"non-canonical mode":        {[]*Step{st(KindDir, "/a", "mode", "755")}, `write "0755"`},
		"bad uid":                   {[]*Step{st(KindUser, "u", "uid", "4294967295")}, "not a number from 0"},
		"bad owner name":            {[]*Step{st(KindDir, "/a", "owner", "a:b")}, "not a valid user or group name"},
		"missing content":           {[]*Step{st(KindFile, "/a")}, "missing required attribute content"},
		"bad hash":                  {[]*Step{st(KindFile, "/a", "content", "md5:00")}, "is not sha256:"},
		"owner managed later":       {[]*Step{st(KindDir, "/a", "owner", "u"), st(KindUser, "u")}, "owner u is managed later"},
		"group managed later":       {[]*Step{st(KindUser, "u", "group", "g"), st(KindGroup, "g")}, "group g is managed later"},
		"restart-on unmanaged":      {[]*Step{st(KindUnit, "x.service", "restart-on", "/etc/x")}, "restart-on names /etc/x"},
		"package trigger unmanaged": {[]*Step{st(KindUnit, "x.service", "restart-on", "package:nginx")}, "restart-on names package:nginx, which no PKG step manages"},
		"command trigger unmanaged": {[]*Step{st(KindPackage, "c"+"c"), st(KindUnit, "x.service", "reload-on", "command:cc")}, "reload-on names command:cc, which no CMD step manages"},
		"unknown trigger":           {[]*Step{st(KindUnit, "x.service", "restart-on", "user:u")}, "neither an absolute path nor package:NAME or command:NAME"},
		"bad trigger package":       {[]*Step{st(KindUnit, "x.service", "restart-on", "package:Foo")}, "not a Debian package name"},
		"command without timeout":   {[]*Step{st(KindCommand, "c", "run", "x", "undo", "y")}, "needs timeout="},
		"check without timeout":     {[]*Step{st(KindCheck, "c", "run", "x")}, "needs timeout="},
		"command without undo":      {[]*Step{st(KindCommand, "c", "run", "x", "timeout", "1s")}, "missing required attribute undo"},
		"unit without suffix":       {[]*Step{st(KindUnit, "nginx")}, "needs a unit type suffix"},
		"unresolved include":        {[]*Step{st(KindInclude, "x.steps")}, "include not resolved"},
		"bad package name":          {[]*Step{st(KindPackage, "Foo")}, "not a Debian package name"},
		"zero duration":             {[]*Step{st(KindCheck, "c", "run", "x", "timeout", "0s")}, "not a positive Go duration"},
		"user and group namespace":  {[]*Step{st(KindUser, "x"), st(KindUser, "x")}, "managed twice"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			errs := Validate(&List{Steps: tc.steps})
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("want no errors, got:\n%v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("want one error containing %q, got:\n%v", tc.want, errs)
			}
			if !strings.HasPrefix(errs[0].Error(), "t.hcl:1: ") {
				t.Errorf("error does not start with its place: %v", errs[0])
			}
		})
	}
	// ValidateIndexed, given the index of a list without a step twice,
	// finds every error Validate finds.
	for name, tc := range tests {
		l := &List{Steps: tc.steps}
		index := NewIndex(len(l.Steps), func(i int) *Step { return l.Steps[i] })
		dup := false
		for i := range l.Steps {
			_, twice := index.Add(i)
			dup = dup || twice
		}
		if dup {
			continue
		}
		if a, b := fmt.Sprint(ValidateIndexed(l, index.For(func(i int) *Step { return l.Steps[i] }))), fmt.Sprint(Validate(l)); a != b {
			t.Errorf("%s: ValidateIndexed found %s, Validate %s", name, a, b)
		}
	}
}
