package gitrepo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Head is where the checkout's HEAD points.
type Head struct {
	Commit string // full hex hash; "" in a repository without commits
	Branch string // the branch HEAD is on; "" when detached
}

// Pinned reports whether HEAD is detached: a pin that pull never moves.
func (h Head) Pinned() bool { return h.Branch == "" }

// ReadHead reads HEAD of the git directory gitDir, whose shared refs live
// in common (the same directory, or the main one of a linked worktree),
// from the files git keeps (HEAD, the loose ref, then packed-refs), without
// starting git or opening its object database: it is the first thing
// every hook does, and usually the last.
func ReadHead(gitDir, common string) (Head, error) {
	data, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	line := strings.TrimSpace(string(data))
	ref, symbolic := strings.CutPrefix(line, "ref: ")
	if !symbolic {
		if !isHash(line) {
			return Head{}, fmt.Errorf("read HEAD: %q is neither a ref nor a hash", line)
		}
		return Head{Commit: line}, nil
	}
	h := Head{Branch: strings.TrimPrefix(ref, "refs/heads/")}
	h.Commit, err = ResolveRef(gitDir, common, ref)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil // an unborn branch
	}
	return h, err
}

// ResolveRef returns the hash a full ref name (refs/heads/main) points at,
// in the git directory gitDir with shared refs in common, following
// symbolic refs; fs.ErrNotExist when there is no such ref.
func ResolveRef(gitDir, common, ref string) (string, error) {
	for range 5 {
		if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
			return "", fmt.Errorf("ref %q: not a ref name", ref)
		}
		dir := common
		if strings.HasPrefix(ref, "refs/bisect/") || strings.HasPrefix(ref, "refs/worktree/") {
			dir = gitDir
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ref)))
		if errors.Is(err, fs.ErrNotExist) {
			return packedRef(common, ref)
		}
		if err != nil {
			return "", fmt.Errorf("ref %s: %w", ref, err)
		}
		v := strings.TrimSpace(string(data))
		if next, ok := strings.CutPrefix(v, "ref: "); ok {
			ref = next
			continue
		}
		if !isHash(v) {
			return "", fmt.Errorf("ref %s: %q is not a hash", ref, v)
		}
		return v, nil
	}
	return "", fmt.Errorf("ref %s: symbolic refs nest too deep", ref)
}

func packedRef(common, ref string) (string, error) {
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("ref %s: %w", ref, fs.ErrNotExist)
		}
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := []byte(" " + ref)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasSuffix(line, want) && len(line) == 40+len(want) && isHash(string(line[:40])) {
			return string(line[:40]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("packed-refs: %w", err)
	}
	return "", fmt.Errorf("ref %s: %w", ref, fs.ErrNotExist)
}

// isHash reports whether s is a full SHA-1 or SHA-256 hex object name.
func isHash(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
