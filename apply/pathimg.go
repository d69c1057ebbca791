package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"trail/apply/kind"
	"trail/internal/fsx"
	"trail/stepfmt"
)

// The states of a path image.
const (
	stFile    = "file"
	stDir     = "dir"
	stLink    = "link"
	stSpecial = "special" // a device, fifo or socket: never replaced
)

// pimg is a path image unpacked: what DIR, FILE and LINK compare.
// Attributes without their has* flag are not part of the image (a step
// that does not manage a file's mode has no mode in its image).
type pimg struct {
	state                   string
	content, to             string
	mode, uid, gid          uint32
	hasMode, hasUID, hasGID bool
}

func (p pimg) absent() bool { return p.state == kind.StateAbsent || p.state == "" }

// image packs p in the canonical attribute order: content, to, mode, uid, gid.
func (p pimg) image() kind.Image {
	m := kind.Image{State: p.state}
	if m.State == "" {
		m.State = kind.StateAbsent
	}
	if p.content != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "content", Value: p.content})
	}
	if p.to != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "to", Value: p.to})
	}
	if p.hasMode {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "mode", Value: fmt.Sprintf("%04o", p.mode)})
	}
	if p.hasUID {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "uid", Value: strconv.FormatUint(uint64(p.uid), 10)})
	}
	if p.hasGID {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "gid", Value: strconv.FormatUint(uint64(p.gid), 10)})
	}
	return m
}

// unpack reads a path image; it is the inverse of image.
func unpack(m kind.Image) (pimg, error) {
	p := pimg{state: m.State}
	switch p.state {
	case "", kind.StateAbsent, stFile, stDir, stLink, stSpecial:
	default:
		return p, fmt.Errorf("path image %q: unknown state %q", m, m.State)
	}
	for _, a := range m.Attrs {
		var err error
		switch a.Key {
		case "content":
			p.content, err = a.Value, kind.CheckKey(a.Value)
		case "to":
			p.to = a.Value
		case "mode":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 8, 32)
			p.mode, p.hasMode = uint32(n)&0o7777, true
		case "uid":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 10, 32)
			p.uid, p.hasUID = uint32(n), true
		case "gid":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 10, 32)
			p.gid, p.hasGID = uint32(n), true
		default:
			err = errors.New("unknown attribute")
		}
		if err != nil {
			return p, fmt.Errorf("path image %q: %s: %w", m, a.Key, err)
		}
	}
	if p.state == stFile && p.content == "" || p.state == stLink && p.to == "" {
		return p, fmt.Errorf("path image %q: a %s image needs its %s", m, p.state, map[string]string{stFile: "content", stLink: "to"}[p.state])
	}
	return p, nil
}

// readPath returns the whole present image of p. A missing p, or a missing
// parent, is absent; a parent that is a symlink or a file is an error.
func readPath(x *kind.Exec, p string) (pimg, error) {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return pimg{state: kind.StateAbsent}, nil
	}
	if err != nil {
		return pimg{}, err
	}
	out := pimg{mode: st.Mode, uid: st.UID, gid: st.GID, hasMode: true, hasUID: true, hasGID: true}
	switch st.Type {
	case fsx.Regular:
		out.state = stFile
		out.content, err = x.HashFile(p, st)
	case fsx.Dir:
		out.state = stDir
	case fsx.Symlink:
		out.state, out.hasMode = stLink, false
		out.to, err = x.Root.Readlink(p)
	default:
		out.state = stSpecial
	}
	return out, err
}

// capturePath is readPath that also puts a file's content into the store,
// so that the image can be restored. A path whose parent is not a
// directory (yet: an earlier step of the batch makes it one) is absent.
func capturePath(x *kind.Exec, p string) (kind.Image, error) {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsx.ErrNotDir) || errors.Is(err, fsx.ErrSymlink) {
		return kind.Absent(), nil
	}
	if err != nil {
		return kind.Image{}, err
	}
	if st.Type != fsx.Regular {
		img, err := readPath(x, p)
		if img.state == stSpecial {
			return kind.Image{}, fmt.Errorf("%s is a special file (device, fifo or socket): trail only replaces files, directories and symlinks", p)
		}
		return img.image(), err
	}
	key, ok := x.Hashes().Lookup(p, st)
	if !ok || !x.HasBlob(key) {
		f, err := x.Root.OpenFile(p)
		if err != nil {
			return kind.Image{}, err
		}
		key, err = x.Store().Stage(f)
		f.Close()
		if err != nil {
			return kind.Image{}, err
		}
		x.Hashes().Put(p, st, key)
	}
	img := pimg{state: stFile, content: key, mode: st.Mode, uid: st.UID, gid: st.GID, hasMode: true, hasUID: true, hasGID: true}
	return img.image(), nil
}

// shape restricts a whole image to the attributes like has, so that a
// present image compares with a recorded one attribute for attribute.
func (p pimg) shape(like pimg) pimg {
	p.hasMode = p.hasMode && like.hasMode
	p.hasUID = p.hasUID && like.hasUID
	p.hasGID = p.hasGID && like.hasGID
	return p
}

// pathDrift is the Drift of every path kind.
func pathDrift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	w, err := unpack(wrote)
	if err != nil {
		return kind.Image{}, err
	}
	x.SetWrote(w.content)
	cur, err := readPath(x, target)
	x.SetWrote("")
	if err != nil {
		return kind.Image{}, err
	}
	return cur.shape(w).image(), nil
}
