package accounts

import (
	"bytes"
	"fmt"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A USER or GROUP step with absent=true removes the entry (userdel,
// groupdel). Its pre-image is the whole entry, as for any step: the
// reverse puts the account back with its ids, groups, home, shell,
// comment and password field (or gid and members), at the lines it held
// in each account file (place.go), not at their end where the shadow
// tools add it. An absent user's home directory is
// never deleted, and the group of its name stays (a GROUP step with
// absent=true removes it too); an entry whose removal would leave a user
// without its primary group is refused, and so is uid 0.

// userAbsent plans removing the user; the group of its name stays (a
// user trail created goes with its group by its USER step's reverse, as
// stepfmt.Diff makes the turn to absent a remove and an add).
func userAbsent(v *kind.View, s *stepfmt.Step, cur kind.Image) (kind.Work, error) {
	w := kind.Work{Before: cur, After: kind.Absent(), Target: kind.Absent()}
	if !cur.IsAbsent() {
		if cur.Value("uid") == "0" {
			return kind.Work{}, fmt.Errorf("user %s has uid 0: trail will not remove the superuser", s.Target)
		}
		w.Changes = []string{"remove user (uid " + cur.Value("uid") + ")"}
		if h := cur.Value("home"); h != "" && h != "/" {
			if _, err := v.Exec().Root.Lstat(h); err == nil {
				w.Notes = append(w.Notes, "home "+h+" of user "+s.Target+" left in place: trail never deletes a home directory")
			}
		}
	}
	v.Predict(userNS, s.Target, kind.Absent())
	return w, nil
}

// groupAbsent plans removing the group; it is refused while the group is
// the primary group of a user the plan keeps.
func groupAbsent(v *kind.View, s *stepfmt.Step, cur kind.Image) (kind.Work, error) {
	w := kind.Work{Before: cur, After: kind.Absent(), Target: kind.Absent()}
	if !cur.IsAbsent() {
		if user, err := primaryOf(v, cur.Value("gid")); err != nil {
			return kind.Work{}, err
		} else if user != "" {
			return kind.Work{}, fmt.Errorf("group %s is the primary group of user %s: make that user absent too, before this step, or give it another group", s.Target, user)
		}
		w.Changes = []string{"remove group (gid " + cur.Value("gid") + ")"}
	}
	v.Predict(groupNS, s.Target, kind.Absent())
	return w, nil
}

// withAging adds to img the password aging fields of the user's shadow
// entry (min, max, warn, inactive, expire and the reserved field), as
// "aging"; nothing when the root keeps no shadow entry.
func withAging(x *kind.Exec, name string, img kind.Image) (kind.Image, error) {
	sh, err := loadAccounts(x, "/etc/shadow")
	if err != nil {
		return kind.Image{}, err
	}
	if f := sh.entry(name); len(f) > 3 {
		img.Attrs = append(img.Attrs, stepfmt.Attr{Key: "aging", Value: strings.Join(f[3:], ":")})
	}
	return img, nil
}

// setAging puts back the aging fields img saved (withAging) in the user's
// shadow entry.
func setAging(x *kind.Exec, name string, img kind.Image) error {
	aging, ok := img.Get("aging")
	if !ok {
		return nil
	}
	return editAccounts(x, func(f string, data []byte) []byte {
		if f != "/etc/shadow" {
			return nil
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		for i, l := range lines {
			text, nl := strings.CutSuffix(string(l), "\n")
			fs := strings.SplitN(text, ":", 4)
			if fs[0] != name || len(fs) < 3 {
				continue
			}
			text = strings.Join(fs[:3], ":") + ":" + aging
			if text == strings.TrimSuffix(string(l), "\n") {
				return nil
			}
			if nl {
				text += "\n"
			}
			lines[i] = []byte(text)
			return bytes.Join(lines, nil)
		}
		return nil
	})
}
