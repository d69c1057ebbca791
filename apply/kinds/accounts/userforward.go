package accounts

import (
	"errors"
	"fmt"
	"io/fs"

	"trail/apply/kind"
	"trail/stepfmt"
)

// Forward creates or modifies the user, then puts the account files in
// the order of the list.
func (User) Forward(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	if err := forwardUser(x, s, w); err != nil {
		return err
	}
	return putInOrder(x)
}

// forwardUser removes, creates or modifies the user with the tools.
func forwardUser(x *kind.Exec, s *stepfmt.Step, w kind.Work) error {
	switch {
	case s.Absent():
		return userDel(x, s.Target, true)
	case w.Before.IsAbsent():
		return createUser(x, s)
	}
	if err := userMod(x, s.Target, w.Before, w.After, s); err != nil {
		return err
	}
	if img, ok := orderOf(x).memberPlacesBack(s.Target, w.Before, w.After); ok {
		return putMembersInPlace(x, s.Target, img)
	}
	return nil
}

// ForwardGroup makes consecutive USER changes (kind.Grouper): each run
// of new users trail writes itself (native.go), every other change runs
// with the tools, then the account files are put in the order of the
// list once.
func (User) ForwardGroup(x *kind.Exec, steps []*stepfmt.Step, works []kind.Work) error {
	run := &nativeRun{x: x, tool: doUseradd}
	for k, s := range steps {
		if !s.Absent() && works[k].Before.IsAbsent() {
			done, err := run.try(func(n *native) (bool, error) { return n.addUser(s) })
			if err != nil {
				return &kind.StepFailed{Step: s, Err: err}
			}
			if done {
				continue
			}
		}
		if err := run.commit(); err != nil {
			return err
		}
		if err := forwardUser(x, s, works[k]); err != nil {
			return &kind.StepFailed{Step: s, Err: err}
		}
	}
	if err := run.commit(); err != nil {
		return err
	}
	return putInOrder(x)
}

// useraddArgs builds the useradd command line for a new user.
func useraddArgs(x *kind.Exec, s *stepfmt.Step) []string {
	var args []string
	add := func(flag, key string) {
		if v, ok := s.Get(key); ok {
			args = append(args, flag, v)
		}
	}
	add("-u", "uid")
	if _, ok := s.Get("group"); ok {
		add("-g", "group")
	} else if g, err := readGroup(x, s.Target); err == nil && !g.IsAbsent() {
		args = append(args, "-g", s.Target)
	} else {
		args = append(args, "-U")
	}
	if gs := s.Value("groups"); gs != "" {
		args = append(args, "-G", gs)
	}
	add("-d", "home")
	if makesHome(s) {
		args = append(args, "-m")
	} else {
		args = append(args, "-M")
	}
	add("-s", "shell")
	add("-c", "comment")
	add("-p", "password")
	if s.Value("system") == "true" {
		args = append(args, "-r")
	}
	return append(args, s.Target)
}

// userMod runs usermod for every attribute of want that before lacks; a
// new home that does not exist is created empty, owned by the user.
func userMod(x *kind.Exec, name string, before, want kind.Image, s *stepfmt.Step) error {
	var args []string
	flags := map[string]string{"uid": "-u", "gid": "-g", "groups": "-G", "home": "-d", "shell": "-s", "comment": "-c", "password": "-p"}
	for _, a := range want.Attrs {
		flag, ok := flags[a.Key]
		was := before.Value(a.Key)
		if !ok || was == a.Value || a.Key == "groups" && sameNames(was, a.Value) {
			continue
		}
		val := a.Value
		if a.Key == "password" {
			p, err := password(x, want, s)
			if err != nil {
				return err
			}
			val = p
		}
		args = append(args, flag, val)
	}
	if len(args) > 0 {
		if err := ShadowTool(x, "usermod", append(args, name)...); err != nil {
			return err
		}
	}
	if h, ok := want.Get("home"); ok && h != before.Value("home") {
		if err := makeHome(x, name, h); err != nil {
			return err
		}
	}
	return setChanged(x, name, want)
}

// setChanged puts back the day the password was last changed, which
// usermod -p and useradd set to today, when want (a captured image) has
// one.
func setChanged(x *kind.Exec, name string, want kind.Image) error {
	day, ok := want.Get("changed")
	if !ok || day == "" {
		return nil
	}
	_, now, err := shadowOf(x, name)
	if err != nil || now == day {
		return err
	}
	return ShadowTool(x, "chage", "-d", day, name)
}

// password returns the shadow field whose hash is img's password: the
// step's own, a locked one, or one saved in the store at capture.
func password(x *kind.Exec, img kind.Image, s *stepfmt.Step) (string, error) {
	key := img.Value("password")
	if p, ok := s.Get("password"); ok && kind.HashKey([]byte(p)) == key {
		return p, nil
	}
	if key == kind.HashKey([]byte("!")) {
		return "!", nil
	}
	p, err := loadPart(x, img, "password")
	if err != nil {
		return "", fmt.Errorf("the saved password field of user %s: %w", s.Target, err)
	}
	return p, nil
}

// makeHome creates home h for user name when it does not exist and its
// parent does, as useradd -m would (mode 0755, owned by the user).
func makeHome(x *kind.Exec, name, h string) error {
	if _, err := x.Root.Lstat(h); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	img, err := ReadUser(x, name)
	if err != nil {
		return err
	}
	var uid, gid uint32
	fmt.Sscan(img.Value("uid"), &uid)
	fmt.Sscan(img.Value("gid"), &gid)
	if err := x.Root.Mkdir(h); err != nil {
		return fmt.Errorf("creating home: %w", err)
	}
	if err := x.Root.Chown(h, uid, gid); err != nil {
		return err
	}
	return x.Root.Chmod(h, 0o755)
}

// Restore brings the user back to img, then puts the account files in
// the order of the list; an undo image is restored as it is.
func (User) Restore(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	if img.State == stAccounts {
		return restoreAccounts(x, img)
	}
	if err := restoreUser(x, s, img, w); err != nil {
		return err
	}
	return putInOrder(x)
}

func restoreUser(x *kind.Exec, s *stepfmt.Step, img kind.Image, w kind.Work) error {
	switch {
	case img.IsAbsent():
		return userDel(x, s.Target, img.Value("group-kept") == "true" || x.Planned("group:"+s.Target))
	case w.Before.IsAbsent():
		args := []string{"-M", "-N"}
		for _, k := range []string{"uid", "gid", "groups", "home", "shell", "comment", "password"} {
			v := img.Value(k)
			if k == "password" {
				p, err := password(x, img, s)
				if err != nil {
					return err
				}
				v = p
			}
			if v != "" || k == "comment" {
				args = append(args, map[string]string{"uid": "-u", "gid": "-g", "groups": "-G", "home": "-d", "shell": "-s", "comment": "-c", "password": "-p"}[k], v)
			}
		}
		args = append(args, noSubIDArgs(img)...)
		if err := ShadowTool(x, "useradd", append(args, s.Target)...); err != nil {
			return err
		}
		if err := putSubIDs(x, s.Target, img); err != nil {
			return err
		}
		if err := setChanged(x, s.Target, img); err != nil {
			return err
		}
		if err := setAging(x, s.Target, img); err != nil {
			return err
		}
		if err := putInPlace(x, s.Target, img); err != nil {
			return err
		}
		return putMembersInPlace(x, s.Target, img)
	}
	if err := userMod(x, s.Target, w.Before, img, s); err != nil {
		return err
	}
	return putMembersInPlace(x, s.Target, img)
}
