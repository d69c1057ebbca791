package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"trail/apply/kind"
	"trail/internal/fsx"
)

// Store is the content store: blobs named by their sha256, as FILE steps
// name their content ("sha256:<hex>"). It holds compiled file contents and
// the pre-images trail saves before it overwrites or removes anything.
// A blob is a file of its own (store/sha256/<2 hex>/<hex>), or, when a
// flush stores many small ones, one of a pack's (pack.go). A file of its
// own is written to a file with no name in store/tmp (tempFile), made
// durable, then linked into place; a pack is named by an index put in
// place so once both are durable; so a blob under its name is always
// whole, and a trail killed meanwhile leaves nothing in store/tmp. Every
// read verifies the hash.
type Store struct {
	Dir     string
	pending []pendingBlob
	pendMax int // how many pending blobs are put in place ahead of Flush (pendingMax)
	// staged finds what is staged by its digest, so a compile staging a
	// hundred thousand blobs between flushes looks each up once, not in a
	// scan; it says where the whole digest is (the pack's entries or
	// pending). Not key and path strings: the strings were 20 MB of a
	// 100,000-file first apply's live heap at its peak.
	staged stagedSet
	small  int         // blobs up to PackMax staged as files since the last Flush
	pw     *packWriter // the pack being staged into, if any
	packs  packSet     // the packs there are
	// loose says which of store/sha256's directories there are, read
	// once a staging: a new blob whose directory is not there is no file
	// of its own, which a staging so learns without a stat.
	loose *[256]bool
	buf   []byte
	rbuf  []byte // what Stage reads to learn whether a blob is small
	added int64  // bytes of the blobs Flush put in place, for TakeAdded
	// rewrite holds the digests Rewrite named: blobs whose packed copy
	// is corrupt, staged again as files of their own.
	rewrite map[[sha256.Size]byte]bool
	// tempDirs are the directories MkdirTemp made, held open and locked
	// until they are removed.
	tempMu   sync.Mutex
	tempDirs []*os.File
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

// pendingBlob is a staged blob: its digest, its temporary file, open
// until Flush puts it in place, and its size.
type pendingBlob struct {
	sum  [sha256.Size]byte
	tf   *tempFile
	size int64
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
		if err := mkdirDurable(d); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return &Store{Dir: dir}, nil
}

// mkdirDurable makes directory d and its missing parents, syncing each
// parent after the mkdir: until then a crash can lose the new entry, and
// with it what is later made durable inside (a blob renamed into
// store/sha256, a pack in store/pack).
func mkdirDurable(d string) error {
	if fi, err := os.Stat(d); err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: d, Err: unix.ENOTDIR}
		}
		return nil
	}
	if parent := filepath.Dir(d); parent != d {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(d, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return syncMade(d)
}

// dirSynced, when set (by tests), is told of every directory synced
// after an entry was made in it (syncMade).
var dirSynced func(dir string)

// syncMade syncs the directory that holds entry p, just made.
func syncMade(p string) error {
	parent := filepath.Dir(p)
	if err := fsyncPath(parent); err != nil {
		return err
	}
	if dirSynced != nil {
		dirSynced(parent)
	}
	return nil
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

// HasPacked reports whether a pack holds blob key, as the packs were
// last read: a look-up in a mapped index, no system call, which a caller
// need not remember the answer of (Has also stats a file of its own).
// Not a blob Rewrite named.
func (s *Store) HasPacked(key string) bool {
	if kind.CheckKey(key) != nil {
		return false
	}
	sum := digestOf(key)
	if s.rewrite[sum] {
		return false
	}
	_, _, ok := s.packed(&sum, false)
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
			return newBlobReader(data), nil
		}
		if own, lerr := s.getOwn(key); lerr == nil {
			return newBlobReader(own), nil
		}
		return &failReader{err}, nil
	}
	return s.openOwn(key, &sum)
}

// blobReader reads a blob read whole: one allocation, where a
// bytes.Reader in an io.NopCloser was two, for each of a first apply's
// packed contents.
type blobReader struct{ bytes.Reader }

func newBlobReader(data []byte) *blobReader {
	r := &blobReader{}
	r.Reset(data)
	return r
}

func (*blobReader) Close() error { return nil }

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
			return newBlobReader(data), nil
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
