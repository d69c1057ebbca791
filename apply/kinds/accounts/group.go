package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// Group runs GROUP steps with groupadd, groupmod and groupdel from the
// shadow suite, run with --root ROOT when the root is not "/".
//
// --root, not --prefix: both work on a bare directory holding only
// etc/passwd, etc/group, etc/shadow and etc/gshadow (the tools chroot
// themselves and need nothing else in the root), but with --prefix useradd
// copies the host's /etc/skel into a new home and authenticates through
// the host's PAM files; with --root everything it reads (login.defs,
// default/useradd, skel) is the root's own.
//
// A group's image is its gid and its members as /etc/group lists them
// (in file order, so that a restored entry is the one found). Creating
// a group is groupadd (gid, system, members); members and gid of an
// existing group are modified in place, in /etc/gshadow too (groupadd -U
// and groupmod -U set /etc/group's alone). The reverse removes a group only
// when trail created it, and otherwise puts its gid and members back (and
// gshadow's members, saved apart when they differed from group's).
// Members are users that must exist when the step runs: a user created by
// the same apply must come first, or name the group in its own groups.
type Group struct{}

// groupNS is the namespace of group identities.
const groupNS = "group"

const stGroup = "group"

// Check plans making the group match s.
func (Group) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	x := v.Exec()
	cur, err := v.Lookup(groupNS, s.Target, func() (kind.Image, error) { return readGroup(x, s.Target) })
	if err != nil {
		return kind.Work{}, err
	}
	if s.Absent() {
		return groupAbsent(v, s, cur)
	}
	gr, err := loadAccounts(x, "/etc/group")
	if err != nil {
		return kind.Work{}, err
	}
	after := kind.Image{State: stGroup}
	var notes []string
	if gid, ok := s.Get("gid"); ok {
		if name := gr.holder(gid, s.Target); name != "" {
			return kind.Work{}, fmt.Errorf("gid %s already belongs to group %s: pick another gid, or leave gid unset to let groupadd choose", gid, name)
		}
		after.Attrs = append(after.Attrs, stepfmt.Attr{Key: "gid", Value: gid})
	}
	members, managed := s.Get("members")
	if !managed && prior != nil {
		if _, was := prior.Wrote.Get("members"); was {
			members, managed = sortedNames(prior.Origin.Value("members")), true
		}
	}
	if managed {
		for _, m := range kind.SplitNames(members) {
			if _, err := x.UID(m); errors.Is(err, kind.ErrPlanned) {
				notes = append(notes, "member "+m+" is created by this apply: its USER step must come before this group")
			} else if err != nil {
				return kind.Work{}, fmt.Errorf("member %s: %w", m, err)
			}
		}
		after.Attrs = append(after.Attrs, stepfmt.Attr{Key: "members", Value: members})
	}
	w := kind.Work{Before: cur, After: after, Notes: notes}
	if cur.IsAbsent() {
		w.Changes = []string{"create group" + describeEntry(after)}
		w.Target = after
	} else {
		w.Target = cur
		w.Changes = entryChanges(cur, after, "members")
		if len(w.Changes) > 0 {
			w.Target = withAttrs(cur, after)
		}
	}
	v.Predict(groupNS, s.Target, w.Target)
	return w, nil
}

// CheckRestore plans bringing the group back to img.
func (Group) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	if img.State == stAccounts {
		return accountsWork(v, img)
	}
	x := v.Exec()
	cur, err := v.Lookup(groupNS, s.Target, func() (kind.Image, error) { return readGroup(x, s.Target) })
	if err != nil {
		return kind.Work{}, err
	}
	w := kind.Work{Before: cur, After: img, Target: img}
	switch {
	case img.IsAbsent() && cur.IsAbsent():
	case img.IsAbsent():
		if user, err := primaryOf(v, cur.Value("gid")); err != nil {
			return kind.Work{}, err
		} else if user != "" {
			return kind.Work{}, fmt.Errorf("group %s is still the primary group of user %s: remove or change that user first", s.Target, user)
		}
		w.Changes = []string{"remove group (trail created it)"}
	case cur.IsAbsent():
		if key, sealed := savedPart(img, gshadowLineKey); key != "" {
			if !x.HasBlob(key) {
				return kind.Work{}, fmt.Errorf("cannot restore the /etc/gshadow line of group %s: its saved copy %s is missing from the store", s.Target, key)
			}
			// decrypted now, so that a key that cannot open it is
			// refused before any change (putGshadowLine reads it then)
			if sealed {
				if _, err := x.Secret(key); err != nil {
					return kind.Work{}, fmt.Errorf("cannot restore the /etc/gshadow line of group %s: %w", s.Target, err)
				}
			}
		}
		w.Changes = []string{"create group" + describeEntry(withoutPlace(img)) + " (it existed before trail managed it)"}
	default:
		// gshadow-members follows members: it is put back with them
		entry := slices.DeleteFunc(slices.Clone(withoutPlace(img).Attrs), func(a stepfmt.Attr) bool { return a.Key == "gshadow-members" })
		w.Changes = entryChanges(cur, kind.Image{State: img.State, Attrs: entry}, "")
	}
	v.Predict(groupNS, s.Target, img)
	return w, nil
}

// Capture reads the group's entry, and the members of its gshadow entry
// when they differ from /etc/group's (the reverse puts them back too).
func (Group) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	img, err := readGroup(x, s.Target)
	if err != nil || img.IsAbsent() {
		return img, err
	}
	sh, err := loadAccounts(x, "/etc/gshadow")
	if err != nil {
		return kind.Image{}, err
	}
	if f := sh.entry(s.Target); len(f) == 4 && f[3] != img.Value("members") {
		img.Attrs = append(img.Attrs, stepfmt.Attr{Key: "gshadow-members", Value: f[3]})
	}
	if s.Absent() {
		// its reverse adds it again: at the lines it held, with its
		// gshadow line whole (place.go)
		if f := sh.entry(s.Target); len(f) == 4 && (f[1] != "!" || f[2] != "") {
			saved, err := savePart(x, "/etc/gshadow", gshadowLineKey, strings.Join(f, ":"))
			if err != nil {
				return kind.Image{}, err
			}
			img.Attrs = append(img.Attrs, saved)
		}
		return withPlace(x, s.Target, img, "/etc/group", "/etc/gshadow")
	}
	return img, nil
}

// Forward creates or modifies the group, then puts the account files in
// the order of the list.
func (Group) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	if s.Absent() {
		if err := ShadowTool(x, "groupdel", s.Target); err != nil {
			return err
		}
		return putInOrder(x)
	}
	if err := groupTo(x, s.Target, w.Before, w.After, s.Value("system") == "true", false); err != nil {
		return err
	}
	return putInOrder(x)
}

// Restore brings the group back to img, then puts the account files in
// the order of the list; an undo image is restored as it is.
func (Group) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	if img.State == stAccounts {
		return restoreAccounts(x, img)
	}
	var err error
	if img.IsAbsent() {
		err = ShadowTool(x, "groupdel", s.Target)
	} else {
		err = restoreGroup(x, s.Target, w.Before, img)
	}
	if err != nil {
		return err
	}
	return putInOrder(x)
}

// restoreGroup brings the group back to img with the tools; one they
// add again goes back to the lines it held (place.go).
func restoreGroup(x *kind.Exec, name string, before, img kind.Image) error {
	if err := groupTo(x, name, before, img, false, true); err != nil || !before.IsAbsent() {
		return err
	}
	if err := putGshadowLine(x, name, img); err != nil {
		return err
	}
	return putInPlace(x, name, img)
}

// Drift reads the group in the shape of what trail wrote.
func (Group) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	cur, err := readGroup(x, target)
	if err != nil || cur.IsAbsent() {
		return cur, err
	}
	return entryShape(cur, wrote, "members"), nil
}

// groupTo runs groupadd or groupmod so that the group has want's gid and
// members. A restore (exact) puts the members back in their old order.
func groupTo(x *kind.Exec, name string, before, want kind.Image, system, exact bool) error {
	if before.IsAbsent() {
		args := []string{}
		gid, ok := want.Get("gid")
		if !ok {
			var err error
			if gid, err = freshGID(x, name, system); err != nil {
				return err
			}
		}
		if gid != "" {
			args = append(args, "-g", gid)
		}
		if system {
			args = append(args, "-r")
		}
		m := want.Value("members")
		if m != "" {
			args = append(args, "-U", m)
		}
		if err := ShadowTool(x, "groupadd", append(args, name)...); err != nil || m == "" {
			return err
		}
		return membersToGshadow(x, name, want)
	}
	if gid, ok := want.Get("gid"); ok && gid != before.Value("gid") {
		if err := ShadowTool(x, "groupmod", "-g", gid, name); err != nil {
			return err
		}
	}
	if m, ok := want.Get("members"); ok && m != before.Value("members") && (exact || !sameNames(m, before.Value("members"))) {
		if err := ShadowTool(x, "groupmod", "-U", m, name); err != nil {
			return err
		}
		return membersToGshadow(x, name, want)
	}
	return nil
}

// membersToGshadow sets the member list of group name's /etc/gshadow
// entry, which groupadd -U and groupmod -U leave as it was (useradd -G
// and usermod -G change both): to /etc/group's, or to the one want (a
// captured image) saved when they differed.
func membersToGshadow(x *kind.Exec, name string, want kind.Image) error {
	g, err := readGroup(x, name)
	if err != nil || g.IsAbsent() {
		return err
	}
	members := g.Value("members")
	if m, ok := want.Get("gshadow-members"); ok {
		members = m
	}
	return editAccounts(x, func(f string, data []byte) []byte {
		if f != "/etc/gshadow" {
			return nil
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		for i, l := range lines {
			text, nl := strings.CutSuffix(string(l), "\n")
			fs := strings.Split(text, ":")
			if fs[0] != name || len(fs) != 4 {
				continue
			}
			if fs[3] == members {
				return nil
			}
			fs[3] = members
			text = strings.Join(fs, ":")
			if nl {
				text += "\n"
			}
			lines[i] = []byte(text)
			return bytes.Join(lines, nil)
		}
		return nil
	})
}

// readGroup returns the image of group name from the root's /etc/group.
func readGroup(x *kind.Exec, name string) (kind.Image, error) {
	gr, err := loadAccounts(x, "/etc/group")
	if err != nil {
		return kind.Image{}, err
	}
	f := gr.entry(name)
	if f == nil {
		return kind.Absent(), nil
	}
	return kind.Image{State: stGroup, Attrs: []stepfmt.Attr{{Key: "gid", Value: kind.FieldAt(f, 2)}, {Key: "members", Value: kind.FieldAt(f, 3)}}}, nil
}

// primaryOf names a user whose primary group is gid, or "". A user the
// plan removes before does not count.
func primaryOf(v *kind.View, gid string) (string, error) {
	db, err := readAccounts(v.Exec(), "/etc/passwd")
	if err != nil {
		return "", err
	}
	var names []string
	for name, f := range db {
		if img, ok := v.Predicted(userNS, name); ok && img.IsAbsent() {
			continue
		}
		if kind.FieldAt(f, 3) == gid {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "", nil
	}
	return names[0], nil
}

// readAccounts reads a colon-separated account file of the root (/etc/passwd,
// /etc/group, /etc/shadow, /etc/gshadow) into its fields by name. A missing
// file is empty; lines that are not entries are skipped, as the C library
// skips them, and the first entry of a name wins. The map is the file's
// cached index: callers only read it.
func readAccounts(x *kind.Exec, file string) (map[string][]string, error) {
	c, err := loadAccounts(x, file)
	if err != nil {
		return nil, err
	}
	c.index()
	return c.byName, nil
}

// accountData reads an account file of the root; a missing one is empty.
// The bytes are the cache's: callers only read them.
func accountData(x *kind.Exec, file string) ([]byte, error) {
	c, err := loadAccounts(x, file)
	if err != nil {
		return nil, err
	}
	return c.data, nil
}

// ShadowTool runs one of the shadow tools on the root, in the C locale so that
// its messages read the same everywhere.
func ShadowTool(x *kind.Exec, name string, args ...string) error {
	return shadowToolAt(x.Root.Dir(), name, args...)
}

// shadowToolAt runs a shadow tool on the root dir.
func shadowToolAt(dir, name string, args ...string) error {
	if dir != "/" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		args = append([]string{"--root", abs}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if p, err := exec.LookPath("/usr/sbin/" + name); err == nil {
		cmd.Path = p
	}
	out, err := proc.ChildOutput(cmd)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(shownArgs(args), " "), err, proc.Tail(string(out)))
	}
	return nil
}

// shownArgs is a tool's command line for an error message: the password
// hash after -p is hidden, as everywhere trail shows a USER step.
func shownArgs(args []string) []string {
	out := slices.Clone(args)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "-p" {
			out[i+1] = stepfmt.Hidden
		}
	}
	return out
}

// entryChanges lists the attributes of want that cur does not have, one
// phrase each; set-valued attributes (named in sets) compare as sets.
func entryChanges(cur, want kind.Image, sets ...string) []string {
	var out []string
	for _, a := range want.Attrs {
		was := cur.Value(a.Key)
		if was == a.Value || slices.Contains(sets, a.Key) && sameNames(was, a.Value) {
			continue
		}
		out = append(out, a.Key+" "+showValue(a.Key, was)+" -> "+showValue(a.Key, a.Value))
	}
	return out
}

// showValue renders a value for a change phrase; a password is never shown.
func showValue(key, v string) string {
	switch {
	case key == "password":
		return stepfmt.Hidden
	case v == "":
		return `""`
	}
	return strconv.Quote(v)[1 : len(strconv.Quote(v))-1]
}

// describeEntry renders an image's attributes for a create phrase.
func describeEntry(img kind.Image) string {
	var parts []string
	for _, a := range img.Attrs {
		if a.Value != "" {
			parts = append(parts, a.Key+" "+showValue(a.Key, a.Value))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// withAttrs returns cur with want's attributes set over it.
func withAttrs(cur, want kind.Image) kind.Image {
	out := kind.Image{State: want.State, Attrs: slices.Clone(cur.Attrs)}
	for _, a := range want.Attrs {
		i := slices.IndexFunc(out.Attrs, func(b stepfmt.Attr) bool { return b.Key == a.Key })
		if i < 0 {
			out.Attrs = append(out.Attrs, a)
		} else {
			out.Attrs[i] = a
		}
	}
	return out
}

// entryShape restricts a whole image to the attributes of like, in like's
// order; set-valued attributes (named in sets) are sorted so that they
// compare with what trail wrote.
func entryShape(cur, like kind.Image, sets ...string) kind.Image {
	out := kind.Image{State: cur.State}
	for _, a := range like.Attrs {
		v := cur.Value(a.Key)
		if slices.Contains(sets, a.Key) {
			v = sortedNames(v)
		}
		out.Attrs = append(out.Attrs, stepfmt.Attr{Key: a.Key, Value: v})
	}
	return out
}

// sortedNames returns a comma list sorted and without duplicates.
func sortedNames(s string) string { return kind.JoinNames(kind.SplitNames(s)) }

func sameNames(a, b string) bool { return sortedNames(a) == sortedNames(b) }
