package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// Store is the content store: blobs named by their sha256, as FILE steps
// name their content ("sha256:<hex>"). It holds compiled file contents and
// the pre-images trail saves before it overwrites or removes anything.
// A blob is a file of its own (store/sha256/<2 hex>/<hex>), or, when a
// flush stores many small ones, one of a pack's (pack.go). A file of its
// own is written to store/tmp, made durable, then renamed into place; a
// pack is named by an index renamed into place once both are durable; so
// a blob under its name is always whole. Every read verifies the hash.
type Store struct {
	Dir     string
	pending []pendingBlob
	// staged holds the digests of what is staged, so a compile staging a
	// hundred thousand blobs between flushes looks each up once, not in a
	// scan: a digest's first 8 bytes, to where its whole digest is (at i
	// >= 0 in the pack's entries, at ^i in pending). Not key and path
	// strings: the strings were 20 MB of a 100,000-file first apply's
	// live heap at its peak.
	staged map[uint64]int32
	small  int         // blobs up to PackMax staged as files since the last Flush
	pw     *packWriter // the pack being staged into, if any
	packs  packSet     // the packs there are
	// loose says which of store/sha256's directories there are, read
	// once a staging: a new blob whose directory is not there is no file
	// of its own, which a staging so learns without a stat.
	loose *[256]bool
	seq   atomic.Uint64
	buf   []byte
	rbuf  []byte // what Stage reads to learn whether a blob is small
	added int64  // bytes of the blobs Flush put in place, for TakeAdded
	// rewrite holds the digests Rewrite named: blobs whose packed copy
	// is corrupt, staged again as files of their own.
	rewrite map[[sha256.Size]byte]bool
}

// Rewrite has the next staging of blob key store it as a file of its
// own, though a pack holds it: the packed copy is corrupt (a --force
// found it so), and reads take a good file of its own instead of it
// (Get). The caller removes a corrupt file of its own first.
func (s *Store) Rewrite(key string) {
	if kind.CheckKey(key) != nil {
		return
	}
	if s.rewrite == nil {
		s.rewrite = map[[sha256.Size]byte]bool{}
	}
	s.rewrite[digestOf(key)] = true
}

// pendingBlob is a staged blob: its digest, the sequence number naming
// its temporary file (tmpPath) and its size.
type pendingBlob struct {
	sum  [sha256.Size]byte
	seq  uint64
	size int64
}

// tmpPath is where the blob staged as number seq waits for Flush.
func (s *Store) tmpPath(seq uint64) string {
	return filepath.Join(s.Dir, "tmp", strconv.Itoa(pid)+"."+strconv.FormatUint(seq, 10))
}

// sumKey is the key of the blob of digest sum.
func sumKey(sum *[sha256.Size]byte) string {
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TakeAdded returns the bytes of the blobs this Store put in place since
// the last call: what keeps the state's running size (FileStoreBytes)
// without a walk of the store.
func (s *Store) TakeAdded() int64 {
	n := s.added
	s.added = 0
	return n
}

// NewStore opens the content store in dir, making it when missing.
func NewStore(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "tmp"), filepath.Join(dir, DirPack)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return &Store{Dir: dir}, nil
}

// Path returns where blob key lives: store/sha256/<2 hex>/<64 hex>.
func (s *Store) Path(key string) string {
	h := key[len("sha256:"):]
	if d := s.Dir; d != "" && d != "/" && filepath.Clean(d) == d {
		// filepath.Join's result, without its cleaning of every name.
		return d + "/sha256/" + h[:2] + "/" + h
	}
	return filepath.Join(s.Dir, "sha256", h[:2], h)
}

// Has reports whether blob key is in the store. A blob Rewrite named is
// only there as a file of its own.
func (s *Store) Has(key string) bool {
	if kind.CheckKey(key) != nil {
		return false
	}
	sum := digestOf(key)
	var st unix.Stat_t
	if s.rewrite[sum] {
		return unix.Stat(s.Path(key), &st) == nil
	}
	if _, _, ok := s.packed(&sum, false); ok {
		return true
	}
	if unix.Stat(s.Path(key), &st) == nil {
		return true
	}
	_, _, ok := s.packed(&sum, true)
	return ok
}

// stored is Has for a staging, which takes a blob for missing when only
// another process's pack made since this staging began holds it (it
// stores it again: the copy costs only room) and knows without a stat
// that a blob whose directory is not there is no file of its own.
func (s *Store) stored(key string, sum *[sha256.Size]byte) bool {
	if s.rewrite[*sum] {
		var st unix.Stat_t
		return unix.Stat(s.Path(key), &st) == nil
	}
	if _, _, ok := s.packed(sum, false); ok {
		return true
	}
	if s.loose == nil {
		s.loose = new([256]bool)
		names, err := readNames(filepath.Join(s.Dir, "sha256"))
		if err != nil {
			for i := range s.loose {
				s.loose[i] = true
			}
		}
		for _, n := range names {
			if b, err := hex.DecodeString(n); err == nil && len(b) == 1 {
				s.loose[b[0]] = true
			}
		}
	}
	if !s.loose[sum[0]] {
		return false
	}
	var st unix.Stat_t
	return unix.Stat(s.Path(key), &st) == nil
}

// Get returns blob key, verified against its hash. A packed copy that
// does not verify gives way to a good file of its own of the same key
// (one a --force stored again, see Rewrite).
func (s *Store) Get(key string) ([]byte, error) {
	data, _, err := s.get(key)
	return data, err
}

// get is Get, which also returns the error of a packed copy that did not
// verify when a file of its own gave the content instead: fsck's to
// report.
func (s *Store) get(key string) (data []byte, packedErr, err error) {
	if err := kind.CheckKey(key); err != nil {
		return nil, nil, err
	}
	sum := digestOf(key)
	if data, ok, err := s.getPacked(&sum, false, key); ok {
		if err == nil {
			return data, nil, nil
		}
		if own, lerr := s.getOwn(key); lerr == nil {
			return own, err, nil
		}
		return nil, nil, err
	}
	data, err = s.getOwn(key)
	if errors.Is(err, fs.ErrNotExist) {
		if data, ok, err := s.getPacked(&sum, true, key); ok {
			return data, nil, err
		}
	}
	return data, nil, err
}

// getOwn reads blob key's file of its own, verified against its hash.
func (s *Store) getOwn(key string) ([]byte, error) {
	data, err := os.ReadFile(s.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: blob %s is missing: put the content in the store first: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if got := kind.HashKey(data); got != key {
		return nil, corrupt(key, got)
	}
	return data, nil
}

func corrupt(key, got string) error {
	return fmt.Errorf("store: blob %s is corrupt (its content hashes to %s): put the original content again", key, got)
}

// Open returns a reader of blob key that fails at the end if the content
// does not match the hash, so a stream copied from it can be discarded.
func (s *Store) Open(key string) (io.ReadCloser, error) {
	if err := kind.CheckKey(key); err != nil {
		return nil, err
	}
	sum := digestOf(key)
	if data, ok, err := s.getPacked(&sum, false, key); ok {
		// Read whole (a packed blob is small, PackMax at most) so that
		// a copy that does not verify gives way to a good file of its
		// own, as in Get, before a byte is read.
		if err == nil {
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		if own, lerr := s.getOwn(key); lerr == nil {
			return io.NopCloser(bytes.NewReader(own)), nil
		}
		return &failReader{err}, nil
	}
	return s.openOwn(key, &sum)
}

// failReader is the reader of a packed blob that does not verify: it
// fails at its first read, as a stream found corrupt at its end would.
type failReader struct{ err error }

func (r *failReader) Read([]byte) (int, error) { return 0, r.err }
func (r *failReader) Close() error             { return nil }

// openOwn is Open of blob key's file of its own, or of a pack added
// since the packs were read when there is none.
func (s *Store) openOwn(key string, sum *[sha256.Size]byte) (io.ReadCloser, error) {
	p := s.Path(key)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		if data, ok, err := s.getPacked(sum, true, key); ok {
			if err != nil {
				return &failReader{err}, nil
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		return nil, fmt.Errorf("store: blob %s is missing: put the content in the store first: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", &fs.PathError{Op: "open", Path: p, Err: err})
	}
	return &verifier{f: fsx.NewFile(fd, p), h: sha256.New(), Key: key, sum: *sum}, nil
}

// pid names this process's temporary blobs, looked up once.
var pid = os.Getpid()

type verifier struct {
	f   fsx.File // read by descriptor, four system calls fewer a blob than an *os.File
	h   hash.Hash
	Key string
	sum [sha256.Size]byte // Key's digest
}

// Read ends the blob at a short read whose bytes so far hash to the key:
// they are the content (that is what the key means), so the read that
// would only have found the end is saved. A blob found longer than its
// content is Fsck's to report; its content is still read whole and right.
func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == nil && n > 0 && n < len(p) {
		var sum [sha256.Size]byte
		if [sha256.Size]byte(v.h.Sum(sum[:0])) == v.sum {
			return n, io.EOF
		}
	}
	if err == io.EOF {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.Key {
			return n, corrupt(v.Key, got)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.f.Close() }

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
	s.markStaged(sum, ^int32(len(s.pending)))
	s.pending = append(s.pending, pendingBlob{*sum, seq, size})
}

// markStaged notes the blob of digest sum as staged at i (see staged). A
// digest whose first 8 bytes another staged one shares is not noted: it
// is only staged again if it comes again, which costs room, not a wrong
// answer.
func (s *Store) markStaged(sum *[sha256.Size]byte, i int32) {
	if s.staged == nil {
		s.staged = make(map[uint64]int32)
	}
	k := binary.LittleEndian.Uint64(sum[:8])
	if _, ok := s.staged[k]; !ok {
		s.staged[k] = i
	}
}

// isStaged reports whether the blob of digest sum is staged.
func (s *Store) isStaged(sum *[sha256.Size]byte) bool {
	i, ok := s.staged[binary.LittleEndian.Uint64(sum[:8])]
	switch {
	case !ok:
		return false
	case i >= 0:
		return s.pw != nil && int(i) < len(s.pw.ents) && s.pw.ents[i].sum == *sum
	default:
		return int(^i) < len(s.pending) && s.pending[^i].sum == *sum
	}
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
	s.pending, s.staged, s.small, s.loose = nil, nil, 0, nil
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
			what string
			img  kind.Image
		}{{"pre-image", r.Origin}, {"content", r.Wrote}} {
			for _, k := range need.img.Blobs() {
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
