package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
)

// Verify reads every blob, of its own or packed, and checks it against
// its name, and every pack's index against its checksum.
func (s *Store) Verify() error {
	var errs []error
	err := filepath.WalkDir(filepath.Join(s.Dir, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		key := "sha256:" + d.Name()
		if kind.CheckKey(key) != nil || filepath.Base(filepath.Dir(p)) != d.Name()[:2] {
			errs = append(errs, fmt.Errorf("store: %s is not a blob name", p))
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if got := kind.HashKey(data); got != key {
			errs = append(errs, corrupt(key, got))
		}
		return nil
	})
	errs = append(errs, err)
	names, _ := readNames(s.packDir())
	for _, n := range names {
		base, ok := strings.CutSuffix(n, indexSuffix)
		if !ok {
			continue
		}
		p, err := openPack(filepath.Join(s.packDir(), base), true)
		if err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
			continue
		}
		for i := range p.ix.count {
			if _, err := readPacked(p, i, sumKey(p.ix.digest(i))); err != nil {
				errs = append(errs, err)
			}
		}
		p.close()
	}
	return errors.Join(errs...)
}

// BlobProblem is a blob trail's state needs that the store does not hold
// whole.
type BlobProblem struct {
	Step    string `json:"step"` // the target that needs it: "FILE /etc/motd"
	Need    string `json:"need"` // "pre-image" (a removal or rollback restores it) or "content" (what trail wrote)
	Blob    string `json:"blob"`
	Problem string `json:"problem"` // "missing", "empty", or what a hash check found
}

func (p BlobProblem) String() string {
	return fmt.Sprintf("%s: its %s blob %s is %s", p.Step, p.Need, p.Blob, p.Problem)
}

// emptyKey is the key of the empty blob.
var emptyKey = kind.HashKey(nil)

// CheckBlobs returns the blobs the records need (their pre-images and
// what trail wrote) that the store does not have, or has empty: one stat
// per blob (see Engine.CheckBlobs).
func (s *Store) CheckBlobs(records []*kind.Record) ([]BlobProblem, error) {
	return s.CheckBlobsOf(func(fn func(*kind.Record) error) error {
		for _, r := range records {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// CheckBlobsOf is CheckBlobs of the records each calls its function with.
func (s *Store) CheckBlobsOf(each func(func(*kind.Record) error) error) ([]BlobProblem, error) {
	dfd, err := unix.Open(filepath.Join(s.Dir, "sha256"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer unix.Close(dfd)
	var out []BlobProblem
	s.packs.mu.Lock()
	s.refreshPacks(true)
	s.packs.mu.Unlock()
	err = each(func(r *kind.Record) error {
		for _, need := range []struct {
			what  string
			blobs []string
		}{{"pre-image", r.Origin.Blobs()}, {"content", r.Wrote.WroteBlobs(r.ID.Kind)}} {
			for _, k := range need.blobs {
				if p := s.statBlob(dfd, k); p != "" {
					out = append(out, BlobProblem{Step: r.ID.String(), Need: need.what, Blob: k, Problem: p})
				}
			}
		}
		return nil
	})
	return out, err
}

// statBlob says what is wrong with blob key, in a pack or the store's
// sha256 directory dfd, without reading it: "" when it is there.
func (s *Store) statBlob(dfd int, key string) string {
	if kind.CheckKey(key) != nil {
		return "not a blob key"
	}
	sum := digestOf(key)
	if n, ok := s.packedSize(&sum); ok {
		if n == 0 && key != emptyKey {
			return "empty"
		}
		return ""
	}
	h := key[len("sha256:"):]
	var st unix.Stat_t
	switch err := unix.Fstatat(dfd, h[:2]+"/"+h, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
		return "missing"
	case err != nil:
		return err.Error()
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "not a regular file"
	case st.Size == 0 && key != emptyKey:
		return "empty"
	}
	return ""
}
