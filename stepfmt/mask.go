package stepfmt

// Hidden is what Masked shows in place of a hidden value.
const Hidden = "(hidden)"

// hidden names the attributes whose values are never shown to people,
// by kind: a USER's password hash, which anyone who reads a log could try
// to crack. The step list itself keeps them (it is what is applied).
var hidden = map[Kind][]string{KindUser: {"password"}}

// IsHidden reports whether attribute key of kind k is never shown.
func IsHidden(k Kind, key string) bool {
	for _, h := range hidden[k] {
		if h == key {
			return true
		}
	}
	return false
}

// Masked returns s for showing to people: s itself when it has no hidden
// attribute, otherwise a copy with each hidden value replaced by Hidden.
// Plans, events, the journal and error messages show steps masked.
func Masked(s *Step) *Step {
	if s == nil || len(hidden[s.Kind]) == 0 {
		return s
	}
	var out *Step
	for i, a := range s.Attrs {
		if !IsHidden(s.Kind, a.Key) {
			continue
		}
		if out == nil {
			c := *s
			c.Attrs = append([]Attr(nil), s.Attrs...)
			out = &c
		}
		out.Attrs[i].Value = Hidden
	}
	if out == nil {
		return s
	}
	return out
}
