package paths

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// A DIR step with absent=true and recursive=true removes a directory with
// everything in it. Its pre-image is the whole subtree: state "tree", the
// top directory's mode, owner and group, and as content one tar archive in
// the store holding every entry below it (directories, files and symlinks
// with their modes, owners and groups; times are zeroed, so the same tree
// is the same blob). A special file anywhere in it refuses the step; hard
// links come back as separate files. Restoring the image makes the
// directory again and every entry of the archive that is missing, leaving
// what is there (after an interrupted removal, what the removal had not
// reached yet).

// StTree is the state of a directory image with everything in it.
const StTree = "tree"

// recursive reports whether an absent DIR step may remove a whole tree.
func recursive(want Object) bool { return want.tree }

// errStopped ends the archive's writer when the store stopped reading;
// the store's error is the one to report then.
var errStopped = errors.New("the store stopped reading the archive")

// captureTree saves directory p and everything in it as one archive,
// sealed (encrypted to the host's key, sealed=age) when a secret step of
// the plan names a path in it: the apply that drops that step may remove
// the directory after its reverse put back what the secret replaced.
func captureTree(x *kind.Exec, p string, top fsx.Stat) (kind.Image, error) {
	if x.SecretUnder(p) {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		err := writeTree(x, tw, p, "")
		if err == nil {
			err = tw.Close()
		}
		if err != nil {
			return kind.Image{}, err
		}
		key, err := x.Seal(&b)
		if err != nil {
			return kind.Image{}, fmt.Errorf("%s: %w", p, err)
		}
		o := Object{State: StTree, content: key, sealed: true, Mode: top.Mode, uid: top.UID, gid: top.GID, HasMode: true, HasUID: true, HasGID: true}
		return o.Image(), nil
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		tw := tar.NewWriter(pw)
		err := writeTree(x, tw, p, "")
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	key, err := x.Stage(pr)
	pr.CloseWithError(errStopped)
	if werr := <-done; werr != nil && !errors.Is(werr, errStopped) {
		return kind.Image{}, werr
	}
	if err != nil {
		return kind.Image{}, err
	}
	o := Object{State: StTree, content: key, Mode: top.Mode, uid: top.UID, gid: top.GID, HasMode: true, HasUID: true, HasGID: true}
	return o.Image(), nil
}

// writeTree adds the entries under directory dir (rel its name in the
// archive) in name order, each directory before what is in it.
func writeTree(x *kind.Exec, tw *tar.Writer, dir, rel string) error {
	names, err := x.Root.ReadDirNames(dir)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		p, name := dir+"/"+n, path.Join(rel, n)
		st, err := x.Root.Lstat(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: name, Mode: int64(st.Mode), Uid: int(st.UID), Gid: int(st.GID), Format: tar.FormatPAX}
		switch st.Type {
		case fsx.Dir:
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if err := writeTree(x, tw, p, name); err != nil {
				return err
			}
		case fsx.Symlink:
			h.Typeflag = tar.TypeSymlink
			if h.Linkname, err = x.Root.Readlink(p); err != nil {
				return err
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		case fsx.Regular:
			h.Typeflag, h.Size = tar.TypeReg, st.Size
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			f, err := x.Root.OpenFile(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("saving %s: %w", p, err)
			}
		default:
			return fmt.Errorf("%s is a special file (device, fifo or socket): trail will not remove the tree holding it; remove it by hand", p)
		}
	}
	return nil
}

// removeTree removes p and everything in it, without following a symlink.
func removeTree(x *kind.Exec, p string) error {
	st, err := x.Root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Type != fsx.Dir {
		return x.Root.Remove(p)
	}
	names, err := x.Root.ReadDirNames(p)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := removeTree(x, p+"/"+n); err != nil {
			return err
		}
	}
	return x.Root.Rmdir(p)
}

// restoreTree makes every entry of the archive t.content under p that is
// missing; p itself exists. A sealed archive was decrypted by
// CheckRestore, which made t.content its plaintext's key.
func restoreTree(x *kind.Exec, p string, t Object) error {
	blob, err := x.OpenContent(t.content)
	if err != nil {
		return err
	}
	defer blob.Close()
	tr := tar.NewReader(blob)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the saved tree of %s: %w", p, err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("the saved tree of %s holds a bad name %q", p, h.Name)
		}
		q := p + "/" + name
		if _, err := x.Root.Lstat(q); err == nil {
			continue // there: the removal did not reach it, or it came back
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		mode, uid, gid := uint32(h.Mode)&0o7777, uint32(h.Uid), uint32(h.Gid)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := x.Root.Mkdir(q); err != nil {
				return err
			}
			if err := x.Root.Chown(q, uid, gid); err != nil {
				return err
			}
			err = x.Root.Chmod(q, mode)
		case tar.TypeSymlink:
			if err := x.Root.Symlink(h.Linkname, q); err != nil {
				return err
			}
			err = x.Root.Chown(q, uid, gid)
		case tar.TypeReg:
			err = x.Root.Stage(q, tr, mode, uid, gid)
		default:
			err = fmt.Errorf("the saved tree of %s holds %s of an unknown type", p, h.Name)
		}
		if err != nil {
			return err
		}
	}
}
