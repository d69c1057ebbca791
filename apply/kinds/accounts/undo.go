package accounts

import (
	"fmt"
	"path"
	"strings"

	"trail/apply/kind"
	"trail/apply/kinds/paths"
	"trail/stepfmt"
)

// The undo image of a USER or GROUP change is the four account files as
// they were before it, whole: state "accounts", and per file its path
// image flattened under the file's name (passwd=sha256:… passwd-mode=0644
// passwd-uid=0 passwd-gid=0, or passwd=absent).
//
// The shadow tools cannot undo their own changes exactly: userdel also
// deletes the group of the user's name, so useradd cannot put the user
// back with its gid; a removed and recreated entry moves to the end of
// its file; groupmod -U changes /etc/group's member list, not gshadow's.
// Undo runs newest first, so restoring each change's files as they were
// before it leaves them, byte for byte, as they were before the first.
// A home directory useradd made stays (trail never deletes one).
//
// The image holds /etc/subuid and /etc/subgid too, which useradd and
// trail's own writes change with the four; an image journaled before it
// did leaves them as they are.
const stAccounts = "accounts"

// shadowFiles are the files the shadow tools change.
var shadowFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"}

// accountFiles are the account files with those of subordinate ids:
// what an accounts image holds, and what the tools and trail lock.
var accountFiles = append(shadowFiles[:len(shadowFiles):len(shadowFiles)], subFiles...)

// imageFiles are the files img holds.
func imageFiles(img kind.Image) []string {
	files := shadowFiles
	for _, f := range subFiles {
		if _, ok := img.Get(path.Base(f)); ok {
			files = append(files[:len(files):len(files)], f)
		}
	}
	return files
}

// captureAccounts saves the account files whole into the store.
func captureAccounts(x *kind.Exec) (kind.Image, error) {
	img := kind.Image{State: stAccounts}
	for _, f := range accountFiles {
		fi, err := paths.Capture(x, f)
		if err != nil {
			return kind.Image{}, fmt.Errorf("saving %s: %w", f, err)
		}
		if fi.State != paths.StFile && !fi.IsAbsent() {
			return kind.Image{}, fmt.Errorf("%s is a %s, not a file: fix the root's account files by hand", f, fi.State)
		}
		name := path.Base(f)
		if fi.IsAbsent() {
			img.Attrs = append(img.Attrs, stepfmt.Attr{Key: name, Value: kind.StateAbsent})
			continue
		}
		for _, a := range fi.Attrs {
			key := name + "-" + a.Key
			if a.Key == "content" {
				key = name
			}
			img.Attrs = append(img.Attrs, stepfmt.Attr{Key: key, Value: a.Value})
		}
	}
	return img, nil
}

// accountFileImage returns the path image of file f held in an accounts
// image.
func accountFileImage(img kind.Image, f string) (kind.Image, error) {
	name := path.Base(f)
	content, ok := img.Get(name)
	if !ok {
		return kind.Image{}, fmt.Errorf("accounts image %q: no %s", img, name)
	}
	if content == kind.StateAbsent {
		return kind.Absent(), nil
	}
	fi := kind.Image{State: paths.StFile, Attrs: []stepfmt.Attr{{Key: "content", Value: content}}}
	for _, k := range []string{"sealed", "mode", "uid", "gid"} {
		if v, ok := img.Get(name + "-" + k); ok {
			fi.Attrs = append(fi.Attrs, stepfmt.Attr{Key: k, Value: v})
		}
	}
	return fi, nil
}

// accountsWork plans restoring the account files of img: one change
// phrase per file that differs.
func accountsWork(v *kind.View, img kind.Image) (kind.Work, error) {
	w := kind.Work{Before: img, After: img, Target: img}
	for _, f := range imageFiles(img) {
		fw, err := accountFileWork(v, img, f)
		if err != nil {
			return kind.Work{}, err
		}
		if !fw.None() {
			w.Changes = append(w.Changes, f+": "+strings.Join(fw.Changes, ", ")+" (as before the change)")
		}
	}
	return w, nil
}

func accountFileWork(v *kind.View, img kind.Image, f string) (kind.Work, error) {
	fi, err := accountFileImage(img, f)
	if err != nil {
		return kind.Work{}, err
	}
	p, err := paths.Unpack(fi)
	if err != nil {
		return kind.Work{}, err
	}
	// A file a secret step names was saved sealed.
	if err := paths.OpenSealed(v.Exec(), &p); err != nil {
		return kind.Work{}, fmt.Errorf("cannot restore %s: %w", f, err)
	}
	return paths.WorkOf(v, f, p, true, nil)
}

// restoreAccounts writes the account files of img back and makes them
// durable at once: the next undo may run a tool that reads them. It holds
// the shadow tools' locks while it does (LockAccounts, as every write of
// trail's own does), so that a tool running meanwhile (an admin's useradd
// beside a recovery) neither writes between the files nor has its change
// overwritten half-way; a tool that keeps them fails the undo, which the
// next run tries again.
func restoreAccounts(x *kind.Exec, img kind.Image) error {
	unlock, err := LockAccounts(x, subFiles...)
	if err != nil {
		return fmt.Errorf("restoring the account files: %w", err)
	}
	defer unlock()
	v := kind.NewView(x)
	for _, f := range imageFiles(img) {
		for _, p := range []string{f, f + "-"} { // trail's own writes stage the backup too
			if err := x.Root.RemoveTemp(p); err != nil {
				return err
			}
		}
		w, err := accountFileWork(v, img, f)
		if err != nil {
			return err
		}
		if err := paths.Do(x, f, w); err != nil {
			return fmt.Errorf("restoring %s: %w", f, err)
		}
	}
	return x.Root.Flush()
}

// UndoImage of a USER change is the account files whole (stAccounts).
func (User) UndoImage(x *kind.Exec, c stepfmt.Change, pre kind.Image, rec *kind.Record) (kind.Image, error) {
	return captureAccounts(x)
}

// UndoImage of a GROUP change is the account files whole (stAccounts).
func (Group) UndoImage(x *kind.Exec, c stepfmt.Change, pre kind.Image, rec *kind.Record) (kind.Image, error) {
	return captureAccounts(x)
}

// UndoFamily puts consecutive USER and GROUP changes in one batch, with
// one undo image of the account files (kind.SharedUndoImager).
func (User) UndoFamily() string { return stAccounts }

// UndoFamily: see User.UndoFamily.
func (Group) UndoFamily() string { return stAccounts }
