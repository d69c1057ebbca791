package gitrepo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path"
	"strings"
)

// A work tree holds the content of a file git stores through the Git LFS
// filter, while the commit holds a pointer to it. DirFS reads such a file
// as the commit has it, the pointer, so that what refuses the pointer when
// a commit is applied refuses it when its work tree is validated too.

// lfsFiltered reports whether .gitattributes files (the root's, then each
// directory's down to the file's) give the file at rel filter=lfs; later
// lines and deeper files win, as in git.
func (d *dirFS) lfsFiltered(rel string) bool {
	filter := ""
	comps := strings.Split(rel, "/")
	for i := range comps {
		dir := path.Join(comps[:i]...)
		if dir == "" {
			dir = "."
		}
		sub := path.Join(comps[i:]...)
		for _, l := range d.attributes(dir) {
			if attrMatch(l.pat, sub) {
				filter = l.filter
			}
		}
	}
	return filter == "lfs"
}

// attrLine is a gitattributes line that sets or unsets filter.
type attrLine struct{ pat, filter string }

// attributes reads the filter lines of dir/.gitattributes once.
func (d *dirFS) attributes(dir string) []attrLine {
	d.mu.Lock()
	defer d.mu.Unlock()
	if lines, ok := d.attrs[dir]; ok {
		return lines
	}
	var lines []attrLine
	p := d.host(path.Join(dir, ".gitattributes"))
	if info, err := os.Lstat(p); err == nil && info.Mode().IsRegular() && info.Size() <= 1<<20 {
		data, _ := os.ReadFile(p)
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			for _, a := range fields[1:] {
				switch {
				case strings.HasPrefix(a, "filter="):
					lines = append(lines, attrLine{fields[0], a[len("filter="):]})
				case a == "-filter" || a == "!filter":
					lines = append(lines, attrLine{fields[0], ""})
				}
			}
		}
	}
	if d.attrs == nil {
		d.attrs = map[string][]attrLine{}
	}
	d.attrs[dir] = lines
	return lines
}

// attrMatch matches a gitattributes pattern against a path relative to
// the attributes file's directory: without a slash it matches the last
// name at any depth; with one it is anchored there, ** spanning
// directories. A directory pattern (trailing slash) matches no file.
func attrMatch(pat, rel string) bool {
	if strings.HasSuffix(pat, "/") {
		return false
	}
	names := strings.Split(rel, "/")
	if !strings.Contains(pat, "/") {
		ok, _ := path.Match(pat, names[len(names)-1])
		return ok
	}
	pats := strings.Split(strings.TrimPrefix(pat, "/"), "/")
	// ok[j]: the patterns so far match names[:j].
	ok := make([]bool, len(names)+1)
	ok[0] = true
	for _, p := range pats {
		next := make([]bool, len(names)+1)
		for j := 0; j <= len(names); j++ {
			if p == "**" {
				next[j] = ok[j] || (j > 0 && next[j-1])
			} else if j > 0 && ok[j-1] {
				next[j], _ = path.Match(p, names[j-1])
			}
		}
		ok = next
	}
	return ok[len(names)]
}

// lfsPointer is the pointer git lfs stores for data.
func lfsPointer(data []byte) []byte {
	if bytes.HasPrefix(data, []byte("version https://git-lfs.github.com/spec/v1")) {
		return data // not smudged: already what git holds
	}
	return fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%x\nsize %d\n", sha256.Sum256(data), len(data))
}
