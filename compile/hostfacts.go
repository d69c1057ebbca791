package compile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"trail/internal/fsx"
)

// lazyGroups are the facts GatherFacts leaves to be read on first use,
// each group read together. A config that does not use them costs no read
// of the dpkg database or the unit directories.
var lazyGroups = [][]string{
	{"cpus"}, {"packages"}, {"units"},
	{"default_interface", "default_gateway"}, {"virtualization", "container"},
}

// Pending lists, sorted, the facts still to be read on first use: a
// compile's Result.Facts has fewer where the config used them.
func (f Facts) Pending() []string {
	return slices.Sorted(maps.Keys(f.pending))
}

// Load reads fact name from the root GatherFacts read, if it left it for
// later (with the facts of its group that are still pending). A fact that
// cannot be read becomes Unknown, with why.
func (f *Facts) Load(name string) {
	if !f.pending[name] {
		return
	}
	var group []string
	for _, g := range lazyGroups {
		for _, n := range g {
			if n == name {
				group = g
			}
		}
	}
	var got Facts
	why := map[string]string{}
	r, err := fsx.Open(f.root)
	if err != nil {
		for _, n := range group {
			why[n] = err.Error()
		}
	} else {
		defer r.Close()
		got.Arch = f.Arch
		readLazy(r, group[0], &got, why)
	}
	for _, n := range group {
		if !f.pending[n] {
			continue
		}
		delete(f.pending, n)
		if w, ok := why[n]; ok {
			if f.Unknown == nil {
				f.Unknown = map[string]string{}
			}
			f.Unknown[n] = w
			continue
		}
		f.take(n, got)
	}
}

// take copies the lazy fact name from g.
func (f *Facts) take(name string, g Facts) {
	switch name {
	case "cpus":
		f.CPUs = g.CPUs
	case "packages":
		f.Packages = g.Packages
	case "units":
		f.Units = g.Units
	case "default_interface":
		f.DefaultInterface = g.DefaultInterface
	case "default_gateway":
		f.DefaultGateway = g.DefaultGateway
	case "virtualization":
		f.Virtualization = g.Virtualization
	case "container":
		f.Container = g.Container
	}
}

// readLazy reads the group of facts that starts with first into g; a fact
// it cannot tell gets its reason in why.
func readLazy(r *fsx.Root, first string, g *Facts, why map[string]string) {
	switch first {
	case "cpus":
		n, err := readCPUs(r)
		g.CPUs = n
		setWhy(why, err, "cpus")
	case "packages":
		p, err := readPackages(r, g.Arch)
		g.Packages = p
		setWhy(why, err, "packages")
	case "units":
		u, err := readUnits(r)
		g.Units = u
		setWhy(why, err, "units")
	case "default_interface":
		const route = "/proc/1/net/route"
		data, err := readFact(r, route)
		if err == nil {
			g.DefaultInterface, g.DefaultGateway, err = parseRoute(data)
		}
		if err != nil {
			err = fmt.Errorf("%s: %s", r.Host(route), factErr(err))
		}
		setWhy(why, err, "default_interface", "default_gateway")
	case "virtualization":
		c, err := detectContainer(r)
		g.Container = c
		setWhy(why, err, "container")
		v, err := detectVM(r)
		g.Virtualization = v
		setWhy(why, err, "virtualization")
	}
}

func setWhy(why map[string]string, err error, names ...string) {
	if err == nil {
		return
	}
	for _, n := range names {
		why[n] = err.Error()
	}
}

// readCPUs counts the online CPUs: sys/devices/system/cpu/online (a range
// list such as 0-3,6), else the processor lines of proc/cpuinfo. An image
// has neither.
func readCPUs(r *fsx.Root) (int, error) {
	if data, err := readFact(r, "/sys/devices/system/cpu/online"); err == nil {
		if n, ok := countRanges(strings.TrimSpace(string(data))); ok {
			return n, nil
		}
	}
	data, err := readFact(r, "/proc/cpuinfo")
	if err != nil {
		return 0, fmt.Errorf("neither %s nor %s can be read (%s)", r.Host("/sys/devices/system/cpu/online"), r.Host("/proc/cpuinfo"), factErr(err))
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "processor" {
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%s lists no processor", r.Host("/proc/cpuinfo"))
	}
	return n, nil
}

// countRanges counts the members of a kernel CPU list: "0-3,6,8-9".
func countRanges(s string) (int, bool) {
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a {
			return 0, false
		}
		n += b - a + 1
	}
	return n, n > 0
}

// maxDpkgStatus bounds what is read of the dpkg database: a desktop's is
// a few MiB.
const maxDpkgStatus = 256 << 20

// readPackages reads var/lib/dpkg/status: every package whose state is
// installed (want install, hold or deinstall alike: it is on the disk),
// by name, and also as name:arch when its architecture is neither the
// native one (arch) nor all. A name installed for several architectures
// maps to the native one's version.
func readPackages(r *fsx.Root, arch string) (map[string]string, error) {
	const p = "/var/lib/dpkg/status"
	if err := noLink(r, p); err != nil {
		return nil, err
	}
	fh, err := r.OpenFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", r.Host(p), factErr(err))
	}
	defer fh.Close()
	out := map[string]string{}
	native := map[string]bool{}
	var name, version, status, pkgArch string
	flush := func() {
		if f := strings.Fields(status); name != "" && version != "" && len(f) == 3 && f[2] == "installed" {
			isNative := pkgArch == arch || pkgArch == "all" || pkgArch == ""
			if _, seen := out[name]; !seen || isNative && !native[name] {
				out[name] = version
				native[name] = isNative
			}
			if !isNative {
				out[name+":"+pkgArch] = version
			}
		}
		name, version, status, pkgArch = "", "", "", ""
	}
	sc := bufio.NewScanner(io.LimitReader(fh, maxDpkgStatus))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a continuation line: descriptions are most of the file
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(k) {
		case "Package":
			name = string(bytes.TrimSpace(v))
		case "Version":
			version = string(bytes.TrimSpace(v))
		case "Status":
			status = string(bytes.TrimSpace(v))
		case "Architecture":
			pkgArch = string(bytes.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", r.Host(p), err)
	}
	flush()
	return out, nil
}

// unitSuffixes are the unit types.
var unitSuffixes = []string{".service", ".socket", ".target", ".timer", ".mount", ".automount",
	".path", ".slice", ".scope", ".swap", ".device"}

// readUnits lists the unit files of the unit directories, once each,
// sorted: files and links (a link to /dev/null is a masked unit, which
// still exists; x.wants and x.d directories do not end in a unit type).
// A unit directory that is a symlink or under one is skipped, as facts
// follow no symlink: /lib on a merged-/usr system, whose units are
// /usr/lib's, read in turn.
func readUnits(r *fsx.Root) ([]string, error) {
	seen := map[string]bool{}
	found := false
	var dirs []string
	for _, d := range unitDirs {
		d = strings.TrimSuffix(d, "/")
		dirs = append(dirs, d)
		names, err := r.ReadDirNames(d)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsx.ErrSymlink) || errors.Is(err, fsx.ErrNotDir) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s", r.Host(d), factErr(err))
		}
		found = true
		for _, n := range names {
			for _, s := range unitSuffixes {
				if strings.HasSuffix(n, s) && len(n) > len(s) {
					seen[n] = true
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("no systemd unit directory (%s) under %s", strings.Join(dirs, ", "), r.Dir())
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// parseRoute finds the IPv4 default route of a /proc/PID/net/route table:
// destination and mask 0, up, the lowest metric. No default route is ""
// and "", as is the gateway of a direct route.
func parseRoute(data []byte) (iface, gateway string, err error) {
	best := -1
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.Atoi(f[6])
		if err1 != nil || err2 != nil {
			return "", "", fmt.Errorf("route table line %d is not in the kernel's format", i+1)
		}
		if f[1] != "00000000" || f[7] != "00000000" || flags&1 == 0 || best >= 0 && metric >= best {
			continue
		}
		gw, err := hex.DecodeString(f[2])
		if err != nil || len(gw) != 4 {
			return "", "", fmt.Errorf("route table line %d: gateway %q is not an address", i+1, f[2])
		}
		best, iface, gateway = metric, f[0], ""
		if a := binary.LittleEndian.Uint32(gw); a != 0 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], a)
			gateway = netip.AddrFrom4(b).String()
		}
	}
	return iface, gateway, nil
}

// factErr is a read error's cause without the Go operation.
func factErr(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// noLink refuses p when it or a parent is a symlink: facts follow no
// symlink, as targets do (readFact, readPackages).
func noLink(r *fsx.Root, p string) error {
	if st, err := r.Lstat(p); err == nil && st.Type == fsx.Symlink {
		return fmt.Errorf("%s %w", r.Host(p), errFactLink)
	} else if errors.Is(err, fsx.ErrSymlink) {
		return fmt.Errorf("%s: a parent %w", r.Host(p), errFactLink)
	}
	return nil
}

// isZero reports whether the lazy fact name is unset.
func (f Facts) isZero(name string) bool {
	switch name {
	case "cpus":
		return f.CPUs == 0
	case "packages":
		return f.Packages == nil
	case "units":
		return f.Units == nil
	case "default_interface":
		return f.DefaultInterface == ""
	case "default_gateway":
		return f.DefaultGateway == ""
	case "virtualization":
		return f.Virtualization == ""
	case "container":
		return f.Container == ""
	}
	return true
}

var errNotLazy = errors.New("not a lazy fact")

// setLazy is Set for the facts of lazyGroups.
func (f *Facts) setLazy(name, value string) error {
	var list []string
	for _, s := range strings.Split(value, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	switch name {
	case "cpus":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("fact cpus: %q is not a whole number above 0", value)
		}
		f.CPUs = n
	case "packages":
		f.Packages = map[string]string{}
		for _, kv := range list {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("fact packages: %q: want NAME=VERSION, such as nginx=1.22.1-9", kv)
			}
			if _, err := parseDebVersion(v); err != nil {
				return fmt.Errorf("fact packages: %s: %q is not a Debian version: %w", k, v, err)
			}
			f.Packages[k] = v
		}
	case "units":
		f.Units = []string{}
		for _, u := range list {
			if !slices.Contains(f.Units, u) {
				f.Units = append(f.Units, u)
			}
		}
		sort.Strings(f.Units)
	case "default_interface":
		f.DefaultInterface = value
	case "default_gateway":
		if value != "" {
			if _, err := netip.ParseAddr(value); err != nil {
				return fmt.Errorf("fact default_gateway: %q is not an IP address", value)
			}
		}
		f.DefaultGateway = value
	case "virtualization", "container":
		if value == "" {
			return fmt.Errorf("fact %s: give a name, or none", name)
		}
		if name == "virtualization" {
			f.Virtualization = value
		} else {
			f.Container = value
		}
	default:
		return errNotLazy
	}
	return nil
}
