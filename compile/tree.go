package compile

import (
	"io/fs"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"trail/stepfmt"
)

// treeAttrs are the canonical values a tree stamps on every step.
type treeAttrs struct {
	mode, execMode, dirMode, owner, group, drift string
	exclude                                      []glob
}

// expandTree syncs a repository directory onto a host path: the directory
// itself, then every subdirectory, file and symlink under it in path
// order, minus exclusions. A file the repository marks executable gets an
// x bit wherever the mode has an r bit.
func expandTree(r *resource) {
	c := r.sc.c
	target, trng := r.target()
	if _, err := stepfmt.CanonTarget(stepfmt.KindDir, target); err != nil {
		r.diag(errorf(&trng, "Invalid path", "tree %q: %v.", target, err))
		return
	}
	dir, srng, ok := r.repoPathAttr("source")
	if !ok {
		return
	}
	ta, ok := r.treeAttrs()
	if !ok {
		return
	}
	info, err := fs.Stat(c.fsys, dir)
	if err != nil || !info.IsDir() {
		detail := "source %q is a file: a tree syncs a directory; use a file block for one file."
		if err != nil {
			detail = "source %q: " + errText(err) + "; source is a directory relative to the repository root."
		}
		r.diag(errorf(&srng, "Invalid tree source", detail, dir))
		return
	}
	root := r.newStep(stepfmt.KindDir, target, trng)
	r.stamp(root, ta.dirMode, ta)
	if !r.add(root, dir) {
		return
	}
	base := root.Target
	err = fs.WalkDir(c.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := p
		if dir != "." {
			rel = p[len(dir)+1:]
		}
		if name := d.Name(); name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			r.diag(errorf(&srng, "Invalid tree entry", "The repository directory %s holds an entry named %q, which no path can name.", dir, name))
			return fs.SkipAll
		}
		if d.Name() == ".git" || ta.excluded(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !r.treeEntry(p, base+"/"+rel, d, trng, ta) {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		r.diag(errorf(&srng, "Cannot read tree source", "Walking %s in the repository failed: %s.", dir, errText(err)))
	}
}

// treeEntry adds the step of one entry; false stops the walk.
func (r *resource) treeEntry(p, target string, d fs.DirEntry, rng hcl.Range, ta treeAttrs) bool {
	c := r.sc.c
	var st *stepfmt.Step
	switch t := d.Type(); {
	case t.IsDir():
		st = r.newStep(stepfmt.KindDir, target, rng)
		r.stamp(st, ta.dirMode, ta)
	case t&fs.ModeSymlink != 0:
		to, err := fs.ReadLink(c.fsys, p)
		if err != nil {
			r.diag(errorf(&rng, "Cannot read tree entry", "Reading symlink %s failed: %s.", p, errText(err)))
			return true
		}
		st = r.newStep(stepfmt.KindLink, target, rng)
		if to == "" || strings.IndexByte(to, 0) >= 0 {
			r.diag(errorf(&rng, "Invalid tree entry", "Symlink %s has an empty or invalid target.", p))
			return true
		}
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "to", Value: to})
		r.stamp(st, "", ta)
	case t.IsRegular():
		data, err := fs.ReadFile(c.fsys, p)
		if err != nil {
			r.diag(errorf(&rng, "Cannot read tree entry", "Reading %s failed: %s.", p, errText(err)))
			return true
		}
		mode := ta.mode
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			mode = ta.execMode
		}
		st = r.newStep(stepfmt.KindFile, target, rng)
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "content", Value: c.blob(data)})
		r.stamp(st, mode, ta)
	default:
		r.diag(errorf(&rng, "Invalid tree entry",
			"%s is neither a file, a directory nor a symlink (a git submodule?); exclude it or move it out of the tree.", p))
		return true
	}
	return r.add(st, p)
}

// stamp appends the tree's attributes in canonical order.
func (r *resource) stamp(st *stepfmt.Step, mode string, ta treeAttrs) {
	if mode != "" {
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "mode", Value: mode})
	}
	st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "owner", Value: ta.owner}, stepfmt.Attr{Key: "group", Value: ta.group})
	if ta.drift != "" {
		st.Attrs = append(st.Attrs, stepfmt.Attr{Key: "drift", Value: ta.drift})
	}
}

// treeAttrs canonicalises the tree's defaults once for all its steps.
func (r *resource) treeAttrs() (treeAttrs, bool) {
	var ta treeAttrs
	ok := true
	get := func(dst *string, kind stepfmt.Kind, key, name, def string) {
		v, good := r.canon(kind, key, name, def)
		*dst, ok = v, ok && good
	}
	get(&ta.mode, stepfmt.KindFile, "mode", "mode", "0644")
	get(&ta.dirMode, stepfmt.KindDir, "mode", "dir_mode", "0755")
	get(&ta.owner, stepfmt.KindFile, "owner", "owner", "root")
	get(&ta.group, stepfmt.KindFile, "group", "group", "root")
	get(&ta.drift, stepfmt.KindFile, "drift", "drift", "")
	if ok {
		m, _ := strconv.ParseUint(ta.mode, 8, 32)
		ta.execMode = strconv.FormatUint(m|(m&0o444)>>2, 8)
		if len(ta.execMode) < 4 {
			ta.execMode = strings.Repeat("0", 4-len(ta.execMode)) + ta.execMode
		}
	}
	if pats, rng, given := r.list("exclude"); given {
		for _, p := range pats {
			g, err := compileGlob(p)
			if err != nil {
				r.diag(errorf(&rng, "Invalid exclude", "%v.", err))
				ok = false
				continue
			}
			ta.exclude = append(ta.exclude, g)
		}
	} else if _, present := r.attrs["exclude"]; present {
		ok = false
	}
	return ta, ok
}

func (ta treeAttrs) excluded(rel string) bool {
	for _, g := range ta.exclude {
		if g.match(rel) {
			return true
		}
	}
	return false
}
