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
// and in gshadow's administrator lists (gshadow-admin-at), as a comma
// list of GROUP:INDEX or GROUP:INDEX:NEXT, NEXT the name after it: the
// reverse's useradd -G or usermod -G appends the user to a list it had
// left, and userdel takes it out of the administrators, where useradd
// does not put it back. A pre-image without these keys (taken by
// an older trail) leaves the entry where the tool put it.

// placeKeys are the keys of the position attributes, by account file.
var placeKeys = map[string]string{
	"/etc/passwd": "passwd-at", "/etc/shadow": "shadow-at",
	"/etc/group": "group-at", "/etc/gshadow": "gshadow-at",
}

// gshadowLineKey keeps, in the pre-image of an absent GROUP step, the
// store key of the group's /etc/gshadow line when it has a password or
// administrators, which groupadd does not write: the reverse puts the
// line back whole. It is sealed when a secret step names /etc/gshadow
// (sealed.go).
const gshadowLineKey = "gshadow-line"

// putGshadowLine puts back group name's gshadow line img saved (in the
// store, under gshadowLineKey).
func putGshadowLine(x *kind.Exec, name string, img kind.Image) error {
	if key, _ := savedPart(img, gshadowLineKey); key == "" {
		return nil
	}
	saved, err := loadPart(x, img, gshadowLineKey)
	if err != nil {
		return fmt.Errorf("the saved /etc/gshadow line of group %s: %w", name, err)
	}
	return editAccounts(x, func(f string, data []byte) []byte {
		if f != "/etc/gshadow" {
			return nil
		}
		lines := fileLines(data)
		i := slices.IndexFunc(lines, func(l []byte) bool { return lineName(l) == name })
		if i < 0 || !bytes.HasSuffix(lines[i], []byte("\n")) || string(lines[i]) == saved+"\n" {
			return nil
		}
		lines = slices.Clone(lines)
		lines[i] = []byte(saved + "\n")
		return bytes.Join(lines, nil)
	})
}

// isPlaceKey reports whether key is a position attribute (placeKeys,
// nameLists) or a saved part (gshadowLineKey, sealedKey), none of
// which a plan shows.
func isPlaceKey(key string) bool {
	if key == gshadowLineKey || isSealedKey(key) || isSubKey(key) {
		return true
	}
	for _, k := range placeKeys {
		if k == key {
			return true
		}
	}
	return slices.ContainsFunc(nameLists, func(l nameList) bool { return l.key == key })
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

// nameList is a comma list field of group or gshadow lines that names
// users: the member lists of both files, and gshadow's administrators.
type nameList struct {
	file  string
	field int    // the field's index; -1 for the last
	key   string // the position attribute
	add   bool   // the tools do not put the user back in it: trail does
}

// nameLists are the lists a user's place in is noted (withMemberPlace).
// userdel takes the user out of gshadow's administrators too, and
// useradd does not put it back there.
var nameLists = []nameList{
	{"/etc/group", -1, "group-member-at", false},
	{"/etc/gshadow", -1, "gshadow-member-at", false},
	{"/etc/gshadow", 2, "gshadow-admin-at", true},
}

// names returns the names in list l's field of a line split into its
// fields; nil when the line has not the 4 fields of both files.
func (l nameList) names(fs []string) []string {
	i := l.index(fs)
	if i < 0 || fs[i] == "" {
		return nil
	}
	return strings.Split(fs[i], ",")
}

func (l nameList) index(fs []string) int {
	if len(fs) != 4 {
		return -1
	}
	if l.field < 0 {
		return len(fs) - 1
	}
	return l.field
}

// withMemberPlace adds to img where user name stands in each list of
// nameLists that holds it.
func withMemberPlace(x *kind.Exec, name string, img kind.Image) (kind.Image, error) {
	for _, nl := range nameLists {
		data, err := accountData(x, nl.file)
		if err != nil {
			return kind.Image{}, err
		}
		var at []string
		for _, l := range fileLines(data) {
			fs := strings.Split(strings.TrimSuffix(string(l), "\n"), ":")
			ms := nl.names(fs)
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
			img.Attrs = append(img.Attrs, stepfmt.Attr{Key: nl.key, Value: strings.Join(at, ",")})
		}
	}
	return img, nil
}

// putMembersInPlace puts user name, in each list img noted
// (withMemberPlace), where it stood.
func putMembersInPlace(x *kind.Exec, name string, img kind.Image) error {
	var bad error
	err := editAccounts(x, func(f string, data []byte) []byte {
		if len(data) == 0 || data[len(data)-1] != '\n' {
			return nil
		}
		lines := fileLines(data)
		changed := false
		for _, nl := range nameLists {
			v, ok := img.Get(nl.key)
			if !ok || nl.file != f {
				continue
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
					bad = fmt.Errorf("user %s: position %s=%q in its saved image is not a list of GROUP:INDEX or GROUP:INDEX:NEXT", name, nl.key, v)
					return nil
				}
				places[group] = place{at: n, next: next}
			}
			for i, l := range lines {
				p, ok := places[lineName(l)]
				if !ok {
					continue
				}
				fs := strings.Split(strings.TrimSuffix(string(l), "\n"), ":")
				fi := nl.index(fs)
				if fi < 0 {
					continue
				}
				ms := nl.names(fs)
				cur := slices.Index(ms, name)
				if cur < 0 && !nl.add {
					continue
				}
				rest := slices.Clone(ms)
				if cur >= 0 {
					rest = slices.Delete(rest, cur, cur+1)
				}
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
				fs[fi] = strings.Join(slices.Insert(rest, to, name), ",")
				lines = slices.Clone(lines)
				lines[i], changed = []byte(strings.Join(fs, ":")+"\n"), true
			}
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
