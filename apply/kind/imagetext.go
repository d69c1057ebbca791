package kind

import (
	"bytes"

	"trail/internal/fsx"
	"trail/stepfmt"
)

// The applied record holds every target's images as text. A look at every
// target (a --force, a status) finds most of them as trail wrote them;
// decoding each image to compare it took a tenth of such a look's CPU at
// 100,000 files. What follows reads them as text where that is enough.

// Matcher is a Handler that can tell from the text of what trail wrote
// (the image as the applied record holds it) that its target still
// matches it, without decoding the image. Matches is true only when Drift
// would return an image equal to wrote without an error; false says only
// that it cannot tell so cheaply, and the caller runs Drift.
type Matcher interface {
	Matches(x *Exec, target string, wrote []byte) bool
}

// CheckImageText reports whether text is an image that ParseImage reads,
// without building it: an image of bare values is checked in place, one
// with a quoted value through ParseImage.
func CheckImageText(text []byte) bool {
	if bytes.IndexByte(text, '"') >= 0 {
		_, err := ParseImage(string(text))
		return err == nil
	}
	state, rest, _ := bytes.Cut(text, []byte(" "))
	if !isWordBytes(state) {
		return false
	}
	for len(rest) > 0 {
		key, after, ok := bytes.Cut(rest, []byte("="))
		if !ok || !isWordBytes(key) {
			return false
		}
		val, tail, _ := bytes.Cut(after, []byte(" "))
		if !stepfmt.IsBareValue(val) {
			return false
		}
		rest = tail
	}
	return true
}

func isWordBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// HashIs reports whether the index holds, for the regular file p of stat
// st, the content key "sha256:" + hexSum (64 lower-case hex digits): what
// HashFile would return without reading the file. False when the index
// does not know p at st, or cannot be asked without a key string.
func (x *Exec) HashIs(p string, st fsx.Stat, hexSum []byte) bool {
	ix, ok := x.index.(interface {
		SumIs(p string, st fsx.Stat, hexSum []byte) bool
	})
	return ok && ix.SumIs(p, st, hexSum)
}
