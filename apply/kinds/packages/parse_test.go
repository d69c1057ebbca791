package packages

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trail/apply/internal/proc"
	"trail/apply/kind"
)

const simOut = `Reading package lists...
Building dependency tree...
The following NEW packages will be installed:
  trail-a trail-b
Inst trail-b (1.0 localhost [all])
Inst libx:i386 [0.9] (1.0 Debian:12/stable [i386])
Inst trail-a (1.0 localhost [all])
Conf trail-b (1.0 localhost [all])
Remv trail-old [2.0]
Purg trail-gone [1:3.1-2]
Remv -o [1]
`

func TestParseSim(t *testing.T) {
	cases := map[string]struct {
		out            string
		fresh, removed []string
	}{
		"install, upgrade and remove": {simOut, []string{"trail-b", "trail-a"}, []string{"trail-old", "trail-gone"}},
		"nothing to do":               {"0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n", nil, nil},
		"bare Inst line":              {"Inst trail-a\nRemv\n", []string{"trail-a"}, nil},
		"not a package name":          {"Inst Trail-A (1)\nRemv --purge [1]\n", nil, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := parseSim(tc.out)
			if !slices.Equal(s.fresh, tc.fresh) || !slices.Equal(s.removed, tc.removed) {
				t.Fatalf("got %q %q, want %q %q", s.fresh, s.removed, tc.fresh, tc.removed)
			}
		})
	}
}

func TestParseClosureAndNeeders(t *testing.T) {
	closure := "trail-c\n  Depends: trail-d\n  Depends: <virtual-x>\n trail-e\ntrail-d\n<virtual-x>\ntrail-e\n  PreDepends: trail-b\ntrail-b\n"
	if got, want := parseClosure(closure), []string{"trail-c", "trail-d", "trail-e", "trail-b"}; !slices.Equal(got, want) {
		t.Fatalf("closure %q, want %q", got, want)
	}
	needers := "trail-b\nReverse Depends:\n  trail-e\n |trail-c\n  trail-e\n  <bad>\ntrail-x\n  trail-y\n"
	if got, want := parseNeeders(needers), []string{"trail-e", "trail-c"}; !slices.Equal(got, want) {
		t.Fatalf("needers %q, want %q", got, want)
	}
	inst := "trail-a\tinstall ok installed\ntrail-b\tdeinstall ok config-files\ntrail-c\tinstall ok triggers-pending\nlibx:i386\tinstall ok installed\n\tbroken\ntrail-d\tinstall ok\n"
	got := ParseInstalled(inst)
	if len(got) != 3 || !got["trail-a"] || !got["trail-c"] || !got["libx:i386"] {
		t.Fatalf("installed %v", got)
	}
}

func TestValidPkgName(t *testing.T) {
	cases := map[string]bool{
		"trail-a": true, "g++": true, "libc6:amd64": true, "0ad": true, "python3.11": true,
		"a": false, "-o": false, "Trail": false, "x:": false, "x:AMD": false, "a b": false, "": false, "+x": false, "ab:c:d": false,
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			if got := validPkgName(name); got != want {
				t.Fatalf("validPkgName(%q) = %v, want %v", name, got, want)
			}
		})
	}
}

func TestPackageImageDeps(t *testing.T) {
	cases := map[string]struct {
		in, want, err string
	}{
		"sorted and deduplicated":  {"absent deps=trail-c,trail-b,trail-c", "absent deps=trail-b,trail-c", ""},
		"prediction kept":          {"absent brings=trail-b", "absent brings=trail-b", ""},
		"with version and mark":    {"installed version=1.0 mark=auto deps=trail-b", "installed version=1.0 mark=auto deps=trail-b", ""},
		"not a name":               {"absent deps=trail-b,-o", "", "not a package name"},
		"empty item":               {"absent deps=trail-b,,trail-c", "", "not a package name"},
		"a dependency's marks":     {"absent deps=trail-d depmarks=trail-d:user:svc,trail-d:link:/etc/x.wants/d.service", "absent deps=trail-d depmarks=trail-d:link:/etc/x.wants/d.service,trail-d:user:svc", ""},
		"a mark of no package":     {"absent depmarks=user:svc", "", "user, group or link"},
		"a mark of no kind":        {"absent depmarks=trail-d:file:/etc/x", "", "user, group or link"},
		"a relative link":          {"absent depmarks=trail-d:link:etc/x", "", "trail-d:link:etc/x"},
		"a qualified maker":        {"absent depmarks=libc6:amd64:user:svc", "", "user, group or link"},
		"an account of no name":    {"absent depmarks=trail-d:user:", "", "not an account name"},
		"a group of no name":       {"absent depmarks=trail-d:group", "", "not an account name"},
		"brought before declared":  {"installed version=1.0 mark=auto users=svc before=config-files", "installed version=1.0 mark=auto users=svc before=config-files", ""},
		"upgraded versions":        {"absent upgraded=trail-d=1:2.0~b1,libc6:amd64=2.36-9", "absent upgraded=libc6:amd64=2.36-9,trail-d=1:2.0~b1", ""},
		"upgraded without version": {"absent upgraded=trail-d", "", "not NAME=VERSION"},
		"predicted upgrades":       {"absent brings=trail-b upgrades=trail-d=1.0", "absent brings=trail-b upgrades=trail-d=1.0", ""},
		"brought from no state":    {"installed version=1.0 mark=auto before=installed", "", "before must be absent or config-files"},
		"upgraded, left and mark":  {"absent upgraded=trail-d=1.0>2.0@auto", "absent upgraded=trail-d=1.0>2.0@auto", ""},
		"upgraded of no mark":      {"absent upgraded=trail-d=1.0>2.0", "", "not NAME=VERSION"},
		"upgraded of another mark": {"absent upgraded=trail-d=1.0>2.0@hold", "", "not NAME=VERSION"},
		"upgraded to no version":   {"absent upgraded=trail-d=1.0>@manual", "", "not NAME=VERSION"},
		"upgraded of no name":      {"absent upgraded==1.0", "", "not NAME=VERSION"},
		"upgraded from an option":  {"absent upgrades=trail-d=-o", "", "not NAME=VERSION"},
		"upgraded, an option name": {"absent upgraded=-o=1.0", "", "not NAME=VERSION"},
		"upgraded before declared": {"installed version=2.0 mark=auto depmarks=trail-d:user:trail-d upgradedfrom=1.0", "installed version=2.0 mark=auto depmarks=trail-d:user:trail-d upgradedfrom=1.0", ""},
		"upgraded from no version": {"installed version=2.0 mark=auto upgradedfrom=-o", "", "upgradedfrom \"-o\" is not a version"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			img, err := kind.ParseImage(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Unpack(img)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || p.Image().String() != tc.want {
				t.Fatalf("got %q (%v), want %q", p.Image(), err, tc.want)
			}
		})
	}
}

func TestWithBrought(t *testing.T) {
	cases := map[string]struct {
		img     string
		brought []string
		want    string
	}{
		"prediction replaced":     {"absent brings=trail-x", []string{"trail-b"}, "absent deps=trail-b"},
		"nothing brought":         {"absent brings=trail-x", nil, "absent"},
		"added to earlier ones":   {"absent deps=trail-c", []string{"trail-b", "trail-c"}, "absent deps=trail-b,trail-c"},
		"pre-installed's new dep": {"installed version=1.0 mark=manual", []string{"trail-b"}, "installed version=1.0 mark=manual deps=trail-b"},
		"what scripts made": {"absent brings=trail-b", []string{"user:svc", "group:svc", "trail-b", "conf:trail-c",
			"link:/etc/systemd/system/multi-user.target.wants/svc.service"},
			"absent deps=trail-b,trail-c confdeps=trail-c users=svc groups=svc links=/etc/systemd/system/multi-user.target.wants/svc.service"},
		"an earlier install's, to the origin": {"absent brings=trail-b", []string{"trail-b", "shared:trail-d", "shared:conf:trail-e"},
			"absent deps=trail-b,trail-d,trail-e confdeps=trail-e"},
		"an earlier install's, not to the undo image": {"absent brings=trail-b had-users=root had-groups=root",
			[]string{"trail-b", "shared:trail-d", "shared:conf:trail-e", "shared:by:trail-d:user:svc"}, "absent deps=trail-b"},
		"what a dependency's scripts made": {"absent brings=trail-d", []string{"trail-d", "by:trail-d:user:svc", "by:trail-d:link:/etc/x.wants/d.service", "user:own"},
			"absent deps=trail-d users=own depmarks=trail-d:link:/etc/x.wants/d.service,trail-d:user:svc"},
		"an earlier install's marks, to the origin": {"absent", []string{"shared:trail-d", "shared:by:trail-d:group:svc"},
			"absent deps=trail-d depmarks=trail-d:group:svc"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			img, err := kind.ParseImage(tc.img)
			if err != nil {
				t.Fatal(err)
			}
			orig := img.String()
			got, err := Package{}.WithBrought(img, tc.brought)
			if err != nil || got.String() != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if img.String() != orig {
				t.Fatal("withBrought changed its argument")
			}
		})
	}
}

// FuzzPackageToolOutput: whatever apt-get -s, apt-cache and dpkg-query
// print, every name the parsers return is a valid package name taken from
// the output, so it can never reach apt-get as an option.
func FuzzPackageToolOutput(f *testing.F) {
	f.Add(simOut)
	f.Add("trail-b\nReverse Depends:\n  trail-e\n |trail-c\n")
	f.Add("trail-c\n  Depends: trail-d\ntrail-d\n")
	f.Add("trail-a\tinstall ok installed\n")
	f.Add("trail-a\n  Depends: trail-d\n |Depends: trail-x\n  Depends: <v>\n    trail-y\n  Suggests: -o\n    -x\n")
	f.Fuzz(func(t *testing.T, out string) {
		s := parseSim(out)
		names := append(append(append(s.fresh, s.removed...), parseClosure(out)...), parseNeeders(out)...)
		for _, in := range s.inst {
			names = append(names, in.name)
			if in.version != "" && (!validVersion(in.version) || !strings.Contains(out, "("+in.version)) {
				t.Fatalf("version %q of %s is not a version from the output", in.version, in.name)
			}
		}
		for name, groups := range parseDepends(out) {
			names = append(names, name)
			for _, alts := range groups {
				names = append(names, alts...)
			}
		}
		for n := range ParseInstalled(out) {
			if strings.ContainsAny(n, "\t\n") || n == "" {
				t.Fatalf("installed name %q", n)
			}
		}
		for _, n := range names {
			if !validPkgName(n) || strings.HasPrefix(n, "-") || !strings.Contains(out, n) {
				t.Fatalf("name %q is not a package name from the output", n)
			}
		}
	})
}

// dpkg-deb -c names directories, files, symlinks without their targets
// and hard links without theirs, a name with spaces whole, "./" left out.
func TestParseContents(t *testing.T) {
	out := `drwxr-xr-x root/root         0 2026-12-06 21:14 ./
drwxr-xr-x root/root         0 2026-12-06 21:14 ./usr/
-rw-r--r-- root/root        12 2026-12-06 21:14 ./usr/share/a b/data
lrwxrwxrwx root/root         0 2026-12-06 21:14 ./usr/bin/x -> ../lib/x
hrw-r--r-- root/root         0 2026-12-06 21:14 ./usr/bin/y link to ./usr/share/a b/data
`
	want := []string{"/usr", "/usr/share/a b/data", "/usr/bin/x", "/usr/bin/y"}
	if got := ParseContents(out); !slices.Equal(got, want) {
		t.Fatalf("ParseContents: %q, want %q", got, want)
	}
}

// The names of a real archive, read with dpkg-deb -c as Shipping does,
// are its paths: with a space and non-ASCII letters as they are, and a
// backslash, a tab and a byte not valid UTF-8, which tar escapes, back as
// they are.
func TestParseContentsRealArchive(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "p")
	names := []string{"/etc/a b/café.conf", `/etc/back\slash`, "/etc/tab\there", "/etc/byte\xff"}
	for _, n := range append(names, "/DEBIAN/control") {
		if err := os.MkdirAll(filepath.Dir(pkg+n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pkg+n, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	control := "Package: trail-names\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: names\n"
	if err := os.WriteFile(pkg+"/DEBIAN/control", []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "names.deb")
	if _, err := proc.RunTool("dpkg-deb", "--root-owner-group", "-b", pkg, deb); err != nil {
		t.Fatal(err)
	}
	out, err := proc.RunTool("dpkg-deb", "-c", deb)
	if err != nil {
		t.Fatal(err)
	}
	got := ParseContents(out)
	for _, n := range append(names, "/etc", "/etc/a b") {
		if !slices.Contains(got, n) {
			t.Errorf("ParseContents has no %q: %q", n, got)
		}
	}
}

// The simulation's upgrades are the changed packages with their version
// now, the version they go to and the mark they have, the step's own
// package aside; one whose mark cannot be read has its version alone.
func TestSimUpgrades(t *testing.T) {
	out := "Inst trail-d [1.0] (2.0 localhost [all])\nInst trail-a [0.9] (1.0 localhost [all])\nInst trail-b (1.0 localhost [all])\nInst trail-e [1:2~b1] (1:2 localhost [all])\nInst trail-r [1.0] (1.0 localhost [all])\nInst trail-u [1.0] (1.1 localhost [all])\n"
	auto := func(n string) (bool, error) {
		if n == "trail-u" {
			return false, errors.New("unreadable")
		}
		return n == "trail-d", nil
	}
	want := []string{"trail-d=1.0>2.0@auto", "trail-e=1:2~b1>1:2@manual", "trail-u=1.0"}
	if got := simUpgrades(parseSim(out).inst, []string{"trail-a"}, auto); !slices.Equal(got, want) {
		t.Fatalf("upgrades %q, want %q", got, want)
	}
}
