package kind

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"trail/stepfmt"
)

// StateAbsent is the state of a target that does not exist.
const StateAbsent = "absent"

// Image is the state of one target as its kind records it: a state word
// ("absent", or one the kind defines, such as "file", "dir" or "link") and
// attributes the kind defines, in a fixed order. An attribute whose value
// starts with "sha256:" names a blob in the store. Images are kept in the
// applied record and the journal in their text form (String, ParseImage),
// e.g. `file content=sha256:… mode=0644 uid=0 gid=0`.
type Image struct {
	State string
	Attrs []stepfmt.Attr
}

// Absent is the image of a target that does not exist.
func Absent() Image { return Image{State: StateAbsent} }

// IsAbsent reports whether the image is of a target that does not exist.
func (m Image) IsAbsent() bool { return m.State == StateAbsent || m.State == "" }

// Get returns the value of attribute key and whether it is set.
func (m Image) Get(key string) (string, bool) {
	for _, a := range m.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Value returns attribute key, or "" when unset.
func (m Image) Value(key string) string {
	v, _ := m.Get(key)
	return v
}

// SealedKey is the attribute that names the sealed copy of the part an
// image names by its hash under key (a USER's password, a GROUP's
// gshadow line, when a secret step names their file): that hash names
// no blob, as the part is never kept in the clear.
func SealedKey(key string) string { return key + sealedSuffix }

const sealedSuffix = "-sealed"

// Blobs lists the store keys the image refers to.
func (m Image) Blobs() []string { return m.blobs("") }

// WroteBlobs is Blobs of an image of what trail wrote at a target of kind
// k, less the attributes stepfmt.IsHidden names: they hold the hash of
// the step's own value (a USER's password field), which the step gives
// back and the store never holds.
func (m Image) WroteBlobs(k stepfmt.Kind) []string { return m.blobs(k) }

func (m Image) blobs(k stepfmt.Kind) []string {
	var out []string
	secret := m.Value("secret") != ""
	for _, a := range m.Attrs {
		if secret && a.Key == "content" {
			continue // a secret's plaintext is never kept (secret.go)
		}
		if _, ok := m.Get(SealedKey(a.Key)); ok {
			continue // kept sealed only, under SealedKey
		}
		if k != "" && stepfmt.IsHidden(k, a.Key) {
			continue
		}
		if strings.HasPrefix(a.Value, "sha256:") {
			out = append(out, a.Value)
		}
	}
	return out
}

// Shown renders the image of a target of kind k for people: String, with
// what is never shown as stepfmt.Hidden: the content of a secret (an image
// with secret set), since the hash of a short secret lets anyone who reads
// a log test guesses, and the attributes stepfmt.IsHidden names (a USER's
// password, whose image holds the hash of the shadow field).
func (m Image) Shown(k stepfmt.Kind) string {
	secret := m.Value("secret") != ""
	hide := func(key string) bool { return secret && key == "content" || stepfmt.IsHidden(k, key) }
	if !slices.ContainsFunc(m.Attrs, func(a stepfmt.Attr) bool { return hide(a.Key) }) {
		return m.String()
	}
	c := Image{State: m.State, Attrs: slices.Clone(m.Attrs)}
	for i := range c.Attrs {
		if hide(c.Attrs[i].Key) {
			c.Attrs[i].Value = stepfmt.Hidden
		}
	}
	return c.String()
}

// Equal reports whether two images are the same.
func (m Image) Equal(o Image) bool {
	if m.State != o.State && !(m.IsAbsent() && o.IsAbsent()) || len(m.Attrs) != len(o.Attrs) {
		return false
	}
	for i := range m.Attrs {
		if m.Attrs[i] != o.Attrs[i] {
			return false
		}
	}
	return true
}

// String renders the image on one line, values quoted where needed.
func (m Image) String() string {
	var b strings.Builder
	m.Render(&b)
	return b.String()
}

// Render writes the image to w as String renders it, without building
// the string (the applied record writes one per target).
func (m Image) Render(w io.StringWriter) {
	if m.State == "" {
		w.WriteString(StateAbsent)
	} else {
		w.WriteString(m.State)
	}
	for _, a := range m.Attrs {
		w.WriteString(" ")
		w.WriteString(a.Key)
		w.WriteString("=")
		w.WriteString(stepfmt.QuoteValue(a.Value))
	}
}

// ParseImage reads the text form of an image.
func ParseImage(s string) (Image, error) {
	state, rest, _ := strings.Cut(s, " ")
	if !isWord(state) {
		return Image{}, fmt.Errorf("image %q: the state must be a plain word such as absent or file", s)
	}
	m := Image{State: state}
	if rest != "" {
		// At most one attribute an "=": sized once, not grown by appends
		// (the applied record of 100,000 targets parses 400,000).
		m.Attrs = make([]stepfmt.Attr, 0, strings.Count(rest, "="))
	}
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || !isWord(key) {
			return Image{}, fmt.Errorf("image %q: expected key=value at %q", s, rest)
		}
		val, tail, err := stepfmt.ReadValue(after)
		if err != nil {
			return Image{}, fmt.Errorf("image %q: %s: %w", s, key, err)
		}
		if tail != "" {
			if tail[0] != ' ' {
				return Image{}, fmt.Errorf("image %q: a space must follow the value of %s", s, key)
			}
			tail = tail[1:]
		}
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: key, Value: val})
		rest = tail
	}
	return m, nil
}

// isWord reports whether s is a non-empty run of letters, digits and "-".
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Clone returns a copy of the image that shares no memory with m.
func (m Image) Clone() Image {
	m.Attrs = slices.Clone(m.Attrs)
	return m
}
