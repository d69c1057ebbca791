package paths

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
	StFile    = "file"
	StDir     = "dir"
	StLink    = "link"
	stSpecial = "special" // a device, fifo or socket: never replaced
)

// Object is a path image unpacked: what the path kinds compare.
// Attributes without their has* flag are not part of the image (a step
// that does not manage a file's mode has no mode in its image); a file
// image without content says nothing of the content (ATTRS).
type Object struct {
	State       string
	content, to string
	// secret marks content decrypted from a secret=age step: the image
	// says so (secret=age), and messages never show its hash.
	secret bool
	// sealed content is the store key of the content encrypted to the
	// host's own key (sealed=age): a secret path's pre-image.
	sealed bool
	// masked, not part of the image, keeps the content hash out of
	// messages when a secret step puts back what it replaced.
	masked                  bool
	Mode, uid, gid          uint32
	HasMode, HasUID, HasGID bool
	tree                    bool // an absent want: a directory may go with what is in it
}

// Absent reports whether the object is not there.
func (p Object) Absent() bool { return p.State == kind.StateAbsent || p.State == "" }

// Image packs p in the canonical attribute order: content, secret,
// sealed, to, mode, uid, gid. Its attributes are allocated once at their
// size: an apply keeps an image of every file it wrote until it records
// them.
func (p Object) Image() kind.Image {
	m := kind.Image{State: p.State}
	if m.State == "" {
		m.State = kind.StateAbsent
	}
	n := 0
	for _, has := range [...]bool{p.content != "", p.secret, p.sealed, p.to != "", p.HasMode, p.HasUID, p.HasGID} {
		if has {
			n++
		}
	}
	if n == 0 {
		return m
	}
	m.Attrs = make([]stepfmt.Attr, 0, n)
	if p.content != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "content", Value: p.content})
	}
	if p.secret {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "secret", Value: "age"})
	}
	if p.sealed {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "sealed", Value: "age"})
	}
	if p.to != "" {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "to", Value: p.to})
	}
	if p.HasMode {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "mode", Value: modeString(p.Mode)})
	}
	if p.HasUID {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "uid", Value: strconv.FormatUint(uint64(p.uid), 10)})
	}
	if p.HasGID {
		m.Attrs = append(m.Attrs, stepfmt.Attr{Key: "gid", Value: strconv.FormatUint(uint64(p.gid), 10)})
	}
	return m
}

// modeString is mode in four octal digits; the usual modes are constants,
// so that the images of many files share them.
func modeString(mode uint32) string {
	switch mode {
	case 0o644:
		return "0644"
	case 0o755:
		return "0755"
	case 0o600:
		return "0600"
	case 0o700:
		return "0700"
	case 0o640:
		return "0640"
	case 0o750:
		return "0750"
	case 0o444:
		return "0444"
	case 0o555:
		return "0555"
	}
	return fmt.Sprintf("%04o", mode)
}

// Unpack reads a path image; it is the inverse of image.
func Unpack(m kind.Image) (Object, error) {
	p := Object{State: m.State}
	switch p.State {
	case "", kind.StateAbsent, StFile, StDir, StLink, StTree, stSpecial:
	default:
		return p, fmt.Errorf("path image %q: unknown state %q", m, m.State)
	}
	for _, a := range m.Attrs {
		var err error
		switch a.Key {
		case "content":
			p.content, err = a.Value, kind.CheckKey(a.Value)
		case "secret":
			p.secret = true
		case "sealed":
			p.sealed = true
		case "to":
			p.to = a.Value
		case "mode":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 8, 32)
			p.Mode, p.HasMode = uint32(n)&0o7777, true
		case "uid":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 10, 32)
			p.uid, p.HasUID = uint32(n), true
		case "gid":
			var n uint64
			n, err = strconv.ParseUint(a.Value, 10, 32)
			p.gid, p.HasGID = uint32(n), true
		default:
			err = errors.New("unknown attribute")
		}
		if err != nil {
			return p, fmt.Errorf("path image %q: %s: %w", m, a.Key, err)
		}
	}
	if p.State == StLink && p.to == "" {
		return p, fmt.Errorf("path image %q: a link image needs its to", m)
	}
	if p.State == StTree && p.content == "" {
		return p, fmt.Errorf("path image %q: a tree image needs its content", m)
	}
	return p, nil
}

// Read returns the whole present image of p. A missing p, or a missing
// parent, is absent; a parent that is a symlink or a file is an error.
func Read(x *kind.Exec, p string) (Object, error) {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Object{State: kind.StateAbsent}, nil
	}
	if err != nil {
		return Object{}, err
	}
	out := Object{Mode: st.Mode, uid: st.UID, gid: st.GID, HasMode: true, HasUID: true, HasGID: true}
	switch st.Type {
	case fsx.Regular:
		out.State = StFile
		out.content, err = x.HashFile(p, st)
	case fsx.Dir:
		out.State = StDir
	case fsx.Symlink:
		out.State, out.HasMode = StLink, false
		out.to, err = x.Root.Readlink(p)
	default:
		out.State = stSpecial
	}
	return out, err
}

// Capture is Read that also puts a file's content into the store,
// so that the image can be restored; sealed (encrypted to the host's key,
// sealed=age) at a path a secret step names. A path whose parent is not a
// directory (yet: an earlier step of the batch makes it one) is absent.
func Capture(x *kind.Exec, p string) (kind.Image, error) {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsx.ErrNotDir) || errors.Is(err, fsx.ErrSymlink) {
		return kind.Absent(), nil
	}
	if err != nil {
		return kind.Image{}, err
	}
	if st.Type != fsx.Regular {
		img, err := Read(x, p)
		if img.State == stSpecial {
			return kind.Image{}, fmt.Errorf("%s is a special file (device, fifo or socket): trail only replaces files, directories and symlinks", p)
		}
		return img.Image(), err
	}
	if x.IsSecret(p) {
		f, err := x.Root.OpenReader(p)
		if err != nil {
			return kind.Image{}, err
		}
		key, err := x.Seal(f)
		f.Close()
		if err != nil {
			return kind.Image{}, fmt.Errorf("%s: %w", p, err)
		}
		img := Object{State: StFile, content: key, sealed: true, Mode: st.Mode, uid: st.UID, gid: st.GID, HasMode: true, HasUID: true, HasGID: true}
		return img.Image(), nil
	}
	key, ok := x.Hashes().Lookup(p, st)
	if !ok || !x.HasBlob(key) {
		f, err := x.Root.OpenReader(p)
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
	img := Object{State: StFile, content: key, Mode: st.Mode, uid: st.UID, gid: st.GID, HasMode: true, HasUID: true, HasGID: true}
	return img.Image(), nil
}

// shape restricts a whole image to the attributes like has, so that a
// present image compares with a recorded one attribute for attribute.
func (p Object) shape(like Object) Object {
	p.HasMode = p.HasMode && like.HasMode
	p.HasUID = p.HasUID && like.HasUID
	p.HasGID = p.HasGID && like.HasGID
	p.secret = like.secret
	if p.State == StFile && like.content == "" {
		p.content = ""
	}
	return p
}

// pathDrift is the Drift of every path kind.
func pathDrift(x *kind.Exec, target string, wrote kind.Image) (kind.Image, error) {
	w, err := Unpack(wrote)
	if err != nil {
		return kind.Image{}, err
	}
	x.SetWrote(w.content)
	cur, err := Read(x, target)
	x.SetWrote("")
	if err != nil {
		return kind.Image{}, err
	}
	return cur.shape(w).Image(), nil
}
