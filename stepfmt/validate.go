package stepfmt

import (
	"fmt"
	"slices"
	"strings"
)

// Validate checks a whole step list before anything is applied and returns
// every problem, each at the source of the step that has it:
//
//   - unknown kinds or attributes, missing required attributes, bad values
//     (modes, ids, hashes, durations, names) and non-canonical spellings;
//   - relative, unclean or ".." paths;
//   - a target managed twice (naming both places);
//   - a path whose parent directory is managed only later in the list;
//   - a path under a path managed as a file or a symlink;
//   - an ATTRS step without mode, owner or group;
//   - an owner, group or primary group that is managed only later;
//   - a unit restart-on or reload-on naming a path no FILE, LINK or DIR
//     step manages, a package:NAME no PKG step or a command:NAME no CMD
//     step manages, and a unit with both reload=true and reload-on;
//   - an INCLUDE that was not resolved (use Load or Expand first).
func Validate(l *List) ErrorList { return validate(l, nil) }

// ValidateIndexed is Validate of a list whose steps the caller indexed
// already, every one, in list order (Add(0), Add(1), ...), and found none
// twice: the index is not made again (at 100,000 steps, as long as the
// rest of the validation).
func ValidateIndexed(l *List, index *Index) ErrorList { return validate(l, index) }

func validate(l *List, index *Index) ErrorList {
	var errs ErrorList
	made := index == nil
	if made {
		index = NewIndex(len(l.Steps), func(i int) *Step { return l.Steps[i] })
	}
	var memo stepMemo
	for i, s := range l.Steps {
		validStep(s, &errs, &memo)
		if !made {
			continue
		}
		if j, dup := index.Add(i); dup {
			first := l.Steps[j]
			errs.add(s.Src, s.Kind, s.Target, "managed twice: also by %s at %s", first.ID(), first.Src)
		}
	}
	// The directories, owners and groups looked up last, once for a run
	// of steps (a tree's come a directory at a time).
	var dirs, users, groups LastFind
	for i, s := range l.Steps {
		switch {
		case IsPath(s.Kind):
			if s.Kind == KindAttrs {
				if _, _, ok := s.firstOf("mode", "owner", "group"); !ok {
					errs.add(s.Src, s.Kind, s.Target, "manages nothing: give mode, owner or group")
				}
			}
			validParents(l, index, i, s, &dirs, &errs)
			validOwners(l, index, i, s, "owner", "user", &users, &errs)
			validOwners(l, index, i, s, "group", "group", &groups, &errs)
		case s.Kind == KindUser:
			validOwners(l, index, i, s, "group", "group", &groups, &errs)
		case s.Kind == KindUnit:
			validTriggers(l, index, s, &errs)
		case s.Kind == KindInclude:
			errs.add(s.Src, s.Kind, s.Target, "include not resolved: load the list with its includes before validating")
		}
	}
	return errs
}

// validStep checks one step on its own. m remembers the last step whose
// attribute keys passed (m.keys) and the values found good at each place:
// a step with the same kind, keys and absence has the same shape and
// needs only its changed values checked, so the steps of a tree, which
// share their keys and their mode, owner and group, check those once.
func validStep(s *Step, errs *ErrorList, m *stepMemo) {
	ks := m.spec
	if ks == nil || ks.kind != s.Kind {
		ks = specOf(s.Kind)
		m.spec = ks
	}
	if ks == nil {
		errs.add(s.Src, s.Kind, s.Target, "unknown kind (known: %s)", kindNames())
		return
	}
	if c, err := ks.target(s.Target); err != nil {
		errs.add(s.Src, s.Kind, s.Target, "%v", err)
	} else if c != s.Target {
		errs.add(s.Src, s.Kind, s.Target, "target is not canonical: write %q", c)
	}
	absent := s.Absent()
	same := m.same(s, absent)
	keysGood := true
	for i, a := range s.Attrs {
		var as *attrSpec
		if same {
			if v := m.vals[i]; v != "" && a.Value == v {
				continue
			}
			as = m.specs[i]
		} else {
			if as = ks.attr(a.Key); as == nil {
				errs.add(s.Src, s.Kind, s.Target, "unknown attribute %q (%s takes: %s)", a.Key, s.Kind, strings.Join(AttrKeys(s.Kind), ", "))
				keysGood = false
				continue
			}
			for _, b := range s.Attrs[:i] {
				if b.Key == a.Key {
					errs.add(s.Src, s.Kind, s.Target, "attribute %s given twice", a.Key)
					keysGood = false
				}
			}
		}
		if c, err := as.typ(a.Value); err != nil {
			errs.add(s.Src, s.Kind, s.Target, "%s: %v", a.Key, err)
		} else if c != a.Value {
			errs.add(s.Src, s.Kind, s.Target, "%s: %q is not canonical: write %q", a.Key, a.Value, c)
		} else if same {
			m.vals[i] = a.Value
		}
	}
	if same {
		return
	}
	shape := ks.shapeErrs(s)
	for _, msg := range shape {
		errs.add(s.Src, s.Kind, s.Target, "%s", msg)
	}
	if keysGood && len(shape) == 0 {
		m.remember(s, ks, absent)
	}
}

// stepMemo is the kind spec of the step before, the shape of the last
// step validStep found well shaped (its kind, absence and attribute keys,
// known and each once, with their specs) and, at each place, the last
// value found good there ("" for none yet).
type stepMemo struct {
	spec   *kindSpec // of the step before, found by specOf
	kind   Kind
	absent bool
	keys   []string
	specs  []*attrSpec
	vals   []string
}

// same reports whether s has the remembered shape.
func (m *stepMemo) same(s *Step, absent bool) bool {
	if m.keys == nil || s.Kind != m.kind || absent != m.absent || len(s.Attrs) != len(m.keys) {
		return false
	}
	for i, a := range s.Attrs {
		if a.Key != m.keys[i] {
			return false
		}
	}
	return true
}

// remember takes s's shape, its values not yet known good.
func (m *stepMemo) remember(s *Step, ks *kindSpec, absent bool) {
	m.kind, m.absent = s.Kind, absent
	m.keys, m.specs, m.vals = m.keys[:0], m.specs[:0], m.vals[:0]
	if m.keys == nil {
		m.keys = []string{}
	}
	for _, a := range s.Attrs {
		m.keys, m.specs, m.vals = append(m.keys, a.Key), append(m.specs, ks.attr(a.Key)), append(m.vals, "")
	}
}

// shapeErrs checks which attributes s has together: the required ones,
// which a step with absent=true does without, and with absent=true no
// others than the kind's absentAttrs.
func (ks *kindSpec) shapeErrs(s *Step) []string {
	var out []string
	if s.Absent() {
		allowed := absentAttrs[s.Kind]
		var extra []string
		for _, a := range s.Attrs {
			if a.Key != "absent" && !slices.Contains(allowed, a.Key) {
				extra = append(extra, a.Key)
			}
		}
		if len(extra) > 0 {
			also := "no other attribute"
			if len(allowed) > 0 {
				also = "only " + strings.Join(allowed, " and ")
			}
			out = append(out, fmt.Sprintf("absent=true removes the whole target, so %s cannot be set with it (it takes %s)", strings.Join(extra, ", "), also))
		}
		return out
	}
	if _, ok := s.Get("recursive"); ok {
		out = append(out, "recursive=true says how an absent directory goes: it goes with absent=true only")
	}
	for _, as := range ks.attrs {
		if _, ok := s.Get(as.key); as.required && !ok {
			out = append(out, missingMsg(as.key))
		}
	}
	return out
}

// validParents checks every ancestor of a path step: none may be managed as
// a file or symlink, and a managed parent directory must come earlier.
func validParents(l *List, index *Index, i int, s *Step, last *LastFind, errs *ErrorList) {
	p := s.Target
	for {
		cut := strings.LastIndexByte(p, '/')
		if cut <= 0 {
			return
		}
		p = p[:cut]
		j, ok := last.Find(index, "path", p)
		if !ok {
			continue
		}
		a := l.Steps[j]
		if a.Absent() {
			// What is under an absent path goes too, and first.
			switch {
			case !s.Absent():
				errs.add(s.Src, s.Kind, s.Target, "is under %s, which is absent (%s at %s): it cannot be there", p, a.ID(), a.Src)
			case j < i:
				errs.add(s.Src, s.Kind, s.Target, "is under %s, which is removed earlier, at %s: put this step before it", p, a.Src)
			}
			return
		}
		if a.Kind != KindDir {
			errs.add(s.Src, s.Kind, s.Target, "is under %s, which is managed as a %s at %s", p, kindNoun(a.Kind), a.Src)
			return
		}
		if j > i {
			errs.add(s.Src, s.Kind, s.Target, "parent directory %s is managed later, at %s: put this step after it", p, a.Src)
		}
		return
	}
}

// validOwners checks that an owner or group managed by the list is created
// before the step that uses it.
func validOwners(l *List, index *Index, i int, s *Step, key, ns string, last *LastFind, errs *ErrorList) {
	name, ok := s.Get(key)
	if !ok {
		return
	}
	j, ok := last.Find(index, ns, name)
	switch {
	case ok && l.Steps[j].Absent():
		errs.add(s.Src, s.Kind, s.Target, "%s %s is absent (at %s): it cannot own anything", key, name, l.Steps[j].Src)
	case ok && j > i:
		errs.add(s.Src, s.Kind, s.Target, "%s %s is managed later, at %s: put this step after it", key, name, l.Steps[j].Src)
	}
}

func kindNoun(k Kind) string {
	switch k {
	case KindFile, KindEdit, KindAttrs:
		return "file"
	case KindLink:
		return "symlink"
	case KindDir:
		return "directory"
	}
	return string(k)
}

func missingMsg(key string) string {
	if key == "timeout" {
		return "needs timeout=: a command without one could hang an apply forever"
	}
	return "missing required attribute " + key
}

// validTriggers checks a unit's restart-on and reload-on: each path,
// package and command must be managed by a step of the list. reload=true
// makes restart-on reload; with reload-on as well, which paths only reload
// would be said twice.
func validTriggers(l *List, index *Index, s *Step, errs *ErrorList) {
	for _, key := range []string{"restart-on", "reload-on"} {
		for _, p := range s.List(key) {
			if _, err := tTrigger(p); err != nil {
				continue // reported as a bad value
			}
			ns, name, what := "path", p, "FILE, LINK or DIR"
			if !strings.HasPrefix(p, "/") {
				ns, name, _ = strings.Cut(p, ":")
				what = map[string]string{"package": "PKG", "command": "CMD"}[ns]
			}
			j, ok := index.Find(ns, name)
			switch {
			case !ok:
				errs.add(s.Src, s.Kind, s.Target, "%s names %s, which no %s step manages", key, p, what)
			case l.Steps[j].Absent():
				errs.add(s.Src, s.Kind, s.Target, "%s names %s, which is absent (at %s)", key, p, l.Steps[j].Src)
			}
		}
	}
	if _, ok := s.Get("reload-on"); ok && s.Value("reload") == "true" {
		errs.add(s.Src, s.Kind, s.Target, "reload=true and reload-on together: list the paths that only reload in reload-on, those that restart in restart-on, and drop reload")
	}
}

// firstOf returns the first of keys that s has, with its value.
func (s *Step) firstOf(keys ...string) (string, string, bool) {
	for _, k := range keys {
		if v, ok := s.Get(k); ok {
			return k, v, true
		}
	}
	return "", "", false
}
