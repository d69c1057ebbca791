package compile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zclconf/go-cty/cty"
)

func writeRoot(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestGatherFacts(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  Facts
	}{
		"bookworm with hosts fqdn": {
			files: map[string]string{
				"etc/hostname":       "web1\n",
				"etc/hosts":          "127.0.0.1 localhost\n# 127.0.1.1 web1.wrong.org web1\n127.0.1.1\tweb1.example.org web1\n",
				"etc/debian_version": "12.5\n",
				"etc/os-release":     "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
				"proc/meminfo":       "MemTotal:        4028440 kB\nMemFree:  100 kB\n",
			},
			want: Facts{Hostname: "web1", FQDN: "web1.example.org", DebianVersion: "12.5",
				DebianMajor: 12, DebianCodename: "bookworm", MemoryMB: 3934},
		},
		"dotted hostname, testing": {
			files: map[string]string{
				"etc/hostname":           "db2.example.net",
				"etc/debian_version":     "trixie/sid\n",
				"usr/lib/os-release":     "PRETTY_NAME='Debian GNU/Linux trixie/sid'\nVERSION_CODENAME=trixie\n",
				"etc/hosts":              "127.0.1.1 other.example.org db2\n",
				"etc/unrelated/thing.rc": "x",
			},
			want: Facts{Hostname: "db2", FQDN: "db2.example.net", DebianVersion: "trixie/sid",
				DebianCodename: "trixie"},
		},
		"bare root": {
			files: map[string]string{},
			want:  Facts{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := writeRoot(t, tc.files)
			got, err := GatherFacts(root)
			if err != nil {
				t.Fatal(err)
			}
			if got.Arch == "" {
				t.Error("Arch is empty: the kernel always has an architecture")
			}
			got.Arch, got.Addresses = "", nil
			if got.Hostname != tc.want.Hostname || got.FQDN != tc.want.FQDN ||
				got.DebianVersion != tc.want.DebianVersion || got.DebianMajor != tc.want.DebianMajor ||
				got.DebianCodename != tc.want.DebianCodename || got.MemoryMB != tc.want.MemoryMB {
				t.Errorf("GatherFacts = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestGatherFactsReadError(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/os-release": "ID=debian\n"})
	if err := os.Mkdir(filepath.Join(root, "etc/hostname"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := GatherFacts(root)
	if err == nil || !strings.Contains(err.Error(), "hostname") {
		t.Fatalf("GatherFacts with /etc/hostname a directory = %v, want an error naming it", err)
	}
}

func TestFactsSetAndWith(t *testing.T) {
	f := testFacts()
	tests := map[string]struct {
		name, value string
		check       func(Facts) bool
		wantErr     string
	}{
		"short hostname":     {name: "hostname", value: "db1", check: func(f Facts) bool { return f.Hostname == "db1" && f.FQDN == "db1" }},
		"dotted hostname":    {name: "hostname", value: "db1.example.com", check: func(f Facts) bool { return f.Hostname == "db1" && f.FQDN == "db1.example.com" }},
		"addresses":          {name: "addresses", value: "10.1.1.1, ::1", check: func(f Facts) bool { return len(f.Addresses) == 2 && f.Addresses[1] == "::1" }},
		"memory":             {name: "memory_mb", value: "512", check: func(f Facts) bool { return f.MemoryMB == 512 }},
		"bad number":         {name: "debian_major", value: "twelve", wantErr: "not a whole number"},
		"bad address":        {name: "addresses", value: "10.1.1", wantErr: "not an IP address"},
		"unknown with typo":  {name: "hostnme", wantErr: `Did you mean "hostname"?`},
		"domain is computed": {name: "domain", value: "x", wantErr: "set fqdn instead"},
		"packages":           {name: "packages", value: "nginx=1.22.1-9, curl=7.88.1-10", check: func(f Facts) bool { return len(f.Packages) == 2 && f.Packages["curl"] == "7.88.1-10" }},
		"no packages":        {name: "packages", value: "", check: func(f Facts) bool { return f.Packages != nil && len(f.Packages) == 0 }},
		"bad package":        {name: "packages", value: "nginx", wantErr: "want NAME=VERSION"},
		"bad version":        {name: "packages", value: "nginx=a1", wantErr: "not a Debian version"},
		"units":              {name: "units", value: "b.service,a.service,b.service", check: func(f Facts) bool { return fmt.Sprint(f.Units) == "[a.service b.service]" }},
		"cpus":               {name: "cpus", value: "0", wantErr: "above 0"},
		"gateway":            {name: "default_gateway", value: "eth0", wantErr: "not an IP address"},
		"no route":           {name: "default_interface", value: "", check: func(f Facts) bool { return f.DefaultInterface == "" }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := f
			err := g.Set(tc.name, tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q, %q) = %v, want %q", tc.name, tc.value, err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(g) {
				t.Fatalf("Set(%q, %q) = %v, facts %+v", tc.name, tc.value, err, g)
			}
		})
	}
	merged := f.With(Facts{Hostname: "x", MemoryMB: 1, CPUs: 3})
	if merged.Hostname != "x" || merged.MemoryMB != 1 || merged.FQDN != f.FQDN || merged.Arch != f.Arch || merged.CPUs != 3 {
		t.Errorf("With = %+v", merged)
	}
	if d := f.Domain(); d != "example.org" {
		t.Errorf("Domain() = %q", d)
	}
	v := f.Value()
	for _, name := range factNames {
		if !v.Type().HasAttribute(name) {
			t.Errorf("host.%s is documented but missing", name)
		}
	}
	if got := v.GetAttr("addresses").LengthInt(); got != 2 {
		t.Errorf("host.addresses has %d elements", got)
	}
	if Facts.Value(Facts{}).GetAttr("addresses").Type() != cty.List(cty.String) {
		t.Error("empty addresses should still be a list of strings")
	}
}

// Under a root, facts are read without following symlinks: a host name
// file linked out of the root is refused with its path, not followed;
// os-release linked (as on Debian) falls back to usr/lib/os-release.
func TestGatherFactsNoSymlinks(t *testing.T) {
	outside := writeRoot(t, map[string]string{"hostname": "evil\n", "os-release": "VERSION_CODENAME=evil\n", "etc/hostname": "evil\n"})
	root := writeRoot(t, map[string]string{"usr/lib/os-release": "VERSION_CODENAME=bookworm\nVERSION_ID=12\n"})
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.Symlink(filepath.Join(outside, "hostname"), filepath.Join(root, "etc/hostname"))
	os.Symlink(filepath.Join(outside, "os-release"), filepath.Join(root, "etc/os-release"))
	f, err := GatherFacts(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "etc/hostname")+" is a symlink") {
		t.Fatalf("GatherFacts with etc/hostname linked out: %v; want an error naming it", err)
	}
	if f.Hostname == "evil" || f.DebianCodename != "bookworm" || f.DebianMajor != 12 {
		t.Fatalf("facts %+v: want no host name from outside and the release from usr/lib/os-release", f)
	}

	// A symlinked parent directory is refused too.
	root2 := t.TempDir()
	os.Symlink(filepath.Join(outside, "etc"), filepath.Join(root2, "etc"))
	f, err = GatherFacts(root2)
	if err == nil || !strings.Contains(err.Error(), "symlink") || f.Hostname == "evil" {
		t.Fatalf("GatherFacts with etc linked out: %+v, %v; want an error", f, err)
	}
}

// dpkgStatus is a piece of a real dpkg database: an installed package, a
// held one, one removed with its conffiles left, one half-installed, a
// multiarch pair, a foreign-only one and a description that wraps.
const dpkgStatus = `Package: nginx
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.22.1-9+deb12u1
Description: small, powerful, scalable web/proxy server
 Nginx ("engine X") is a high-performance web and reverse proxy server.
 .
 Package: not-a-package

Package: openssh-server
Status: hold ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u3

Package: exim4-base
Status: deinstall ok config-files
Architecture: amd64
Version: 4.96-15

Package: broken
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: i386
Version: 2.36-9+deb12u4

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u4

Package: wine32
Status: install ok installed
Architecture: i386
Version: 8.0~repack-4

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
`

// A live root: every lazy fact is read from files under it, never from
// the machine the test runs on.
func TestGatherLazyFacts(t *testing.T) {
	root := writeRoot(t, map[string]string{
		"sys/devices/system/cpu/online":                "0-3,6,8-9\n",
		"var/lib/dpkg/status":                          dpkgStatus,
		"etc/systemd/system/app.service":               "[Service]\n",
		"etc/systemd/system/multi-user.target.wants/x": "",
		"usr/lib/systemd/system/nginx.service":         "[Service]\n",
		"usr/lib/systemd/system/getty@.service":        "[Service]\n",
		"usr/lib/systemd/system/app.service":           "[Service]\n",
		"usr/lib/systemd/system/README":                "not a unit\n",
		"proc/1/net/route": "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" +
			"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
			"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
		"run/systemd/container":                 "systemd-nspawn\n",
		"sys/devices/virtual/dmi/id/sys_vendor": "QEMU\n",
		"proc/cpuinfo":                          "processor\t: 0\nflags\t\t: fpu hypervisor\n",
	})
	os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system/exim4.service"))
	os.Symlink("usr/lib", filepath.Join(root, "lib"))
	f, err := GatherFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUs != 0 || f.Packages != nil || len(f.pending) != 7 {
		t.Fatalf("GatherFacts read lazy facts already: %+v", f)
	}
	f.Arch = "amd64" // the machine's, which packages are native to
	for _, n := range factNames {
		f.Load(n)
	}
	if len(f.pending) != 0 || len(f.Unknown) != 0 {
		t.Fatalf("after Load: pending %v, unknown %v", f.pending, f.Unknown)
	}
	wantPkgs := map[string]string{"nginx": "1.22.1-9+deb12u1", "openssh-server": "1:9.2p1-2+deb12u3",
		"libc6": "2.36-9+deb12u4", "libc6:i386": "2.36-9+deb12u4", "wine32": "8.0~repack-4",
		"wine32:i386": "8.0~repack-4", "tzdata": "2024a-0+deb12u1"}
	if fmt.Sprint(f.Packages) != fmt.Sprint(wantPkgs) {
		t.Errorf("packages = %v\nwant %v", f.Packages, wantPkgs)
	}
	if want := "[app.service exim4.service getty@.service nginx.service]"; fmt.Sprint(f.Units) != want {
		t.Errorf("units = %v, want %s", f.Units, want)
	}
	if f.CPUs != 7 || f.DefaultInterface != "eth0" || f.DefaultGateway != "192.0.2.1" ||
		f.Container != "systemd-nspawn" || f.Virtualization != "qemu" {
		t.Errorf("facts = cpus %d, route %q via %q, container %q, vm %q", f.CPUs, f.DefaultInterface,
			f.DefaultGateway, f.Container, f.Virtualization)
	}
}

// A root that is an image (no proc, no sys) knows none of the facts of a
// running system; a root without dpkg or units knows neither. Each
// unknown fact says why.
func TestLazyFactsUnknown(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/hostname": "img\n"})
	f, err := GatherFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range factNames {
		f.Load(n)
	}
	for n, want := range map[string]string{
		"cpus":              "cpu/online nor " + root + "/proc/cpuinfo can be read",
		"packages":          root + "/var/lib/dpkg/status: no such file",
		"units":             "no systemd unit directory",
		"default_interface": root + "/proc/1/net/route: no such file",
		"default_gateway":   root + "/proc/1/net/route: no such file",
		"virtualization":    "can be read",
		"container":         "no running system",
	} {
		if !strings.Contains(f.Unknown[n], want) {
			t.Errorf("unknown %s = %q, want %q", n, f.Unknown[n], want)
		}
	}
	if v := f.Value(); v.GetAttr("cpus").IsKnown() || !v.GetAttr("hostname").IsKnown() {
		t.Errorf("host value: cpus known %v, hostname known %v", v.GetAttr("cpus").IsKnown(), v.GetAttr("hostname").IsKnown())
	}
	// Set makes a fact known again.
	if err := f.Set("cpus", "4"); err != nil || f.CPUs != 4 || f.Unknown["cpus"] != "" || !f.Value().GetAttr("cpus").IsKnown() {
		t.Errorf("Set cpus: %v, %+v", err, f)
	}
}

// A bare container: a live root with proc/1 but no marks and no
// hypervisor flag is "none" for both.
func TestVirtNone(t *testing.T) {
	root := writeRoot(t, map[string]string{"proc/1/environ": "PATH=/bin\x00HOME=/\x00", "proc/cpuinfo": "processor\t: 0\nflags\t\t: fpu sse\n"})
	f, _ := GatherFacts(root)
	f.Load("container")
	if f.Container != "none" || f.Virtualization != "none" || len(f.Unknown) != 0 {
		t.Fatalf("container %q, vm %q, unknown %v", f.Container, f.Virtualization, f.Unknown)
	}
	root = writeRoot(t, map[string]string{"proc/1/environ": "container=lxc\x00", "proc/cpuinfo": "flags\t\t: fpu hypervisor\n"})
	f, _ = GatherFacts(root)
	f.Load("virtualization")
	if f.Container != "lxc" || f.Virtualization != "vm-other" {
		t.Fatalf("container %q, vm %q", f.Container, f.Virtualization)
	}
}

// The lazy facts are read only when the config uses them: a dpkg
// database that cannot be read (a symlink out of the root) breaks only a
// config that reads host.packages, and that one at the reference.
func TestLazyFactsReadOnUse(t *testing.T) {
	outside := writeRoot(t, map[string]string{"status": dpkgStatus})
	root := writeRoot(t, map[string]string{"sys/devices/system/cpu/online": "0-1\n"})
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755)
	os.Symlink(filepath.Join(outside, "status"), filepath.Join(root, "var/lib/dpkg/status"))
	f, err := GatherFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	var left Facts // the facts as the last compile left them
	compile := func(src string) ([]string, string) {
		res, diags := Compile(fstest.MapFS{"main.hcl": {Data: []byte(src)}}, f, Options{})
		left = res.Facts
		if diags.HasErrors() {
			return nil, strings.Join(Lines(diags), "\n")
		}
		return []string{string(res.Blobs[res.List.Steps[0].Value("content")])}, ""
	}
	got, errs := compile(`file "/etc/cpus" { content = "${host.cpus}" }`)
	if errs != "" || got[0] != "2" {
		t.Fatalf("host.cpus: %v %s", got, errs)
	}
	if left.pending["cpus"] || !left.pending["packages"] || !left.pending["units"] || len(left.Unknown) != 0 {
		t.Fatalf("a compile that uses host.cpus left pending %v, unknown %v: want only cpus read", left.pending, left.Unknown)
	}
	_, errs = compile(`file "/etc/nginx" {
  content = lookup(host.packages, "nginx", "none")
}`)
	want := `main.hcl:2:20: Unknown fact: host.packages is not known for this host: ` + filepath.Join(root, "var/lib/dpkg/status") + " is a symlink"
	if !strings.HasPrefix(errs, want) || !strings.Contains(errs, "--fact packages=") {
		t.Fatalf("host.packages with the database a symlink:\n%s\nwant %s…", errs, want)
	}
	if f.pending["packages"] != true || f.Unknown != nil {
		t.Fatalf("Compile changed its caller's facts: pending %v, unknown %v", f.pending, f.Unknown)
	}
	if _, errs = compile(`file "/etc/all" { content = jsonencode(host) }`); !strings.Contains(errs, "host.packages is not known") {
		t.Fatalf("host as a whole with packages unknown: %s", errs)
	}
}
