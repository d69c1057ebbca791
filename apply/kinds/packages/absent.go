package packages

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// A PKG step with absent=true removes the package (apt-get remove, its
// conffiles kept), or purges it with purge=true, and never takes another
// package with it: a package that others still installed depend on is
// refused at plan time, naming them, unless they are absent too and come
// first. Purging is refused when it would delete a conffile the reverse
// could not bring back: one changed since the package shipped it, or any
// left by an earlier remove (purgeLoses). The pre-image is the package's
// state, version and mark, as for any PKG step, so the reverse installs
// that version again and puts the mark back (a removed package's
// conffiles are still there, and apt keeps them); when apt no longer has
// the version, the reverse says so and leaves the package absent. (A
// package a PKG step of trail installed goes by that step's reverse when
// it turns absent: stepfmt.Diff makes that a remove and an add.) Drift is
// the package installed again (or, with purge=true, its conffiles back).

// absentWork plans the removal of an absent package.
func absentWork(v *kind.View, s *stepfmt.Step, cur pimgPkg) (kind.Work, error) {
	purge := s.Value("purge") == "true"
	after := absentAfter(purge)
	w := kind.Work{Before: cur.Image(), After: after, Target: kind.Absent()}
	if purge && (cur.State == Installed || cur.State == pkgConfig) {
		lost, err := purgeLoses(v.Exec(), s.Target, cur.State == Installed)
		if err != nil {
			return kind.Work{}, err
		}
		if len(lost) > 0 {
			return kind.Work{}, fmt.Errorf("purging package %s would delete %s, which trail could not give back (changed since the package shipped it, or left after a remove): drop purge (a remove keeps conffiles), or remove the file by hand first",
				s.Target, strings.Join(lost, ", "))
		}
	}
	switch {
	case cur.State == kind.StateAbsent:
	case cur.State == pkgConfig && !purge:
		w.Target = cur.Image()
	case cur.State == pkgConfig:
		w.Changes = []string{"purge"}
	default:
		t := pkgToolsOf(v.Exec())
		also, err := t.alsoRemoved(nil, []string{s.Target}, nil)
		if err != nil {
			return kind.Work{}, err
		}
		// A plan sees the dependants an earlier step removes; the run,
		// which checks a group of steps before it removes any, takes
		// every dependant the list makes absent, as the plan checked
		// their order.
		also = slices.DeleteFunc(also, func(n string) bool {
			if !v.Planning() {
				return v.Exec().Planned("absent:" + pkgNS + ":" + baseName(n))
			}
			img, ok := v.Predicted(pkgNS, baseName(n))
			return ok && (img.IsAbsent() || img.State == pkgConfig)
		})
		if len(also) > 0 {
			return kind.Work{}, fmt.Errorf("removing package %s would also remove %s, which depend on it: make them absent too, before this step, or keep %s",
				s.Target, strings.Join(also, ", "), s.Target)
		}
		verb := "remove"
		if purge {
			verb = "purge"
		}
		w.Changes = []string{verb}
		if !purge {
			w.Target = pimgPkg{pkgStatus: pkgStatus{State: pkgConfig, Version: cur.Version}}.Image()
		}
	}
	v.Predict(pkgNS, s.Target, w.Target)
	return w, nil
}

// absentAfter is the drift reference of an absent package: absent, and
// with conffiles=kept (a plain remove) config-files counts as absent too.
func absentAfter(purge bool) kind.Image {
	if purge {
		return kind.Absent()
	}
	return kind.Image{State: kind.StateAbsent, Attrs: []stepfmt.Attr{{Key: "conffiles", Value: "kept"}}}
}

// absentDrift reads an absent package in the shape of wrote (absentAfter).
func absentDrift(p pimgPkg, wrote kind.Image) kind.Image {
	if p.State == kind.StateAbsent || p.State == pkgConfig && wrote.Value("conffiles") == "kept" {
		return wrote
	}
	return kind.Image{State: p.State, Attrs: []stepfmt.Attr{{Key: "version", Value: p.Version}}}
}

// forwardAbsent removes the absent packages of a group, with what the
// decision for each took along (RestoreGroup makes those works).
func (k Package) forwardAbsent(x *kind.Exec, steps []*stepfmt.Step, works []kind.Work) error {
	if len(steps) == 0 {
		return nil
	}
	imgs := make([]kind.Image, len(steps))
	for i := range imgs {
		imgs[i] = kind.Absent()
	}
	return k.RestoreGroup(x, steps, imgs, works)
}

// purgeLoses names the conffiles of the package that purging would lose
// for good: with the package installed, those changed since it shipped
// them (the reverse installs the same version again, which brings back
// the others as they were); with only its config files left, every one
// still there (nothing reinstalls them).
func purgeLoses(x *kind.Exec, name string, installed bool) ([]string, error) {
	args := []string{"-W", "-f", "${Conffiles}\n", name}
	t := pkgToolsOf(x)
	if t.inRoot() {
		args = append([]string{"--root=" + t.Root}, args...)
	}
	out, err := proc.RunTool("dpkg-query", args...)
	if err != nil {
		return nil, err
	}
	var lost []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "/") {
			continue
		}
		data, err := x.Root.ReadFile(f[0])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sum := md5.Sum(data); !installed || hex.EncodeToString(sum[:]) != f[1] {
			lost = append(lost, f[0])
		}
	}
	return lost, nil
}
