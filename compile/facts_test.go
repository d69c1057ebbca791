package compile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func writeRoot(t *testing.T, files map[string]string) string {
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
	merged := f.With(Facts{Hostname: "x", MemoryMB: 1})
	if merged.Hostname != "x" || merged.MemoryMB != 1 || merged.FQDN != f.FQDN || merged.Arch != f.Arch {
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
