package packages

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/stepfmt"
)

// RestoreGroup makes the works of a group of PKG removals in one apt-get
// call (reinstalling old versions, removing packages and dependencies),
// purges what is to be purged, puts marks back, then removes the
// accounts and links that went with them.
func (Package) RestoreGroup(x *kind.Exec, steps []*stepfmt.Step, imgs []kind.Image, works []kind.Work) error {
	if err := updateLists(x, steps[0]); err != nil {
		return err
	}
	t := pkgToolsOf(x)
	pol, err := restorePolicies(t, steps, works)
	if err != nil {
		return err
	}
	var refs, rm, purge, auto, manual, downAuto []string
	for i, s := range steps {
		for _, c := range works[i].Changes {
			switch {
			case c == "remove" || c == "purge":
				rm = append(rm, s.Target)
				if c == "purge" {
					purge = append(purge, s.Target)
				}
			case strings.HasPrefix(c, "remove dependency "), strings.HasPrefix(c, "purge dependency "):
				verb, d, _ := strings.Cut(strings.Replace(c, " dependency ", " ", 1), " ")
				rm = append(rm, d)
				if verb == "purge" {
					purge = append(purge, d)
				}
			case strings.HasPrefix(c, "dependency "):
				n, old, ok := downgradeOf(c)
				if !ok {
					return fmt.Errorf("%s: unknown change %q", s.Target, c)
				}
				ref, err := t.source(n, old)
				if err != nil {
					return fmt.Errorf("%s: %w", n, err)
				}
				refs = append(refs, ref)
				if a, err := t.AutoMarked(n); err != nil {
					return err
				} else if a {
					auto, downAuto = append(auto, n), append(downAuto, n)
				}
			case strings.HasPrefix(c, "version "):
				ref, err := t.sourceFrom(s.Target, versionTo(c), pol)
				if err != nil {
					return fmt.Errorf("%s: %w", s.Target, err)
				}
				refs = append(refs, ref)
			}
		}
		if a, ok := markOf(works[i]); ok && a {
			auto = append(auto, s.Target)
		} else if ok {
			manual = append(manual, s.Target)
		}
	}
	if len(refs) > 0 || len(rm) > 0 {
		verb := []string{"--no-auto-remove"}
		if len(refs) == 0 && len(purge) == len(rm) {
			if err := t.aptGet(append(append(verb, "purge"), rm...)...); err != nil {
				return err
			}
			purge = nil
		} else if err := t.aptGet(txArgs(verb, refs, rm, nil)...); err != nil {
			// apt marks a dependency it is told to put back manually
			// installed before it fails; the undo of this restore puts
			// the packages back, but no image of it holds that mark.
			if len(downAuto) > 0 {
				if merr := t.Mark(true, downAuto...); merr != nil {
					return errors.Join(err, merr)
				}
			}
			return err
		}
	}
	if len(purge) > 0 {
		_, conf, err := t.installedAndConf()
		if err != nil {
			return err
		}
		purge = slices.DeleteFunc(purge, func(n string) bool { return !conf[n] })
		if len(purge) > 0 {
			if err := t.aptGet(append([]string{"--no-auto-remove", "purge"}, purge...)...); err != nil {
				return err
			}
		}
	}
	if len(auto) > 0 {
		if err := t.Mark(true, auto...); err != nil {
			return err
		}
	}
	if len(manual) > 0 {
		if err := t.Mark(false, manual...); err != nil {
			return err
		}
	}
	return removeMarks(x, t, works)
}
