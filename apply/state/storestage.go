package state

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"trail/internal/fsx"
)

// Put stores data durably and returns its key.
func (s *Store) Put(data []byte) (string, error) {
	keys, err := s.PutMany([][]byte{data})
	if err != nil {
		return "", err
	}
	return keys[0], nil
}

// PutMany stores many blobs and makes them durable together, which is far
// cheaper than one Put each when a compile produces thousands of files.
func (s *Store) PutMany(blobs [][]byte) ([]string, error) {
	keys, err := s.StageMany(blobs)
	if err != nil {
		return nil, err
	}
	return keys, s.Flush()
}

// StageMany stages many blobs (those not stored yet) and returns their
// keys; the next Flush makes them durable, so a caller staging a big tree
// in bounded pieces of memory pays one flush for all of them. On error
// everything staged since the last Flush is removed.
func (s *Store) StageMany(blobs [][]byte) ([]string, error) {
	keys := make([]string, len(blobs))
	for i, b := range blobs {
		sum := sha256.Sum256(b)
		k := sumKey(&sum)
		keys[i] = k
		if s.isStaged(&sum) || s.stored(k, &sum) {
			continue
		}
		if err := s.stage(b, &sum); err != nil {
			s.Abort()
			return nil, err
		}
	}
	return keys, nil
}

// stage stages blob b of digest sum, which is neither staged nor stored:
// into the pack when it is small and the flush has more than a few such,
// else as a file of its own. The key is known: the blob is written
// without hashing or looking it up again.
func (s *Store) stage(b []byte, sum *[sha256.Size]byte) error {
	if len(b) <= PackMax && !s.rewrite[*sum] {
		if s.small >= packFrom {
			return s.packAppend(b, sum)
		}
		s.small++
	}
	seq, _, size, err := s.writeTemp(bytes.NewReader(b), false)
	if err != nil {
		return err
	}
	s.pend(seq, sum, size)
	return nil
}

// Stage writes r to a temporary file and returns its key; flush moves it
// into place. A blob already stored is not written again.
func (s *Store) Stage(r io.Reader) (string, error) {
	if s.rbuf == nil {
		s.rbuf = make([]byte, PackMax+1)
	}
	n, err := io.ReadFull(r, s.rbuf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		b := s.rbuf[:n]
		sum := sha256.Sum256(b)
		key := sumKey(&sum)
		if s.isStaged(&sum) || s.stored(key, &sum) {
			return key, nil
		}
		if err := s.stage(b, &sum); err != nil {
			return "", err
		}
		return key, nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	seq, sum, size, err := s.writeTemp(io.MultiReader(bytes.NewReader(s.rbuf), r), true)
	if err != nil {
		return "", err
	}
	key := sumKey(&sum)
	if s.isStaged(&sum) || s.stored(key, &sum) {
		os.Remove(s.tmpPath(seq))
		return key, nil
	}
	s.pend(seq, &sum, size)
	return key, nil
}

// writeTemp copies r to a new temporary file in store/tmp (numbered seq),
// hashing it when asked for its digest.
func (s *Store) writeTemp(r io.Reader, hashing bool) (seq uint64, sum [sha256.Size]byte, size int64, err error) {
	seq = s.seq.Add(1)
	tmp := s.tmpPath(seq)
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return 0, sum, 0, fmt.Errorf("store: %w", &fs.PathError{Op: "open", Path: tmp, Err: err})
	}
	f := fsx.NewFile(fd, tmp)
	if s.buf == nil {
		s.buf = make([]byte, 64<<10)
	}
	var w io.Writer = &f
	h := sha256.New()
	if hashing {
		w = io.MultiWriter(&f, h)
	}
	size, err = io.CopyBuffer(w, r, s.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, sum, 0, fmt.Errorf("store: %w", err)
	}
	if hashing {
		h.Sum(sum[:0])
	}
	return seq, sum, size, nil
}

// pend records temporary file number seq as the blob of digest sum, for
// the next Flush.
func (s *Store) pend(seq uint64, sum *[sha256.Size]byte, size int64) {
	s.markStaged(sum, pendingRef(len(s.pending)))
	s.pending = append(s.pending, pendingBlob{*sum, seq, size})
}

// A staged blob's ref (stagedSet) says where its digest is: entry i of
// the pack being written (i+1), or pending[j] (^j, from 2^31 up).
func packRef(i int) uint32    { return uint32(i + 1) }
func pendingRef(j int) uint32 { return ^uint32(j) }

// markStaged notes the blob of digest sum as staged at ref.
func (s *Store) markStaged(sum *[sha256.Size]byte, ref uint32) {
	s.staged.add(sum, ref)
}

// isStaged reports whether the blob of digest sum is staged.
func (s *Store) isStaged(sum *[sha256.Size]byte) bool {
	_, ok := s.staged.find(sum, func(ref uint32) bool {
		if ref >= 1<<31 {
			j := int(^ref)
			return j < len(s.pending) && s.pending[j].sum == *sum
		}
		return s.pw != nil && s.pw.ents.isDigest(int(ref)-1, sum)
	})
	return ok
}

// MkdirTemp makes a private directory in store/tmp (0700, in the 0700
// state directory) for a step's work files, such as the content a FILE's
// validate command checks, which may be a secret's plaintext. Its name
// starts with the pid, as a staged blob's does, so that what a killed
// trail left there is removed when trail next takes the lock
// (cleanStoreTemp); the caller removes it when done.
func (s *Store) MkdirTemp(what string) (string, error) {
	dir, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), strconv.Itoa(os.Getpid())+"."+what+"-")
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return dir, nil
}

// Abort removes the blobs staged since the last Flush.
func (s *Store) Abort() {
	for _, p := range s.pending {
		os.Remove(s.tmpPath(p.seq))
	}
	s.dropPack()
	// Let go of both, not only emptied: a compile's flush of 100,000
	// blobs left their names (16 MB) reachable from the slice's array
	// and the map's table through the whole apply.
	s.pending, s.staged, s.small, s.loose = nil, stagedSet{}, 0, nil
}

// Flush makes the staged blobs durable and puts them in place: the data
// of the files and of the pack and its index synced first, then the
// files and the index renamed into place, then the directories synced.
func (s *Store) Flush() error {
	if len(s.pending) == 0 && s.pw == nil {
		s.small, s.loose = 0, nil
		return nil
	}
	defer s.Abort()
	var idxTmp string
	if s.pw != nil {
		var err error
		if idxTmp, err = s.finishPack(); err != nil {
			return err
		}
		defer os.Remove(idxTmp) // renamed, when all goes well
		at("pack written")
	}
	wide := len(s.pending) > fsx.SmallBatch
	if wide {
		if err := syncfsAt(s.Dir); err != nil {
			return err
		}
	} else {
		for _, p := range s.pending {
			if err := fsyncPath(s.tmpPath(p.seq)); err != nil {
				return err
			}
		}
		if s.pw != nil {
			if err := s.pw.f.Sync(); err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if err := fsyncPath(idxTmp); err != nil {
				return err
			}
		}
	}
	at("synced")
	dirs := map[string]bool{}
	for _, p := range s.pending {
		final := s.Path(sumKey(&p.sum))
		d := filepath.Dir(final)
		if !dirs[d] {
			if err := os.Mkdir(d, 0o700); err == nil {
				dirs[filepath.Dir(d)] = true
			} else if !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("store: %w", err)
			}
			dirs[d] = true
		}
		// unix.Rename, as os.Rename would first lstat the new name (to
		// refuse a directory there, which rename(2) refuses itself).
		tmp := s.tmpPath(p.seq)
		if err := unix.Rename(tmp, final); err != nil {
			return fmt.Errorf("store: %w", &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err})
		}
		s.added += p.size
	}
	s.pending = nil // renamed: not for the deferred Abort to remove
	if s.pw != nil {
		if err := s.placePack(idxTmp); err != nil {
			return err
		}
		dirs[s.packDir()] = true
		at("index placed")
	}
	if wide {
		return syncfsAt(s.Dir)
	}
	for d := range dirs {
		if err := fsyncPath(d); err != nil {
			return err
		}
	}
	return nil
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func syncfsAt(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}
