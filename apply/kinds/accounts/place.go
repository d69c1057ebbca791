package accounts

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// useradd and groupadd append the entry they make, and useradd -G the
// user to the end of each group's member list. An account that was
// there before trail and that a step makes absent would so come back, by
// the step's reverse, at the end of its files. The pre-image of such a
// step therefore notes where each line of the entry stood, per file:
// passwd-at and shadow-at for a user, group-at and gshadow-at for a
// group, each "INDEX" (the line's index, from 0) or "INDEX:NEXT" (and the
// name of the entry on the line after it). The reverse, once the tool has
// added the entry, moves its line before NEXT when NEXT is in the file,
// else to INDEX (or the end when the file is shorter), else — the entry
// was the last — to the end. The name comes first because it survives
// what the steps around it did: lines trail added since sit at the end
// and lines trail removed are back before (the reverses run newest
// first), so the entry lands between its old neighbours; an index alone
// would be off by each of them. The pre-image of any USER step on a user
// there before trail notes the user's place in the member lists of its
// groups the same way, per file (group-member-at and gshadow-member-at),
// as a comma list of GROUP:INDEX or GROUP:INDEX:NEXT, NEXT the member
// after it: the reverse's useradd -G or usermod -G appends the user to a
// list it had left. A pre-image without these keys (taken by
// an older trail) leaves the entry where the tool put it.

// placeKeys are the keys of the position attributes, by account file.
var placeKeys = map[string]string{
	"/etc/passwd": "passwd-at", "/etc/shadow": "shadow-at",
	"/etc/group": "group-at", "/etc/gshadow": "gshadow-at",
}

// memberPlaceKeys are the keys of a user's positions in the member
// lists of its groups, by file.
var memberPlaceKeys = map[string]string{"/etc/group": "group-member-at", "/etc/gshadow": "gshadow-member-at"}

// gshadowLineKey keeps, in the pre-image of an absent GROUP step, the
// store key of the group's /etc/gshadow line when it has a password or
// administrators, which groupadd does not write: the reverse puts the
// line back whole.
const gshadowLineKey = "gshadow-line"

// putGshadowLine puts back group name's gshadow line img saved (in the
// store, under gshadowLineKey).
func putGshadowLine(x *kind.Exec, name string, img kind.Image) error {
	key, ok := img.Get(gshadowLineKey)
	if !ok {
		return nil
	}
	saved, err := x.Store().Get(key)
	if err != nil {
		return fmt.Errorf("the saved /etc/gshadow line of group %s: %w", name, err)
	}
	return editAccounts(x, func(f string, data []byte) []byte {
		if f != "/etc/gshadow" {
			return nil
		}
		lines := fileLines(data)
		i := slices.IndexFunc(lines, func(l []byte) bool { return lineName(l) == name })
		if i < 0 || !bytes.HasSuffix(lines[i], []byte("\n")) || string(lines[i]) == string(saved)+"\n" {
			return nil
		}
		lines = slices.Clone(lines)
		lines[i] = append(slices.Clip(saved), '\n')
		return bytes.Join(lines, nil)
	})
}

// isPlaceKey reports whether key is a position attribute (placeKeys,
// memberPlaceKeys) or the saved gshadow line (gshadowLineKey), neither of
// which a plan shows.
func isPlaceKey(key string) bool {
	if key == gshadowLineKey {
		return true
	}
	for _, m := range []map[string]string{placeKeys, memberPlaceKeys} {
		for _, k := range m {
			if k == key {
				return true
			}
		}
	}
	return false
}

// withoutPlace returns img without its position attributes: they say
// where the entry stood, not what it holds.
func withoutPlace(img kind.Image) kind.Image {
	img.Attrs = slices.DeleteFunc(slices.Clone(img.Attrs), func(a stepfmt.Attr) bool { return isPlaceKey(a.Key) })
	return img
}

// withPlace adds to img where name's line stands in each of files.
func withPlace(x *kind.Exec, name string, img kind.Image, files ...string) (kind.Image, error) {
	for _, f := range files {
		data, err := accountData(x, f)
		if err != nil {
			return kind.Image{}, err
		}
		lines := fileLines(data)
		i := slices.IndexFunc(lines, func(l []byte) bool { return lineName(l) == name })
		if i < 0 {
			continue
		}
		at := strconv.Itoa(i)
		if i+1 < len(lines) {
			at += ":" + lineName(lines[i+1])
		}
		img.Attrs = append(img.Attrs, stepfmt.Attr{Key: placeKeys[f], Value: at})
	}
	return img, nil
}

// putInPlace moves name's lines to where img noted them (withPlace).
func putInPlace(x *kind.Exec, name string, img kind.Image) error {
	var bad error
	err := editAccounts(x, func(f string, data []byte) []byte {
		at, ok := img.Get(placeKeys[f])
		if !ok || len(data) == 0 || data[len(data)-1] != '\n' {
			return nil // not as the tools write it: leave it to them
		}
		idx, next, _ := strings.Cut(at, ":")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 {
			bad = fmt.Errorf("user or group %s: position %s=%q in its saved image is not INDEX or INDEX:NAME", name, placeKeys[f], at)
			return nil
		}
		lines := fileLines(data)
		cur := slices.IndexFunc(lines, func(l []byte) bool { return lineName(l) == name })
		if cur < 0 {
			return nil
		}
		line := lines[cur]
		rest := slices.Delete(slices.Clone(lines), cur, cur+1)
		to := len(rest)
		if next != "" {
			to = min(n, len(rest))
			if j := slices.IndexFunc(rest, func(l []byte) bool { return lineName(l) == next }); j >= 0 {
				to = j
			}
		}
		if to == cur {
			return nil
		}
		return bytes.Join(slices.Insert(rest, to, line), nil)
	})
	if bad != nil {
		return bad
	}
	return err
}

// fileLines splits account file data into its lines, each with its
// newline.
func fileLines(data []byte) [][]byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineName returns the name an account file line is the entry of.
func lineName(l []byte) string {
	name, _, _ := bytes.Cut(l, []byte(":"))
	return string(name)
}

// withMemberPlace adds to img where user name stands in the member list
// of each group that holds it, in /etc/group and /etc/gshadow.
func withMemberPlace(x *kind.Exec, name string, img kind.Image) (kind.Image, error) {
	for _, f := range []string{"/etc/group", "/etc/gshadow"} {
		data, err := accountData(x, f)
		if err != nil {
			return kind.Image{}, err
		}
		var at []string
		for _, l := range fileLines(data) {
			fs := strings.Split(strings.TrimSuffix(string(l), "\n"), ":")
			ms := memberList(fs)
			i := slices.Index(ms, name)
			if i < 0 {
				continue
			}
			p := fs[0] + ":" + strconv.Itoa(i)
			if i+1 < len(ms) {
				p += ":" + ms[i+1]
			}
			at = append(at, p)
		}
		if len(at) > 0 {
			img.Attrs = append(img.Attrs, stepfmt.Attr{Key: memberPlaceKeys[f], Value: strings.Join(at, ",")})
		}
	}
	return img, nil
}

// putMembersInPlace moves user name, in the member list of each group
// img noted (withMemberPlace), to where it stood.
func putMembersInPlace(x *kind.Exec, name string, img kind.Image) error {
	var bad error
	err := editAccounts(x, func(f string, data []byte) []byte {
		v, ok := img.Get(memberPlaceKeys[f])
		if !ok || len(data) == 0 || data[len(data)-1] != '\n' {
			return nil
		}
		type place struct {
			at   int
			next string
		}
		places := map[string]place{}
		for _, p := range strings.Split(v, ",") {
			group, rest, _ := strings.Cut(p, ":")
			idx, next, _ := strings.Cut(rest, ":")
			n, err := strconv.Atoi(idx)
			if group == "" || err != nil || n < 0 {
				bad = fmt.Errorf("user %s: position %s=%q in its saved image is not a list of GROUP:INDEX or GROUP:INDEX:NEXT", name, memberPlaceKeys[f], v)
				return nil
			}
			places[group] = place{at: n, next: next}
		}
		lines := fileLines(data)
		changed := false
		for i, l := range lines {
			p, ok := places[lineName(l)]
			if !ok {
				continue
			}
			fs := strings.Split(strings.TrimSuffix(string(l), "\n"), ":")
			ms := memberList(fs)
			cur := slices.Index(ms, name)
			if cur < 0 {
				continue
			}
			rest := slices.Delete(slices.Clone(ms), cur, cur+1)
			to := len(rest)
			if p.next != "" {
				to = min(p.at, len(rest))
				if j := slices.Index(rest, p.next); j >= 0 {
					to = j
				}
			}
			if to == cur {
				continue
			}
			fs[len(fs)-1] = strings.Join(slices.Insert(rest, to, name), ",")
			lines = slices.Clone(lines)
			lines[i], changed = []byte(strings.Join(fs, ":")+"\n"), true
		}
		if !changed {
			return nil
		}
		return bytes.Join(lines, nil)
	})
	if bad != nil {
		return bad
	}
	return err
}

// memberList returns the members of a group or gshadow line split into
// its fields (the last field of both).
func memberList(fs []string) []string {
	if len(fs) < 4 || fs[len(fs)-1] == "" {
		return nil
	}
	return strings.Split(fs[len(fs)-1], ",")
}
