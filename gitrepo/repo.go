package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// cacheSize bounds the object cache of each reader (objectCache). It
// holds delta bases while a tree is read; decoded trees are cached by the
// FS itself.
const cacheSize = 1 << 20

// mainCacheSize bounds the cache of the reader the repository's own
// lookups use: commits, and the root tree of each.
const mainCacheSize = 64 << 10

// Repo is an open config repository.
type Repo struct {
	dir    string
	gitDir billy.Filesystem
	repo   *git.Repository
	// storage is what repo reads through: the packs with a reader of its
	// own, then go-git's storage (packs.go).
	storage *packedStorage
	// mu serialises use of repo and storage: go-git's packfile readers
	// share file descriptors and are not safe for concurrent use.
	mu sync.Mutex
	// readers are further readers of the same objects, one per
	// concurrent reader of a tree FS, made as needed up to maxReaders.
	readers    chan *objReader
	made       []*objReader
	maxReaders int
	// packList is the packs' indexes, shared by every reader; packMu
	// orders the loads that add to it (packs.go).
	packMu   sync.Mutex
	packList atomic.Pointer[[]packIndex]
}

// Open opens the repository whose work tree root (or bare directory) is dir.
func Open(dir string) (*Repo, error) {
	probe, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("open config repo %s: not a git repository (run git init or point at the checkout root)", dir)
		}
		return nil, fmt.Errorf("open config repo %s: %w", dir, err)
	}
	fsStore, ok := probe.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("open config repo %s: unexpected storage %T", dir, probe.Storer)
	}
	gitDir := fsStore.Filesystem()
	n := min(max(runtime.GOMAXPROCS(0), 1), 8)
	r := &Repo{dir: dir, gitDir: gitDir, readers: make(chan *objReader, n), maxReaders: n}
	loose := newObjectCache(cacheSize)
	r.storage = &packedStorage{
		Storage: filesystem.NewStorageWithOptions(gitDir, loose, filesystem.Options{
			// go-git reads alternates through the git directory's FS,
			// which refuses paths outside it, unless told otherwise.
			KeepDescriptors: true, AlternatesFS: osfs.New("/")}),
		rd:    r.newObjReader(mainCacheSize),
		loose: loose,
	}
	if r.repo, err = git.Open(r.storage, nil); err != nil {
		_ = r.storage.Close()
		return nil, fmt.Errorf("open config repo %s: %w", dir, err)
	}
	return r, nil
}

// reader lends an object reader, making one if fewer than maxReaders
// exist, else waiting for one. Give it back with release.
func (r *Repo) reader() *objReader {
	select {
	case rd := <-r.readers:
		return rd
	default:
	}
	r.mu.Lock()
	if len(r.made) < r.maxReaders {
		rd := r.newObjReader(cacheSize)
		r.made = append(r.made, rd)
		r.mu.Unlock()
		return rd
	}
	r.mu.Unlock()
	return <-r.readers
}

func (r *Repo) release(rd *objReader) { r.readers <- rd }

// Close releases the pack files the repository keeps open. No FS of the
// repository may be used after.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := []error{r.storage.rd.close(), r.storage.Close()}
	for _, rd := range r.made {
		errs = append(errs, rd.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close config repo %s: %w", r.dir, err)
	}
	return nil
}

// Resolve returns the full hex hash of the commit rev names.
func (r *Repo) Resolve(rev string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.resolve(rev)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func (r *Repo) resolve(rev string) (plumbing.Hash, error) {
	if rev == "" {
		return plumbing.ZeroHash, errors.New("resolve revision: empty revision (use HEAD, a branch, a tag or a commit hash)")
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, plumbing.ErrObjectNotFound) {
			return plumbing.ZeroHash, fmt.Errorf("resolve revision %q: no such commit, branch or tag in %s", rev, r.dir)
		}
		return plumbing.ZeroHash, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	return *h, nil
}

// Commit describes one commit.
type Commit struct {
	Hash    string
	Subject string // the first line of the message
	Author  string
	Email   string
	Time    time.Time // author time
}

// Commit returns the commit rev names.
func (r *Repo) Commit(rev string) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(rev)
	if err != nil {
		return Commit{}, err
	}
	subject, _, _ := strings.Cut(strings.TrimLeft(c.Message, "\n"), "\n")
	return Commit{
		Hash:    c.Hash.String(),
		Subject: strings.TrimSpace(subject),
		Author:  c.Author.Name,
		Email:   c.Author.Email,
		Time:    c.Author.When,
	}, nil
}

// Subject returns the first line of the message of the commit rev names.
func (r *Repo) Subject(rev string) (string, error) {
	c, err := r.Commit(rev)
	return c.Subject, err
}

// CommitObject returns the commit rev names as go-git reads it, signature
// included, for checking who signed it.
func (r *Repo) CommitObject(rev string) (*object.Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commit(rev)
}

func (r *Repo) commit(rev string) (*object.Commit, error) {
	h, err := r.resolve(rev)
	if err != nil {
		return nil, err
	}
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

// Tree returns the file tree of the commit rev names as an fs.FS.
func (r *Repo) Tree(rev string) (fs.FS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(rev)
	if err != nil {
		return nil, err
	}
	t, err := r.repo.TreeObject(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("read tree of commit %s: %w", c.Hash, err)
	}
	return newTreeFS(r, c.Hash.String(), t), nil
}
