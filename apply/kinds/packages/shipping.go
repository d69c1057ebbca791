package packages

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"trail/apply/internal/proc"
	"trail/apply/kind"
	"trail/stepfmt"
)

// Shipping lists the paths the changes of steps, a batch, will ship
// (kind.Shipper) when they install or change the version of their
// packages: every path in the archives apt would unpack for them, their
// own and those of the dependencies they bring, read with dpkg-deb -c
// before any is unpacked. apt names the archives once for the batch, as
// its install is one call per recommends setting (ForwardGroup), and
// each archive is read once. Those apt has to download are downloaded
// first (apt-get --download-only, into apt's own cache, where the
// install then finds them). A package named by its .deb in the root's
// archive directory (a root without apt lists) is read from it alone.
// When apt cannot name or fetch a group's archives, Shipping reports it
// (Exec.Report) and lists the rest: the install may still work. A
// step that removes its package, or one that leaves its version, ships
// nothing new.
func (Package) Shipping(x *kind.Exec, steps []*stepfmt.Step) ([]string, error) {
	t := pkgToolsOf(x)
	var debs []string
	refs := map[bool][]string{}
	var want []*stepfmt.Step
	for _, s := range steps {
		if s.Absent() {
			continue
		}
		st, err := t.Status(s.Target)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Target, err)
		}
		if pin := s.Value("version"); st.State != Installed || pin != "" && pin != st.Version {
			want = append(want, s)
		}
	}
	wantRefs, err := t.refsOf(want)
	if err != nil {
		return nil, err
	}
	for j, s := range want {
		ref := wantRefs[j]
		if strings.HasSuffix(ref, ".deb") {
			debs = append(debs, ref)
			continue
		}
		rec := s.Value("recommends") == "true"
		refs[rec] = append(refs[rec], ref)
	}
	for _, rec := range []bool{false, true} {
		if len(refs[rec]) > 0 {
			// apt may not resolve them without the other packages
			// of the apply, or reach its mirror: then what they ship
			// is not known before, and the apply says so, as the
			// undo of a failed install may not restore those files.
			more, err := t.archives(installArgs(refs[rec], rec))
			if err != nil {
				x.Report(fmt.Sprintf("could not list what %s's archives ship (%v): files it overwrites were not saved first; a failed install may not restore them",
					strings.Join(refs[rec], ", "), err))
			}
			debs = append(debs, more...)
		}
	}
	slices.Sort(debs)
	var files []string
	for _, deb := range slices.Compact(debs) {
		out, err := proc.RunTool("dpkg-deb", "-c", deb)
		if err != nil {
			return nil, err // it names the command and the archive
		}
		files = append(files, ParseContents(out)...)
	}
	return files, nil
}

// archives returns the host paths of the archives apt-get with args
// would unpack: apt names each with --print-uris, given an empty cache
// so that it names them all; one from a file: source is read where it
// is, any other from apt's cache (archiveDir), downloaded there first
// when missing.
func (t Tools) archives(args []string) ([]string, error) {
	empty, err := os.MkdirTemp("", "trail-archives-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(empty)
	out, err := t.Apt("apt-get", append([]string{"-qq", "--print-uris", "-o", "Dir::Cache::archives=" + empty}, args...)...)
	if err != nil {
		return nil, err
	}
	cache := t.archiveDir()
	var debs []string
	download := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "'") {
			continue
		}
		uri := strings.Trim(f[0], "'")
		if p, ok := strings.CutPrefix(uri, "file:"); ok {
			if p, err = url.PathUnescape(p); err != nil {
				return nil, fmt.Errorf("apt names %s: %w", uri, err)
			}
			debs = append(debs, filepath.Clean(p))
			continue
		}
		deb := filepath.Join(cache, filepath.Base(f[1]))
		if _, err := os.Stat(deb); err != nil {
			download = true
		}
		debs = append(debs, deb)
	}
	if download {
		if err := t.aptGet(append([]string{"--download-only"}, args...)...); err != nil {
			return nil, err
		}
	}
	return debs, nil
}

// ParseContents reads dpkg-deb -c (tar -tv) output: the paths of the
// archive, each line's name after the first " ./", without a link's
// target, and "/." left out. tar escapes a backslash, a control
// character or a byte not valid in the locale (\\, \t, \NNN); each name
// is unescaped, so that it is the path dpkg-query -L names.
func ParseContents(out string) []string {
	var files []string
	for _, line := range strings.Split(out, "\n") {
		_, name, ok := strings.Cut(line, " ./")
		if !ok {
			continue
		}
		switch line[0] {
		case 'l':
			name, _, _ = strings.Cut(name, " -> ")
		case 'h':
			name, _, _ = strings.Cut(name, " link to ")
		}
		name = "/" + strings.TrimSuffix(unescapeTar(name), "/")
		if name != "/" {
			files = append(files, name)
		}
	}
	return files
}

// unescapeTar undoes tar's escape quoting of a name: \NNN (octal) is a
// byte, \\ a backslash, \t and the other C escapes their character.
func unescapeTar(name string) string {
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '\\' || i+1 == len(name) {
			b.WriteByte(c)
			continue
		}
		i++
		if i+3 <= len(name) {
			if n, err := strconv.ParseUint(name[i:i+3], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		if r, ok := cEscapes[name[i]]; ok {
			b.WriteByte(r)
		} else {
			b.WriteByte('\\')
			b.WriteByte(name[i])
		}
	}
	return b.String()
}

var cEscapes = map[byte]byte{'\\': '\\', 'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '?': '?'}

// archiveDir returns the host path of apt's archive cache,
// Dir::Cache::archives as apt resolves it (apt-config, which reads no
// package lists: milliseconds), where apt-get --download-only puts what
// it fetches; apt's default when apt-config cannot say.
func (t Tools) archiveDir() string {
	out, err := t.Apt("apt-config", "shell", "A", "Dir::Cache::archives/d")
	if dir, ok := ParseConfigShell(out, "A"); err == nil && ok && filepath.IsAbs(dir) {
		return filepath.Clean(dir)
	}
	return t.host("/var/cache/apt/archives")
}

// ParseConfigShell reads the value of variable name from apt-config shell
// output: a line NAME='VALUE', a quote in VALUE written '\”.
func ParseConfigShell(out, name string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		v, ok := strings.CutPrefix(line, name+"='")
		if !ok || !strings.HasSuffix(v, "'") || len(v) < 1 {
			continue
		}
		v = v[:len(v)-1]
		if strings.Count(v, "'") != 3*strings.Count(v, `'\''`) {
			continue
		}
		return strings.ReplaceAll(v, `'\''`, "'"), true
	}
	return "", false
}
