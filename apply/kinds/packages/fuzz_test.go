package packages_test

import (
	"slices"
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/kinds/packages"
	"trail/apply/kinds/units"
)

const policyOut = `trail-e2e-hello:
  Installed: 1.0
  Candidate: 2.0
  Version table:
     2.0 500
        500 file:/srv/trail-e2e/repo ./ Packages
 *** 1.0 500
        500 file:/srv/trail-e2e/repo ./ Packages
        100 /var/lib/dpkg/status
`

func TestParsePolicy(t *testing.T) {
	cases := map[string]struct {
		out       string
		versions  []string
		candidate string
	}{
		"installed and newer": {policyOut, []string{"2.0", "1.0"}, "2.0"},
		"unknown package":     {"", nil, ""},
		"no candidate":        {"x:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n", nil, ""},
		"epoch version":       {"x:\n  Candidate: 1:2.3-1\n  Version table:\n     1:2.3-1 500\n        500 http://deb/ bookworm/main amd64 Packages\n", []string{"1:2.3-1"}, "1:2.3-1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, c := packages.ParsePolicy(tc.out)
			if !slices.Equal(v, tc.versions) || c != tc.candidate {
				t.Fatalf("got %q %q, want %q %q", v, c, tc.versions, tc.candidate)
			}
		})
	}
}

func TestParsePolicies(t *testing.T) {
	out := policyOut + "trail-b:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n" +
		"libc6:i386:\n  Candidate: 2.36\n  Version table:\n     2.36 500\n" + policyOut
	got := packages.ParsePolicies(out)
	want := map[string]packages.Policy{"trail-e2e-hello": {Versions: []string{"2.0", "1.0"}, Candidate: "2.0"},
		"trail-b": {}, "libc6:i386": {Versions: []string{"2.36"}, Candidate: "2.36"}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for name, p := range want {
		if g := got[name]; !slices.Equal(g.Versions, p.Versions) || g.Candidate != p.Candidate {
			t.Errorf("%s: got %q, want %q", name, g, p)
		}
	}
}

// FuzzParsePolicy: any output parses without panicking, and every version
// it reports is a word of the output; read as the output for many names,
// each block is what ParsePolicy reads of it alone, and output of one
// block reads as ParsePolicy reads it.
func FuzzParsePolicy(f *testing.F) {
	f.Add(policyOut)
	f.Add("x:\n  Candidate: (none)\n  Version table:\n *** \n     \n")
	f.Add(policyOut + "trail-b:\n  Candidate: (none)\n  Version table:\nlibc6:i386:\n  Candidate: 1\n  Version table:\n     1 500\n")
	f.Add("a:\n  Version table:\n     1 500\nN: Unable to locate package b\n     2 500\n")
	f.Fuzz(func(t *testing.T, out string) {
		versions, cand := packages.ParsePolicy(out)
		for _, v := range versions {
			if v == "" || !strings.Contains(out, v) {
				t.Fatalf("version %q not from the output", v)
			}
		}
		if cand != "" && !strings.Contains(out, cand) {
			t.Fatalf("candidate %q not from the output", cand)
		}
		blocks := packages.ParsePolicies(out)
		for name, p := range blocks {
			if name == "" || !strings.Contains(out, name+":") {
				t.Fatalf("block %q not from the output", name)
			}
			for _, v := range p.Versions {
				if v == "" || !strings.Contains(out, v) {
					t.Fatalf("%s: version %q not from the output", name, v)
				}
			}
		}
		lines := strings.SplitAfter(out, "\n")
		heads := 0
		for _, l := range lines {
			if l = strings.TrimRight(l, "\r\n"); len(l) > 1 && l[0] != ' ' && l[0] != '\t' && strings.HasSuffix(l, ":") {
				heads++
			}
		}
		if name, ok := strings.CutSuffix(strings.TrimRight(lines[0], "\r\n"), ":"); ok && heads == 1 && name != "" && name[0] != ' ' && name[0] != '\t' {
			if g := blocks[name]; !slices.Equal(g.Versions, versions) || g.Candidate != cand {
				t.Fatalf("one block %q reads %q, ParsePolicy %q %q", name, g, versions, cand)
			}
		}
	})
}

// FuzzPackageUnitImages: an image of the package and unit kinds either
// fails to unpack or packs back to the same text.
func FuzzPackageUnitImages(f *testing.F) {
	for _, s := range []string{"installed version=1.0 mark=auto", "config-files version=2:1.0-1", "partial status=unpacked version=1",
		"absent", "absent deps=trail-b,libc6:amd64 brings=x1", "installed version=1 mark=auto deps=b1,a1", "unit file=enabled active=active", "unit file=masked", "unit enabled=true", "installed mark=maybe",
		"absent deps=trail-d users=own depmarks=trail-d:link:/etc/x.wants/d.service,trail-d:user:svc", "absent depmarks=\"trail-d:link:/etc/a b.wants/x.service\"",
		"installed version=1.0 mark=auto users=svc before=config-files", "installed version=1 before=absent", "installed before=",
		"absent upgraded=trail-d=1:2.0~b1,libc6:amd64=2.36-9", "absent upgraded=trail-d=1.0>2.0@auto upgrades=trail-e=1.0",
		"absent upgraded=trail-d=1.0>2.0@manual,trail-d=1.0", "absent upgrades=trail-d=",
		"installed version=2.0 mark=manual depmarks=trail-d:user:trail-d upgradedfrom=1.0", "installed upgradedfrom="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		img, err := kind.ParseImage(s)
		if err != nil {
			return
		}
		if p, err := packages.Unpack(img); err == nil {
			again, err := packages.Unpack(p.Image())
			if err != nil || again != p {
				t.Fatalf("package image %q: %+v does not round-trip (%v)", s, p, err)
			}
		}
		if u, err := units.Unpack(img); err == nil {
			again, err := units.Unpack(u.Image())
			if u.File != "" && (err != nil || again != u) {
				t.Fatalf("unit image %q: %+v does not round-trip (%v)", s, u, err)
			}
		}
	})
}

// FuzzParseConfigShell: any output parses without panicking, a value
// quoted again is a line of the output, and a value apt-config quotes
// reads back as itself.
func FuzzParseConfigShell(f *testing.F) {
	f.Add("A='/var/cache/apt/archives/'\n", "/x/")
	f.Add("A='/tmp/it'\\''s here/'\n", "it's")
	f.Add("A=''\nB='x'\n", "'")
	f.Fuzz(func(t *testing.T, out, value string) {
		if v, ok := packages.ParseConfigShell(out, "A"); ok && !strings.Contains("\n"+out+"\n", "\nA='"+strings.ReplaceAll(v, "'", `'\''`)+"'\n") {
			t.Fatalf("value %q not from the output %q", v, out)
		}
		if strings.Contains(value, "\n") {
			return
		}
		quoted := "X='1'\nA='" + strings.ReplaceAll(value, "'", `'\''`) + "'\n"
		if v, ok := packages.ParseConfigShell(quoted, "A"); !ok || v != value {
			t.Fatalf("%q read back as %q %v", value, v, ok)
		}
	})
}
