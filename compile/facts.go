package compile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sys/unix"

	"trail/internal/fsx"
)

// Facts are what the config may know about the host it is compiled for. In
// the language they are the object host (host.hostname, host.arch, ...).
type Facts struct {
	Hostname       string   // short host name
	FQDN           string   // fully qualified name; the host name when none is known
	DebianVersion  string   // /etc/debian_version, e.g. "12.5" or "trixie/sid"
	DebianMajor    int      // VERSION_ID of os-release, 0 on testing and unstable
	DebianCodename string   // VERSION_CODENAME of os-release, e.g. "bookworm"
	Arch           string   // Debian architecture name: amd64, arm64, armhf, ...
	Addresses      []string // global unicast IP addresses, sorted
	MemoryMB       int      // MemTotal of /proc/meminfo in MiB

	// The facts below are read on first use (hostfacts.go).
	CPUs             int               // online CPUs
	Packages         map[string]string // installed packages by name (name:arch if foreign) → version
	Units            []string          // unit files systemd has, sorted
	DefaultInterface string            // interface of the IPv4 default route; "" without one
	DefaultGateway   string            // its gateway; "" without one or for a direct route
	Virtualization   string            // the hypervisor as systemd-detect-virt --vm names it, or "none"
	Container        string            // the container as systemd-detect-virt --container names it, or "none"

	// Unknown holds the facts that could not be read, each with why. A
	// config that uses one gets an error there, which says to set it.
	Unknown map[string]string
	// root is where GatherFacts read; pending the facts it left to be read
	// from there on first use (Load).
	root    string
	pending map[string]bool
}

// factNames lists the facts by their language name, in documentation order.
var factNames = []string{"hostname", "fqdn", "domain", "debian_version", "debian_major",
	"debian_codename", "arch", "addresses", "memory_mb", "cpus", "packages", "units",
	"default_interface", "default_gateway", "virtualization", "container"}

// Domain is the FQDN without its first label ("" when the FQDN has no dot).
func (f Facts) Domain() string {
	_, d, _ := strings.Cut(f.FQDN, ".")
	return d
}

// maxFactFile bounds what is read of one fact file.
const maxFactFile = 1 << 20

// GatherFacts reads the facts of the machine under root: the host name from
// etc/hostname (and etc/hosts for the FQDN), the Debian release from
// etc/debian_version and etc/os-release, memory from proc/meminfo, and the
// architecture and addresses from the running kernel. A file that does not
// exist leaves its facts empty; any other read error is returned. The
// facts of lazyGroups are not read here but on first use (Load), and
// become Unknown when they cannot be read. Files are
// read as trail reads its targets (internal/fsx): a symlink anywhere in the
// path is not followed but refused, so that ROOT/etc/hostname pointing out
// of the root cannot give another machine's name; etc/os-release, a
// symlink on Debian, then falls back to usr/lib/os-release as os-release(5)
// says. At most 1 MiB of each file is read. The caller may override any
// field afterwards (see Set and With).
func GatherFacts(root string) (Facts, error) {
	var f Facts
	r, err := fsx.Open(root)
	if err != nil {
		return f, fmt.Errorf("gather facts: %w", err)
	}
	defer r.Close()
	var errs []error
	read := func(rel string, linkIsAbsent bool) []byte {
		data, err := readFact(r, "/"+rel)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !(linkIsAbsent && errors.Is(err, errFactLink)) {
			errs = append(errs, fmt.Errorf("gather facts: %w", err))
		}
		return data
	}
	name := strings.TrimSpace(firstLine(read("etc/hostname", false)))
	if name == "" && filepath.Clean(root) == "/" {
		name, _ = os.Hostname()
	}
	f.Hostname, f.FQDN = splitHostname(name, read("etc/hosts", false))
	f.DebianVersion = strings.TrimSpace(firstLine(read("etc/debian_version", false)))
	osr := read("etc/os-release", true)
	if osr == nil {
		osr = read("usr/lib/os-release", false)
	}
	rel := parseOSRelease(osr)
	f.DebianCodename = rel["VERSION_CODENAME"]
	f.DebianMajor, _ = strconv.Atoi(rel["VERSION_ID"])
	f.MemoryMB = memTotalMB(read("proc/meminfo", false))
	f.Arch = kernelArch()
	f.Addresses = hostAddresses()
	f.root, f.pending = root, map[string]bool{}
	for _, g := range lazyGroups {
		for _, n := range g {
			f.pending[n] = true
		}
	}
	return f, errors.Join(errs...)
}

var errFactLink = errors.New("is a symlink: facts are read without following symlinks, as targets are; make it a plain file")

// readFact reads up to maxFactFile bytes of the regular file p under r.
func readFact(r *fsx.Root, p string) ([]byte, error) {
	if err := noLink(r, p); err != nil {
		return nil, err
	}
	fh, err := r.OpenFile(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFactFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Host(p), err)
	}
	return data, nil
}

func firstLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return string(line)
}

// splitHostname returns the short name and the FQDN: the name itself when
// it is dotted, else the first dotted alias of the name in /etc/hosts (the
// Debian installer writes "127.0.1.1 web1.example.org web1").
func splitHostname(name string, hosts []byte) (short, fqdn string) {
	if short, _, ok := strings.Cut(name, "."); ok {
		return short, name
	}
	sc := bufio.NewScanner(bytes.NewReader(hosts))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		names := fields[1:]
		listed := false
		for _, n := range names {
			listed = listed || n == name
		}
		for _, n := range names {
			if first, _, ok := strings.Cut(n, "."); listed && ok && first == name {
				return name, n
			}
		}
	}
	return name, name
}

// parseOSRelease reads the KEY=value lines of os-release(5), unquoting
// shell-style quotes.
func parseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			if line[len(k)+1] == '"' {
				v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
			}
		}
		out[k] = v
	}
	return out
}

func memTotalMB(data []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.Atoi(fields[1])
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

// debianArch maps uname machine names to Debian architecture names.
var debianArch = map[string]string{
	"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "armv6l": "armel",
	"i386": "i386", "i486": "i386", "i586": "i386", "i686": "i386",
	"ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64",
	"mips64": "mips64el", "loongarch64": "loong64",
}

func kernelArch() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		m := unix.ByteSliceToString(u.Machine[:])
		if a, ok := debianArch[m]; ok {
			return a
		}
		if m != "" {
			return m
		}
	}
	return runtime.GOARCH
}

// hostAddresses lists the machine's global unicast addresses, IPv4 first.
func hostAddresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && ip.Unmap().IsGlobalUnicast() {
			ips = append(ips, ip.Unmap())
		}
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	out := make([]string, 0, len(ips))
	for i, ip := range ips {
		if i == 0 || ip != ips[i-1] {
			out = append(out, ip.String())
		}
	}
	return out
}

// With returns f with every non-zero field of o replacing f's.
func (f Facts) With(o Facts) Facts {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&f.Hostname, o.Hostname)
	set(&f.FQDN, o.FQDN)
	set(&f.DebianVersion, o.DebianVersion)
	set(&f.DebianCodename, o.DebianCodename)
	set(&f.Arch, o.Arch)
	if o.DebianMajor != 0 {
		f.DebianMajor = o.DebianMajor
	}
	if o.Addresses != nil {
		f.Addresses = o.Addresses
	}
	if o.MemoryMB != 0 {
		f.MemoryMB = o.MemoryMB
	}
	f = f.clone()
	for _, g := range lazyGroups {
		for _, n := range g {
			if !o.isZero(n) {
				f.take(n, o)
				f.known(n)
			}
		}
	}
	return f
}

// known marks fact name as given: neither pending nor unknown.
func (f *Facts) known(name string) {
	delete(f.pending, name)
	delete(f.Unknown, name)
}

// clone copies the maps of f that Load and Set change, so that a compile
// does not change its caller's Facts.
func (f Facts) clone() Facts {
	f.pending = maps.Clone(f.pending)
	f.Unknown = maps.Clone(f.Unknown)
	return f
}

// Set overrides one fact by its language name, as `--fact hostname=web1`
// does; addresses, units and packages (NAME=VERSION) are comma separated.
// Setting hostname to a dotted name sets the FQDN too.
func (f *Facts) Set(name, value string) error {
	if err := f.setLazy(name, value); err != errNotLazy {
		if err == nil {
			f.known(name)
		}
		return err
	}
	switch name {
	case "hostname":
		short, fqdn := splitHostname(value, nil)
		f.Hostname = short
		if fqdn != short || f.FQDN == "" || !strings.HasPrefix(f.FQDN, short+".") {
			f.FQDN = fqdn
		}
	case "fqdn":
		f.FQDN = value
	case "debian_version":
		f.DebianVersion = value
	case "debian_codename":
		f.DebianCodename = value
	case "arch":
		f.Arch = value
	case "debian_major", "memory_mb":
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return fmt.Errorf("fact %s: %q is not a whole number", name, value)
		}
		if name == "debian_major" {
			f.DebianMajor = n
		} else {
			f.MemoryMB = n
		}
	case "addresses":
		f.Addresses = nil
		for _, a := range strings.Split(value, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			if _, err := netip.ParseAddr(a); err != nil {
				return fmt.Errorf("fact addresses: %q is not an IP address", a)
			}
			f.Addresses = append(f.Addresses, a)
		}
	case "domain":
		return fmt.Errorf("fact domain follows from fqdn: set fqdn instead")
	default:
		return fmt.Errorf("unknown fact %q%s (facts: %s)", name, suggest(name, factNames), strings.Join(factNames, ", "))
	}
	return nil
}

// Value is the host object the language sees. Facts that are pending or
// Unknown are unknown values: the compile reads a pending one when the
// config uses it (compiler.needFacts) and refuses an Unknown one there.
func (f Facts) Value() cty.Value {
	addrs := cty.ListValEmpty(cty.String)
	if len(f.Addresses) > 0 {
		vals := make([]cty.Value, len(f.Addresses))
		for i, a := range f.Addresses {
			vals[i] = cty.StringVal(a)
		}
		addrs = cty.ListVal(vals)
	}
	pkgs := cty.MapValEmpty(cty.String)
	if len(f.Packages) > 0 {
		m := make(map[string]cty.Value, len(f.Packages))
		for k, v := range f.Packages {
			m[k] = cty.StringVal(v)
		}
		pkgs = cty.MapVal(m)
	}
	units := cty.ListValEmpty(cty.String)
	if len(f.Units) > 0 {
		vals := make([]cty.Value, len(f.Units))
		for i, u := range f.Units {
			vals[i] = cty.StringVal(u)
		}
		units = cty.ListVal(vals)
	}
	obj := map[string]cty.Value{
		"hostname":          cty.StringVal(f.Hostname),
		"fqdn":              cty.StringVal(f.FQDN),
		"domain":            cty.StringVal(f.Domain()),
		"debian_version":    cty.StringVal(f.DebianVersion),
		"debian_major":      cty.NumberIntVal(int64(f.DebianMajor)),
		"debian_codename":   cty.StringVal(f.DebianCodename),
		"arch":              cty.StringVal(f.Arch),
		"addresses":         addrs,
		"memory_mb":         cty.NumberIntVal(int64(f.MemoryMB)),
		"cpus":              cty.NumberIntVal(int64(f.CPUs)),
		"packages":          pkgs,
		"units":             units,
		"default_interface": cty.StringVal(f.DefaultInterface),
		"default_gateway":   cty.StringVal(f.DefaultGateway),
		"virtualization":    cty.StringVal(f.Virtualization),
		"container":         cty.StringVal(f.Container),
	}
	for n, v := range obj {
		if f.pending[n] || f.Unknown[n] != "" {
			obj[n] = cty.UnknownVal(v.Type())
		}
	}
	return cty.ObjectVal(obj)
}
