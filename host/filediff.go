package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"trail/apply"
	"trail/stepfmt"
)

// maxDiffBytes is the largest file whose text is diffed; a bigger one is
// shown by size and hash.
const maxDiffBytes = 1 << 20

// ContentDiff renders how change i of plan p, compiled in c, changes its
// target's content, a FILE's new content or an EDIT's file with the edits
// applied: a unified diff of the machine's current file and the new
// content for text, sizes and hashes for binary or large files, at most
// maxLines lines of diff. The content of a file whose new mode is not
// world-readable is never shown (a plan's output goes to terminals and CI
// logs), nor is a target that is not a regular file read. "" when the
// content is the same, for other kinds, and for a secret (secret=age) or a
// file replacing one, whose content and hashes are never shown.
func (h *Host) ContentDiff(p *apply.Plan, i int, c *Compiled, maxLines int) string {
	s, old := p.Changes[i].Step, p.Changes[i].Old
	var newData []byte
	var ok bool
	shows := "the new file"
	switch {
	case s.Value("secret") != "" || old != nil && old.Value("secret") != "" || p.SecretAt(s.Target):
		// A secret is never shown, nor a hash of it: the plan's
		// "secret changed" says all; nor is the file on the machine
		// when what a secret step wrote is there (the step modified,
		// or removed and another kind of step taking the path).
	case s.Kind == stepfmt.KindFile:
		newData, ok = c.Blobs[s.Value("content")]
	case s.Kind == stepfmt.KindEdit:
		newData, ok = p.Content(i)
		shows = "the edits"
	}
	if !ok {
		return ""
	}
	rev := c.Commit.Hash
	head := fmt.Sprintf("--- %s (on the machine)\n+++ %s (%s, %s)\n", s.Target, s.Target, Short(rev), s.Src)
	oldData, oldMode, oldNote := h.currentContent(s.Target)
	if oldNote == "" && bytes.Equal(oldData, newData) {
		return ""
	}
	if m, err := strconv.ParseUint(s.Value("mode"), 8, 32); err == nil && m&0o004 == 0 {
		return head + fmt.Sprintf("content not shown: mode %s is not world-readable ('trail show %s %s' prints it); %s -> %s\n",
			s.Value("mode"), s.Target, Short(rev), describe(oldData, oldNote), describe(newData, ""))
	}
	if oldNote == "" && oldMode&0o004 == 0 {
		return head + fmt.Sprintf("content not shown: the file on the machine (mode %04o) is not world-readable; %s -> %s\n",
			oldMode.Perm(), describe(oldData, ""), describe(newData, ""))
	}
	if oldNote != "" && oldNote != "absent" || isBinary(oldData) || isBinary(newData) || len(oldData) > maxDiffBytes || len(newData) > maxDiffBytes {
		return head + fmt.Sprintf("binary or large: %s -> %s\n", describe(oldData, oldNote), describe(newData, ""))
	}
	d := unifiedDiff(string(oldData), string(newData))
	lines := strings.SplitAfter(d, "\n")
	if n := len(lines) - 1; n > maxLines {
		d = strings.Join(lines[:maxLines], "") + fmt.Sprintf("... %d more line(s) of diff ('trail show %s %s' prints %s)\n", n-maxLines, s.Target, Short(rev), shows)
	}
	return head + d
}

// currentContent reads the target's content under the root: nil and a
// note when there is no regular file to read.
func (h *Host) currentContent(target string) ([]byte, fs.FileMode, string) {
	p := filepath.Join(h.Settings.root(), filepath.FromSlash(target))
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, "absent"
	case err != nil:
		return nil, 0, "unreadable: " + err.Error()
	case !fi.Mode().IsRegular():
		return nil, 0, "not a regular file (" + fi.Mode().Type().String() + ")"
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, "unreadable: " + err.Error()
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDiffBytes+1))
	if err != nil {
		return nil, 0, "unreadable: " + err.Error()
	}
	if len(data) > maxDiffBytes {
		// Hash the whole file for its description.
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			hs := sha256.New()
			n, _ := io.Copy(hs, f)
			return nil, 0, fmt.Sprintf("%d bytes sha256:%s", n, hex.EncodeToString(hs.Sum(nil))[:12])
		}
	}
	return data, fi.Mode(), ""
}

func describe(data []byte, note string) string {
	if note != "" {
		return note
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%d bytes sha256:%s", len(data), hex.EncodeToString(sum[:])[:12])
}

// isBinary is git's test, a NUL in the first 8000 bytes, and text that is
// not UTF-8.
func isBinary(data []byte) bool {
	head := data[:min(len(data), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(data)
}
