package compile

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// dpkgCompare asks the real dpkg how a and b compare: -1, 0 or 1, or ok
// false when dpkg calls either bad syntax (an error, exit status 2, or a
// warning on stderr).
func dpkgCompare(t testing.TB, a, b string) (int, bool) {
	t.Helper()
	for _, op := range []struct {
		op string
		r  int
	}{{"lt", -1}, {"eq", 0}, {"gt", 1}} {
		cmd := exec.Command("dpkg", "--compare-versions", a, op.op, b)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil && stderr.Len() == 0:
			return op.r, true
		case err == nil, errors.As(err, &ee) && ee.ExitCode() != 1:
			return 0, false
		case stderr.Len() > 0:
			return 0, false
		case !errors.As(err, &ee):
			t.Fatalf("dpkg --compare-versions: %v", err)
		}
	}
	t.Fatalf("dpkg says %q is neither lt, eq nor gt %q", a, b)
	return 0, false
}

func needDpkg(t testing.TB) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed (.ci/deps installs it)")
	}
}

// Real versions from Debian's archive and dpkg's own test suite, compared
// by debvercmp and by the real dpkg --compare-versions.
var debVersionPairs = [][2]string{
	{"1.0", "1.0"}, {"1.0", "1.0-0"}, {"1.0-1", "1.0-2"}, {"1.0-1", "1.0-1.1"},
	{"1.2.3", "1.2.10"}, {"1.10", "1.9"}, {"1.0~rc1", "1.0"}, {"1.0~rc1", "1.0~rc2"},
	{"1.0~~", "1.0~"}, {"1.0~", "1.0"}, {"1.0", "1.0+b1"}, {"1.0+b1", "1.0.1"},
	{"1:1.0", "2.0"}, {"0:1.0", "1.0"}, {"2:0.1", "1:9.9"}, {"1.0a", "1.0"},
	{"1.0a", "1.0+"}, {"1.0.", "1.0"}, {"1.0-a", "1.0-0"}, {"1.0-1~bpo12+1", "1.0-1"},
	{"1.22.1-9", "1.22.1-9+deb12u1"}, {"1.22.1-9+deb12u1", "1.22.1-9+deb12u2"},
	{"2.36-9+deb12u4", "2.36-9+deb12u10"}, {"252.22-1~deb12u1", "252.22-1"},
	{"3.0.11-1~deb12u2", "3.0.13-1~deb12u1"}, {"1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2"},
	{"7.88.1-10+deb12u5", "7.88.1-10+deb12u12"}, {"5.2.15-2+b2", "5.2.15-2+b7"},
	{"2.6.1-5~deb12u1", "2.6.1-5"}, {"1:2.38.1-5+deb12u1", "1:2.38.1-5+deb12u3"},
	{"0.0.0", "0"}, {"00010", "10"}, {"1.0-1", "1.0-01"}, {"10.0.0", "9.999"},
	{"1.0+dfsg-1", "1.0-1"}, {"1.0+dfsg", "1.0.0"}, {"1.0~beta1+dfsg", "1.0~beta1"},
	{"1.0~alpha", "1.0~beta"}, {"1.0A", "1.0a"}, {"1.0-1ubuntu1", "1.0-1"},
	{"4.19.0-21", "4.19.0-21+b1"}, {"6.1.0-18-amd64", "6.1.0-9-amd64"},
	{"1:1:1", "1:1:2"}, {"1:1-1-1", "1:1-1-2"}, {"+1:1.0", "1:1.0"},
	{"99999999999999999999", "1"}, {"1.000000000000000000000001", "1.1"},
	{"2147483647:1", "2147483646:9"}, {"", "0"}, {"", "0~"}, {"", ""}, {"", "0:0"},
}

func TestDebVerCmpMatchesDpkg(t *testing.T) {
	needDpkg(t)
	for _, p := range debVersionPairs {
		want, ok := dpkgCompare(t, p[0], p[1])
		if !ok {
			t.Errorf("dpkg calls %q or %q bad syntax: fix the table", p[0], p[1])
			continue
		}
		for _, q := range [][2]string{p, {p[1], p[0]}} {
			got, err := debVerCmp(q[0], q[1])
			if q != p {
				want = -want
			}
			if err != nil || got != want {
				t.Errorf("debvercmp(%q, %q) = %d, %v; dpkg says %d", q[0], q[1], got, err, want)
			}
		}
	}
}

// What dpkg calls bad syntax, as an error or a warning, is an error, and
// the error says what dpkg would.
func TestDebVerCmpBadSyntax(t *testing.T) {
	needDpkg(t)
	for v, want := range map[string]string{
		" ":            "version string is empty",
		"1.0 1":        "embedded spaces",
		":1.0":         "epoch in version is empty",
		"a:1.0":        "epoch in version is empty",
		"1a:1.0":       "not number",
		"-1:1.0":       "negative",
		"1:":           "nothing after colon",
		"1.0-":         "revision number is empty",
		"-1":           "version number is empty",
		"a1.0":         "does not start with digit",
		"1_0":          "invalid character in version number",
		"1.0-a_b":      "invalid character in revision number",
		"1.0\n":        "invalid character in version number",
		"3000000000:1": "too big",
	} {
		if _, ok := dpkgCompare(t, v, "1"); ok {
			t.Errorf("dpkg takes %q without a word: fix the table", v)
		}
		_, err := debVerCmp(v, "1")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("debvercmp(%q, \"1\") error = %v, want %q", v, err, want)
		}
	}
}

// versionShape maps arbitrary bytes onto the characters of Debian
// versions, starting with a digit, so that most fuzz inputs are versions
// and reach the comparison with dpkg rather than the syntax checks.
func versionShape(s string) string {
	const alphabet = "0123456789.+~-:aAzZ0~.1-"
	b := []byte("0" + s)
	for i := 1; i < len(b); i++ {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// FuzzDebVerCmp holds debvercmp to the real dpkg on every pair both call
// good syntax, and to the laws of an order on every pair: the inputs as
// they are, and shaped into versions (versionShape).
func FuzzDebVerCmp(f *testing.F) {
	for _, p := range debVersionPairs {
		f.Add(p[0], p[1])
	}
	_, haveDpkg := exec.LookPath("dpkg")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkDebVerCmp(t, a, b, haveDpkg == nil)
		checkDebVerCmp(t, versionShape(a), versionShape(b), haveDpkg == nil)
	})
}

func checkDebVerCmp(t *testing.T, a, b string, withDpkg bool) {
	r, err := debVerCmp(a, b)
	r2, err2 := debVerCmp(b, a)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("debvercmp(%q, %q) errs %v, the other way round %v", a, b, err, err2)
	}
	if err != nil {
		return
	}
	if r != -r2 || r < -1 || r > 1 {
		t.Fatalf("debvercmp(%q, %q) = %d but the other way round %d", a, b, r, r2)
	}
	if same, _ := debVerCmp(a, a); same != 0 {
		t.Fatalf("debvercmp(%q, itself) = %d", a, same)
	}
	if !withDpkg {
		return
	}
	want, ok := dpkgCompare(t, a, b)
	if !ok {
		t.Fatalf("debvercmp takes %q and %q, which dpkg calls bad syntax", a, b)
	}
	if r != want {
		t.Fatalf("debvercmp(%q, %q) = %d; dpkg says %d", a, b, r, want)
	}
}

// The precedence list of semver.org, section 11, and cores.
var semVersionOrder = []string{
	"0.9.9", "1.0.0-0.3.7", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
	"10.0.0",
}

func TestSemVerCmp(t *testing.T) {
	for i, a := range semVersionOrder {
		for j, b := range semVersionOrder {
			got, err := semVerCmp(a, b)
			if want := sign(i - j); err != nil || got != want {
				t.Errorf("semvercmp(%q, %q) = %d, %v; want %d", a, b, got, err, want)
			}
		}
	}
	for _, eq := range [][2]string{{"1.0.0+build.1", "1.0.0+build.2"}, {"v1.2.3", "1.2.3"}, {"1.0.0-rc.1+x", "1.0.0-rc.1"}} {
		if r, err := semVerCmp(eq[0], eq[1]); r != 0 || err != nil {
			t.Errorf("semvercmp(%q, %q) = %d, %v; want 0", eq[0], eq[1], r, err)
		}
	}
	for v, want := range map[string]string{
		"1.2": "MAJOR.MINOR.PATCH", "1.2.3.4": "MAJOR.MINOR.PATCH", "01.2.3": "leading zero",
		"1.2.3-01": "leading zero", "1.2.3-": "empty identifier", "1.2.3+": "empty identifier",
		"1.2.x": "not a number", "1.2.3-a_b": "character", "": "MAJOR.MINOR.PATCH",
	} {
		_, err := semVerCmp(v, "1.0.0")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("semvercmp(%q) error = %v, want %q", v, err, want)
		}
	}
}

// FuzzSemVerCmp holds semvercmp to the laws of an order, and to string
// order on the precedence list's neighbours.
func FuzzSemVerCmp(f *testing.F) {
	for i := 1; i < len(semVersionOrder); i++ {
		f.Add(semVersionOrder[i-1], semVersionOrder[i])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r, err := semVerCmp(a, b)
		r2, err2 := semVerCmp(b, a)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("semvercmp(%q, %q) errs %v, the other way round %v", a, b, err, err2)
		}
		if err == nil && (r != -r2 || r < -1 || r > 1) {
			t.Fatalf("semvercmp(%q, %q) = %d but the other way round %d", a, b, r, r2)
		}
		if err == nil {
			if same, _ := semVerCmp(a, a); same != 0 {
				t.Fatalf("semvercmp(%q, itself) = %d", a, same)
			}
		}
	})
}
