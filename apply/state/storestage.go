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
	"strings"

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

// StageKeyed is StageMany for blobs whose keys the caller has (a compile
// hashed them as it read them): each blob is checked to be its key's
// content, and no key is made, which at 100,000 small files was two
// strings a file. A blob that is not its key's content fails the
// staging, as any failure does.
func (s *Store) StageKeyed(blobs [][]byte, keys []string) error {
	if len(keys) != len(blobs) {
		s.Abort()
		return fmt.Errorf("store: %d keys for %d contents", len(keys), len(blobs))
	}
	for i, b := range blobs {
		sum := sha256.Sum256(b)
		if !isKeyOf(keys[i], &sum) {
			s.Abort()
			return fmt.Errorf("store: the content given as %s is %s", keys[i], sumKey(&sum))
		}
		if s.isStaged(&sum) || s.stored(keys[i], &sum) {
			continue
		}
		if err := s.stage(b, &sum); err != nil {
			s.Abort()
			return err
		}
	}
	return nil
}

// isKeyOf reports whether key is sumKey(sum), without making it.
func isKeyOf(key string, sum *[sha256.Size]byte) bool {
	const digits = "0123456789abcdef"
	hexed, ok := strings.CutPrefix(key, "sha256:")
	if !ok || len(hexed) != 2*sha256.Size {
		return false
	}
	for i, b := range sum {
		if hexed[2*i] != digits[b>>4] || hexed[2*i+1] != digits[b&15] {
			return false
		}
	}
	return true
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
	tf, _, size, err := s.writeTemp(bytes.NewReader(b), false)
	if err != nil {
		return err
	}
	return s.pend(tf, sum, size)
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
	tf, sum, size, err := s.writeTemp(io.MultiReader(bytes.NewReader(s.rbuf), r), true)
	if err != nil {
		return "", err
	}
	key := sumKey(&sum)
	if s.isStaged(&sum) || s.stored(key, &sum) {
		tf.close()
		return key, nil
	}
	return key, s.pend(tf, &sum, size)
}

// writeTemp copies r to a new temporary file (tempFile), hashing it when
// asked for its digest.
func (s *Store) writeTemp(r io.Reader, hashing bool) (tf *tempFile, sum [sha256.Size]byte, size int64, err error) {
	tf, err = newTempFile(filepath.Join(s.Dir, "tmp"), "blob")
	if err != nil {
		return nil, sum, 0, err
	}
	if s.buf == nil {
		s.buf = make([]byte, 64<<10)
	}
	var w io.Writer = tf.f
	h := sha256.New()
	if hashing {
		w = io.MultiWriter(tf.f, h)
	}
	size, err = io.CopyBuffer(w, r, s.buf)
	if err != nil {
		tf.close()
		return nil, sum, 0, fmt.Errorf("store: %w", err)
	}
	if hashing {
		h.Sum(sum[:0])
	}
	at("blob written")
	return tf, sum, size, nil
}

// maxPending is how many staged files of their own a staging holds
// before its Flush: each stays open until it is put in place (a file
// with no name is linked by its descriptor), so past as many they are
// put in place ahead of the Flush, made durable first as it does.
const maxPending = 512

// pendingMax is maxPending, or fewer where the limit of open files is
// low (ulimit -n): half of what it leaves past 64 for the rest of the
// process, so that a staging of many large files does not fail with too
// many open files where the process holds few.
func pendingMax() int {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= 2*maxPending+64 {
		return maxPending
	}
	return max(int(lim.Cur)-64, 16) / 2
}

// pend records temporary file tf as the blob of digest sum, for the next
// Flush.
func (s *Store) pend(tf *tempFile, sum *[sha256.Size]byte, size int64) error {
	if len(s.pending) == 0 {
		s.pendMax = pendingMax()
	}
	s.markStaged(sum, pendingRef(len(s.pending)))
	s.pending = append(s.pending, pendingBlob{*sum, tf, size})
	if len(s.pending) < s.pendMax {
		return nil
	}
	wide := len(s.pending) > fsx.SmallBatch
	if err := s.syncPending(wide, nil); err != nil {
		return err
	}
	dirs, err := s.placePending()
	if err != nil {
		return err
	}
	return s.syncDirs(wide, dirs)
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

// Abort removes the blobs staged since the last Flush (but those a
// staging of many put in place ahead of it, see maxPending).
func (s *Store) Abort() {
	for _, p := range s.pending {
		p.tf.close()
	}
	s.dropPack()
	// Let go of both, not only emptied: a compile's flush of 100,000
	// blobs left their names (16 MB) reachable from the slice's array
	// and the map's table through the whole apply.
	s.pending, s.staged, s.small, s.loose = nil, stagedSet{}, 0, nil
}

// Flush makes the staged blobs durable and puts them in place: the data
// of the files and of the pack and its index synced first, then the
// files and the index linked (or renamed) into place, then the
// directories synced.
func (s *Store) Flush() error {
	if len(s.pending) == 0 && s.pw == nil {
		s.small, s.loose = 0, nil
		return nil
	}
	defer s.Abort()
	var idx *tempFile
	if s.pw != nil {
		var err error
		if idx, err = s.finishPack(); err != nil {
			return err
		}
		defer idx.close() // placed, when all goes well
		at("pack written")
	}
	wide := len(s.pending) > fsx.SmallBatch
	if err := s.syncPending(wide, idx); err != nil {
		return err
	}
	at("synced")
	dirs, err := s.placePending()
	if err != nil {
		return err
	}
	if s.pw != nil {
		if err := s.placePack(idx); err != nil {
			return err
		}
		dirs[s.packDir()] = true
		at("index placed")
	}
	return s.syncDirs(wide, dirs)
}

// syncPending makes the data of the staged files durable, and with idx
// that of the pack and of its index: one file at a time, or when wide
// all at once (syncfs).
func (s *Store) syncPending(wide bool, idx *tempFile) error {
	if wide {
		return syncfsAt(s.Dir)
	}
	for _, p := range s.pending {
		if err := p.tf.f.Sync(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if idx != nil {
		if err := s.pw.f.Sync(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := idx.f.Sync(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// placePending puts the staged files, durable, in place and returns the
// directories that changed. A file of the same blob already there (put
// by another process since the staging looked) stays.
func (s *Store) placePending() (map[string]bool, error) {
	dirs := map[string]bool{}
	for i, p := range s.pending {
		final := s.Path(sumKey(&p.sum))
		d := filepath.Dir(final)
		if !dirs[d] {
			if err := os.Mkdir(d, 0o700); err == nil {
				dirs[filepath.Dir(d)] = true
			} else if !errors.Is(err, fs.ErrExist) {
				s.pending = s.pending[i:]
				return nil, fmt.Errorf("store: %w", err)
			}
			dirs[d] = true
			if s.loose != nil {
				s.loose[p.sum[0]] = true
			}
		}
		if _, err := p.tf.place(final); err != nil {
			s.pending = s.pending[i:] // not the ones placed: for Abort
			return nil, err
		}
		p.tf.close()
		s.added += p.size
	}
	s.pending = s.pending[:0]
	return dirs, nil
}

// syncDirs makes the directories' new entries durable: each synced, or
// when wide the file system at once.
func (s *Store) syncDirs(wide bool, dirs map[string]bool) error {
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
