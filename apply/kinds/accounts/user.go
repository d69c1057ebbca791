package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// User runs USER steps with useradd, usermod and userdel, on the root
// with --root (see Group for why not --prefix).
//
// A new user gets what the step says and, where it is silent, what Debian's
// adduser would give: a group of its own name (joined if it exists
// already), a home directory created from the root's /etc/skel (/home/NAME
// unless home is given; a system user gets one only when home is given),
// and a locked password ("!") unless a crypt(3) hash is given. An existing
// user keeps what the step does not manage; system only matters when the
// user is created (useradd -r). A changed home is set in /etc/passwd and
// created empty if missing; the old one is left where it is.
//
// A user's image is its uid, primary gid, supplementary groups, home,
// shell, comment and password. The password is kept as the sha256 of the
// shadow field, which is also the store key of the field saved at capture:
// the hash never appears in the applied record, the journal or an event,
// and a captured one is still restorable.
//
// The reverse removes a user only when trail created it, and never deletes
// its home directory: the directory is left in place and named in
// Work.Notes (reported as kept), since what a person kept there cannot be
// told apart from what trail made. Debian's userdel also removes the group
// of the user's name (USERGROUPS_ENAB); a group that existed before the
// user was created, or that a GROUP step of the list being applied
// manages, is put back with its gid and members.
type User struct{}

// userNS is the namespace of user identities.
const userNS = "user"

const stUser = "user"

// Check plans making the user match s.
func (User) Check(v *kind.View, s *stepfmt.Step, prior *kind.Record) (kind.Work, error) {
	x := v.Exec()
	cur, err := v.Lookup(userNS, s.Target, func() (kind.Image, error) { return ReadUser(x, s.Target) })
	if err != nil {
		return kind.Work{}, err
	}
	if s.Absent() {
		return userAbsent(v, s, cur)
	}
	want, notes, err := userWant(x, s)
	if err != nil {
		return kind.Work{}, err
	}
	if prior != nil {
		for _, a := range prior.Wrote.Attrs {
			if _, ok := want.Get(a.Key); ok {
				continue
			}
			if !prior.Origin.IsAbsent() {
				back := []stepfmt.Attr{{Key: a.Key, Value: prior.Origin.Value(a.Key)}}
				if a.Key == "password" {
					back = append(back, stepfmt.Attr{Key: "changed", Value: prior.Origin.Value("changed")})
					if k, ok := prior.Origin.Get(sealedKey("password")); ok {
						// password() reads the field decrypted (loadPart)
						if _, err := x.Secret(k); err != nil {
							return kind.Work{}, fmt.Errorf("the saved password field of user %s: %w", s.Target, err)
						}
					}
				}
				want = withAttrs(want, kind.Image{State: stUser, Attrs: back})
			} else if a.Key == "password" || a.Key == "groups" {
				// what a fresh apply leaves: locked, in no other group
				val := map[string]string{"password": kind.HashKey([]byte("!")), "groups": ""}[a.Key]
				want = withAttrs(want, kind.Image{State: stUser, Attrs: []stepfmt.Attr{{Key: a.Key, Value: val}}})
			}
		}
	}
	w := kind.Work{Before: cur, After: want, Notes: notes}
	if cur.IsAbsent() {
		w.Changes = []string{"create user" + describeUser(s)}
		w.Target = want
	} else {
		w.Changes = entryChanges(cur, want, "groups")
		w.Target = withAttrs(cur, want)
		if h, ok := want.Get("home"); ok && h != cur.Value("home") {
			w.Notes = append(w.Notes, "home "+cur.Value("home")+" is left where it is")
		}
	}
	v.Predict(userNS, s.Target, w.Target)
	return w, nil
}

// userWant is what s asks for, in image form, checked against the root's
// account files: an id another user holds, a group that does not exist
// and is not created by this apply, a value useradd cannot store.
func userWant(x *kind.Exec, s *stepfmt.Step) (kind.Image, []string, error) {
	want := kind.Image{State: stUser}
	var notes []string
	set := func(k, v string) { want.Attrs = append(want.Attrs, stepfmt.Attr{Key: k, Value: v}) }
	for _, k := range []string{"home", "shell", "comment", "password"} {
		if v, ok := s.Get(k); ok && strings.ContainsAny(v, ":\n") {
			what := k + " " + strconv.Quote(v)
			if stepfmt.IsHidden(s.Kind, k) {
				what = k // it may be a plain password given by mistake
			}
			return want, nil, fmt.Errorf("%s holds a colon or a line break, which /etc/passwd and /etc/shadow cannot store", what)
		}
	}
	if uid, ok := s.Get("uid"); ok {
		pw, err := loadAccounts(x, "/etc/passwd")
		if err != nil {
			return want, nil, err
		}
		if name := pw.holder(uid, s.Target); name != "" {
			return want, nil, fmt.Errorf("uid %s already belongs to user %s: pick another uid, or leave uid unset to let useradd choose", uid, name)
		}
		set("uid", uid)
	}
	if g, ok := s.Get("group"); ok {
		gid, err := groupID(x, g)
		switch {
		case errors.Is(err, kind.ErrPlanned):
			notes = append(notes, "group "+g+" is created by this apply")
			set("gid", g)
		case err != nil:
			return want, nil, fmt.Errorf("primary group: %w", err)
		default:
			set("gid", gid)
		}
	}
	if gs, ok := s.Get("groups"); ok {
		for _, g := range kind.SplitNames(gs) {
			if _, err := groupID(x, g); errors.Is(err, kind.ErrPlanned) {
				notes = append(notes, "group "+g+" is created by this apply")
			} else if err != nil {
				return want, nil, fmt.Errorf("groups: %w", err)
			}
		}
		set("groups", gs)
	}
	for _, k := range []string{"home", "shell", "comment"} {
		if v, ok := s.Get(k); ok {
			set(k, v)
		}
	}
	if p, ok := s.Get("password"); ok {
		if !crypted(p) {
			return want, nil, fmt.Errorf("password must be a crypt(3) hash (such as $y$… from mkpasswd) or start with ! to lock the account; it is stored as given, so a plain password would be both unusable and readable")
		}
		set("password", kind.HashKey([]byte(p)))
	}
	return want, notes, nil
}

// groupID resolves a group name or number to a gid that exists in the
// root's /etc/group (or errPlanned).
func groupID(x *kind.Exec, g string) (string, error) {
	id, err := x.GID(g)
	if err != nil {
		return "", err
	}
	gid := fmt.Sprint(id)
	free, err := idFree(x, "/etc/group", gid)
	if err != nil {
		return "", err
	}
	if !free {
		return gid, nil
	}
	return "", fmt.Errorf("gid %s is not in %s: create the group first (a GROUP step before this one)", gid, x.Root.Host("/etc/group"))
}

// crypted reports whether p can be a shadow password field that is not a
// plain password: a crypt(3) hash, a locked or disabled field, or a
// traditional DES hash.
func crypted(p string) bool {
	if strings.HasPrefix(p, "$") || strings.HasPrefix(p, "!") || strings.HasPrefix(p, "*") {
		return true
	}
	if len(p) != 13 {
		return false
	}
	return strings.Trim(p, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
}

// describeUser renders what a new user gets, for the create phrase.
func describeUser(s *stepfmt.Step) string {
	var parts []string
	for _, k := range []string{"uid", "group", "groups", "home", "shell", "comment"} {
		if v, ok := s.Get(k); ok {
			parts = append(parts, k+" "+showValue(k, v))
		}
	}
	if _, ok := s.Get("group"); !ok {
		parts = append(parts, "group of its own name")
	}
	if makesHome(s) {
		parts = append(parts, "home created")
	}
	if _, ok := s.Get("password"); ok {
		parts = append(parts, "password set")
	} else {
		parts = append(parts, "password locked")
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// makesHome reports whether creating the user creates its home.
func makesHome(s *stepfmt.Step) bool {
	_, home := s.Get("home")
	return home || s.Value("system") != "true"
}

// CheckRestore plans bringing the user back to img.
func (User) CheckRestore(v *kind.View, s *stepfmt.Step, img kind.Image) (kind.Work, error) {
	if img.State == stAccounts {
		return accountsWork(v, img)
	}
	x := v.Exec()
	cur, err := v.Lookup(userNS, s.Target, func() (kind.Image, error) { return ReadUser(x, s.Target) })
	if err != nil {
		return kind.Work{}, err
	}
	w := kind.Work{Before: cur, After: img, Target: img}
	switch {
	case img.IsAbsent() && cur.IsAbsent():
	case img.IsAbsent():
		w.Changes = []string{"remove user (trail created it)"}
		if h := cur.Value("home"); h != "" && h != "/" {
			if _, err := x.Root.Lstat(h); err == nil {
				w.Notes = append(w.Notes, "home "+h+" of user "+s.Target+" left in place: trail never deletes a home directory; remove it by hand if nothing in it is needed")
			}
		}
	default:
		if p, ok := img.Get("password"); ok && p != kind.HashKey([]byte("!")) {
			k, sealed := savedPart(img, "password")
			if !x.HasBlob(k) {
				return kind.Work{}, fmt.Errorf("cannot restore the password of user %s: its saved field %s is missing from the store", s.Target, k)
			}
			// the reverse writes the field (password) only where it
			// differs: a sealed one that cannot be decrypted is refused
			// here, before any change, not half-way through the apply
			if sealed && (cur.IsAbsent() || cur.Value("password") != p) {
				if _, err := x.Secret(k); err != nil {
					return kind.Work{}, fmt.Errorf("cannot restore the password of user %s: %w", s.Target, err)
				}
			}
		}
		if cur.IsAbsent() {
			w.Changes = []string{"create user (it existed before trail managed it)"}
		} else {
			w.Changes = entryChanges(cur, entryShape(img, withoutPlace(img)), "groups")
		}
	}
	v.Predict(userNS, s.Target, img)
	return w, nil
}

// Capture reads the user's entries, saving the password field in the
// store (sealed when a secret step names /etc/shadow: sealed.go). For a user that does not exist it notes whether the group of its
// name does, which the reverse then keeps.
func (User) Capture(x *kind.Exec, s *stepfmt.Step) (kind.Image, error) {
	img, err := ReadUser(x, s.Target)
	if err != nil {
		return kind.Image{}, err
	}
	if img.IsAbsent() {
		g, err := readGroup(x, s.Target)
		if err != nil {
			return kind.Image{}, err
		}
		if !g.IsAbsent() {
			img.Attrs = []stepfmt.Attr{{Key: "group-kept", Value: "true"}}
		}
		return img, nil
	}
	field, _, err := shadowOf(x, s.Target)
	if err != nil {
		return kind.Image{}, err
	}
	saved, err := savePart(x, "/etc/shadow", "password", field)
	if err != nil {
		return kind.Image{}, err
	}
	if saved.Key != "password" { // the clear copy's key is the password's own
		img.Attrs = append(img.Attrs, saved)
	}
	// usermod -G and useradd -G put the user back at the end of a member
	// list: the reverse puts it where it stood (place.go)
	if img, err = withMemberPlace(x, s.Target, img); err != nil {
		return kind.Image{}, err
	}
	if s.Absent() {
		// The step removes the entry whole, so its reverse adds it again
		// and must put back what useradd fills from login.defs, at the
		// lines it held (place.go).
		if img, err = withAging(x, s.Target, img); err != nil {
			return kind.Image{}, err
		}
		if img, err = withSubIDs(x, s.Target, img); err != nil {
			return kind.Image{}, err
		}
		return withPlace(x, s.Target, img, "/etc/passwd", "/etc/shadow")
	}
	return img, nil
}

// Drift reads the user in the shape of what trail wrote.
func (User) Drift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	cur, err := ReadUser(x, target)
	if err != nil || cur.IsAbsent() {
		return cur, err
	}
	return entryShape(cur, wrote, "groups"), nil
}

// ReadUser returns the whole image of user name from the root's account
// files; the password is the hash of its shadow field.
func ReadUser(x *kind.Exec, name string) (kind.Image, error) {
	pw, err := loadAccounts(x, "/etc/passwd")
	if err != nil {
		return kind.Image{}, err
	}
	f := pw.entry(name)
	if f == nil {
		return kind.Absent(), nil
	}
	gr, err := loadAccounts(x, "/etc/group")
	if err != nil {
		return kind.Image{}, err
	}
	groups := gr.groupsOf(name)
	slices.Sort(groups)
	field1, changed, err := shadowOf(x, name)
	if err != nil {
		return kind.Image{}, err
	}
	return kind.Image{State: stUser, Attrs: []stepfmt.Attr{
		{Key: "uid", Value: kind.FieldAt(f, 2)}, {Key: "gid", Value: kind.FieldAt(f, 3)},
		{Key: "groups", Value: strings.Join(groups, ",")}, {Key: "home", Value: kind.FieldAt(f, 5)},
		{Key: "shell", Value: kind.FieldAt(f, 6)}, {Key: "comment", Value: kind.FieldAt(f, 4)},
		{Key: "password", Value: kind.HashKey([]byte(field1))}, {Key: "changed", Value: changed},
	}}, nil
}

// shadowOf returns the user's shadow password field and the day it was
// last changed, or the passwd field when the root keeps no shadow entry.
func shadowOf(x *kind.Exec, name string) (string, string, error) {
	sh, err := loadAccounts(x, "/etc/shadow")
	if err != nil {
		return "", "", err
	}
	if f := sh.entry(name); f != nil {
		return kind.FieldAt(f, 1), kind.FieldAt(f, 2), nil
	}
	pw, err := loadAccounts(x, "/etc/passwd")
	if err != nil {
		return "", "", err
	}
	return kind.FieldAt(pw.entry(name), 1), "", nil
}
