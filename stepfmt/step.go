package stepfmt

import (
	"strconv"
	"strings"
)

// Version is the step format version written in and required by the header.
const Version = "v1"

// Kind names a step kind as written in the step language (DIR, FILE, ...).
type Kind string

// The step kinds. Their attributes are described by the table in kinds.go.
const (
	KindDir     Kind = "DIR"
	KindFile    Kind = "FILE"
	KindLink    Kind = "LINK"
	KindEdit    Kind = "EDIT"
	KindAttrs   Kind = "ATTRS"
	KindUser    Kind = "USER"
	KindGroup   Kind = "GROUP"
	KindPackage Kind = "PKG"
	KindUnit    Kind = "UNIT"
	KindCommand Kind = "CMD"
	KindCheck   Kind = "CHECK"
	KindInclude Kind = "INCLUDE"
)

// Attr is one key=value attribute of a step. Values are kept as canonical
// strings so that two steps compare equal exactly when they mean the same.
type Attr struct {
	Key   string
	Value string
}

// Source is where a step came from: a file and a line or line range. It is
// carried for reporting only and never takes part in comparison.
type Source struct {
	File    string
	Line    int
	EndLine int // 0 or equal to Line for a single line
}

// IsZero reports whether no source is known.
func (s Source) IsZero() bool { return s.File == "" && s.Line == 0 }

// String renders the source as file:line or file:line-end.
func (s Source) String() string {
	if s.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString(s.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(s.Line))
	if s.EndLine > s.Line {
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(s.EndLine))
	}
	return b.String()
}

// Step is one atomic step: a kind, the target it manages, its attributes in
// the kind's canonical order, and the source that produced it.
type Step struct {
	Kind   Kind
	Target string
	Attrs  []Attr
	Src    Source
}

// ID is the identity of a step: its kind and target. Two steps with the same
// ID in an old and a new list are the same resource, possibly modified.
type ID struct {
	Kind   Kind
	Target string
}

func (id ID) String() string { return string(id.Kind) + " " + id.Target }

// ID returns the step's identity.
func (s *Step) ID() ID { return ID{s.Kind, s.Target} }

// Get returns the value of attribute key and whether it is set.
func (s *Step) Get(key string) (string, bool) {
	for _, a := range s.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Value returns the value of attribute key, or "" when it is not set.
func (s *Step) Value(key string) string {
	v, _ := s.Get(key)
	return v
}

// StoreKey returns the content store key the step names, if any: a
// FILE's content, an EDIT's edit script (the kinds' hash attributes). A
// caller that puts back what a list needs in the store asks this, so an
// edit script is not left out as a content it never heard of.
func (s *Step) StoreKey() (string, bool) {
	switch s.Kind {
	case KindFile:
		return s.Get("content")
	case KindEdit:
		return s.Get("edits")
	}
	return "", false
}

// Absent reports whether the step asks for its target not to be there
// (absent=true).
func (s *Step) Absent() bool { return s.Value("absent") == "true" }

// List returns a list-valued attribute split on commas (nil when unset).
func (s *Step) List(key string) []string {
	v, ok := s.Get(key)
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Set sets attribute key to value, keeping the kind's canonical order. Value
// is stored as given; use Canon to normalise user input first.
func (s *Step) Set(key, value string) {
	for i := range s.Attrs {
		if s.Attrs[i].Key == key {
			s.Attrs[i].Value = value
			return
		}
	}
	s.Attrs = append(s.Attrs, Attr{key, value})
	sortAttrs(s.Kind, s.Attrs)
}

// SameAttrs reports whether two steps have identical attributes. Sources are
// ignored: moving a block in the config is not a change on the host.
func (s *Step) SameAttrs(o *Step) bool {
	if len(s.Attrs) != len(o.Attrs) {
		return false
	}
	for i := range s.Attrs {
		if s.Attrs[i] != o.Attrs[i] {
			return false
		}
	}
	return true
}

// Equal reports whether two steps are the same step with the same attributes.
func (s *Step) Equal(o *Step) bool {
	return s.Kind == o.Kind && s.Target == o.Target && s.SameAttrs(o)
}

// Header is the first line of a step list: format version, commit and host.
type Header struct {
	Version string
	Commit  string
	Host    string
}

// List is a whole step list as compiled for one host at one commit.
type List struct {
	Header Header
	Steps  []*Step
}
