package paths

import (
	"bytes"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// Matches is Drift's answer for a FILE, DIR or EDIT target whose record
// holds the usual image (kind.Matcher): a file or directory with content,
// mode, uid and gid, each at most once and in that order, as Image writes
// them. The target matches when its lstat has the type, mode and owners
// written and, for a file, the drift index holds the written content for
// its stat (the hash HashFile would take without reading). Any other
// image, or a file the index cannot vouch for, is Drift's to read.
func (File) Matches(x *kind.Exec, target string, wrote []byte) bool {
	return matchesText(x, target, wrote)
}

// Matches is File's.
func (Dir) Matches(x *kind.Exec, target string, wrote []byte) bool {
	return matchesText(x, target, wrote)
}

// Matches is File's: an EDIT's image is a file's.
func (Edit) Matches(x *kind.Exec, target string, wrote []byte) bool {
	return matchesText(x, target, wrote)
}

// wroteText is an image's text read by matchesText.
type wroteText struct {
	typ                     fsx.Type
	sum                     []byte // the content's hex digits, nil for none
	mode, uid, gid          uint32
	hasMode, hasUID, hasGID bool
}

// readWroteText reads the image text in the shape Image writes for a
// file or directory; false for any other.
func readWroteText(wrote []byte) (wroteText, bool) {
	var w wroteText
	state, rest, _ := bytes.Cut(wrote, []byte(" "))
	switch string(state) {
	case StFile:
		w.typ = fsx.Regular
	case StDir:
		w.typ = fsx.Dir
	default:
		return w, false
	}
	at := 0 // the place in content, mode, uid, gid of the last attribute
	for len(rest) > 0 {
		var tok []byte
		tok, rest, _ = bytes.Cut(rest, []byte(" "))
		key, val, ok := bytes.Cut(tok, []byte("="))
		if !ok {
			return w, false
		}
		var place int
		switch string(key) {
		case "content":
			place = 1
			v, ok := bytes.CutPrefix(val, []byte("sha256:"))
			if !ok || len(v) != 64 || w.typ != fsx.Regular {
				return w, false
			}
			w.sum = v
		case "mode":
			place = 2
			if len(val) != 4 {
				return w, false
			}
			for _, c := range val {
				if c < '0' || c > '7' {
					return w, false
				}
				w.mode = w.mode<<3 | uint32(c-'0')
			}
			w.hasMode = true
		case "uid":
			place = 3
			w.uid, ok = canonUint32(val)
			w.hasUID = true
		case "gid":
			place = 4
			w.gid, ok = canonUint32(val)
			w.hasGID = true
		default:
			return w, false
		}
		if !ok || place <= at {
			return w, false
		}
		at = place
	}
	return w, w.typ != fsx.Regular || w.sum != nil
}

// canonUint32 reads a number as strconv.FormatUint writes it (no sign, no
// leading zero) that fits in 32 bits.
func canonUint32(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 || len(b) > 1 && b[0] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return uint32(n), n <= 1<<32-1
}

// matchesText is the Matches of the path kinds whose Drift is pathDrift.
// A file image without content is left to Drift, which reads the file.
func matchesText(x *kind.Exec, target string, wrote []byte) bool {
	w, ok := readWroteText(wrote)
	if !ok {
		return false
	}
	st, err := x.Root.Lstat(target)
	if err != nil || st.Type != w.typ || w.hasMode && st.Mode != w.mode || w.hasUID && st.UID != w.uid || w.hasGID && st.GID != w.gid {
		return false
	}
	return w.sum == nil || x.HashIs(target, st, w.sum)
}
