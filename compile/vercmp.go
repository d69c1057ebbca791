package compile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// debVersion is a Debian version split as dpkg splits it:
// [epoch:]upstream[-revision].
type debVersion struct {
	epoch              int
	upstream, revision string
}

// parseDebVersion parses a version as dpkg's parseversion does, and
// refuses what dpkg calls bad syntax, its warnings included: a version
// that does not start with a digit or holds a character outside
// [A-Za-z0-9.+~-] (and : in the upstream part) is an error here, since a
// config that compares such a string with Debian's rules is wrong.
func parseDebVersion(s string) (debVersion, error) {
	var v debVersion
	s = strings.Trim(s, " \t") // dpkg's blanks; a newline is a bad character
	if s == "" {
		return v, errors.New("version string is empty")
	}
	if strings.ContainsAny(s, " \t") {
		return v, errors.New("version string has embedded spaces")
	}
	if e, rest, ok := strings.Cut(s, ":"); ok {
		n, err := parseEpoch(e)
		if err != nil {
			return v, err
		}
		v.epoch, s = n, rest
	}
	if s == "" {
		return v, errors.New("nothing after colon in version number")
	}
	v.upstream = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.upstream, v.revision = s[:i], s[i+1:]
		if v.revision == "" {
			return v, errors.New("revision number is empty")
		}
	}
	if v.upstream == "" {
		return v, errors.New("version number is empty")
	}
	if !isDigit(v.upstream[0]) {
		return v, errors.New("version number does not start with digit")
	}
	for i := 0; i < len(v.upstream); i++ {
		if c := v.upstream[i]; !isAlnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return v, errors.New("invalid character in version number")
		}
	}
	for i := 0; i < len(v.revision); i++ {
		if c := v.revision[i]; !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return v, errors.New("invalid character in revision number")
		}
	}
	return v, nil
}

// parseEpoch reads an epoch as dpkg does, with strtol: an optional sign,
// then digits, and nothing else before the colon.
func parseEpoch(e string) (int, error) {
	d, neg := e, false
	if d != "" && (d[0] == '+' || d[0] == '-') {
		d, neg = d[1:], d[0] == '-'
	}
	n := 0
	for n < len(d) && isDigit(d[n]) {
		n++
	}
	switch {
	case n == 0:
		return 0, errors.New("epoch in version is empty")
	case n != len(d):
		return 0, errors.New("epoch in version is not number")
	}
	v, err := strconv.ParseInt(d, 10, 64)
	if neg && v != 0 {
		return 0, errors.New("epoch in version is negative")
	}
	if err != nil || v > 1<<31-1 {
		return 0, errors.New("epoch in version is too big")
	}
	return int(v), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// debOrder is dpkg's weight of a character in a non-digit run: ~ before
// the end of the string, which is before letters, which are before every
// other character.
func debOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch c := s[i]; {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	default:
		return int(c) + 256
	}
}

// verrevcmp compares an upstream version or a revision as dpkg's verrevcmp
// does: alternating non-digit runs, compared by debOrder, and digit runs,
// compared as numbers.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := debOrder(a, i), debOrder(b, j)
			if ac != bc {
				return ac - bc
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return firstDiff
		}
	}
	return 0
}

// debVerCmp compares two Debian versions: -1, 0 or 1, as dpkg
// --compare-versions orders them. As there, "" is no version (a package
// not installed), before every version.
func debVerCmp(a, b string) (int, error) {
	if a == "" || b == "" {
		other := a + b
		if other != "" {
			if _, err := parseDebVersion(other); err != nil {
				return 0, fmt.Errorf("%q is not a Debian version: %w", other, err)
			}
		}
		return sign(len(a) - len(b)), nil
	}
	va, err := parseDebVersion(a)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Debian version: %w", a, err)
	}
	vb, err := parseDebVersion(b)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Debian version: %w", b, err)
	}
	r := va.epoch - vb.epoch
	if r == 0 {
		r = verrevcmp(va.upstream, vb.upstream)
	}
	if r == 0 {
		r = verrevcmp(va.revision, vb.revision)
	}
	return sign(r), nil
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// semVersion is a semantic version (semver.org 2.0.0); build metadata
// is dropped, as it does not count in comparisons.
type semVersion struct {
	core [3]string
	pre  []string
}

// parseSemVersion parses MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], with an
// optional leading v (git tags).
func parseSemVersion(s string) (semVersion, error) {
	var v semVersion
	rest := strings.TrimPrefix(s, "v")
	rest, build, hasBuild := strings.Cut(rest, "+")
	if hasBuild {
		if err := semIdents(build, false); err != nil {
			return v, fmt.Errorf("build metadata: %w", err)
		}
	}
	rest, pre, hasPre := strings.Cut(rest, "-")
	core := strings.Split(rest, ".")
	if len(core) != 3 {
		return v, errors.New("want MAJOR.MINOR.PATCH, such as 1.4.2")
	}
	for i, n := range core {
		if err := semNumber(n); err != nil {
			return v, fmt.Errorf("%s: %w", [3]string{"major", "minor", "patch"}[i], err)
		}
		v.core[i] = n
	}
	if hasPre {
		if err := semIdents(pre, true); err != nil {
			return v, fmt.Errorf("pre-release: %w", err)
		}
		v.pre = strings.Split(pre, ".")
	}
	return v, nil
}

func semNumber(n string) error {
	switch {
	case n == "":
		return errors.New("empty number")
	case strings.Trim(n, "0123456789") != "":
		return fmt.Errorf("%q is not a number", n)
	case len(n) > 1 && n[0] == '0':
		return fmt.Errorf("%q has a leading zero", n)
	}
	return nil
}

// semIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric
// pre-release identifiers may not have leading zeros.
func semIdents(s string, pre bool) error {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return errors.New("empty identifier")
		}
		for i := 0; i < len(id); i++ {
			if !isAlnum(id[i]) && id[i] != '-' {
				return fmt.Errorf("%q holds a character other than [0-9A-Za-z-]", id)
			}
		}
		if pre && strings.Trim(id, "0123456789") == "" && len(id) > 1 && id[0] == '0' {
			return fmt.Errorf("%q has a leading zero", id)
		}
	}
	return nil
}

// cmpNumeric compares two strings of digits without leading zeros.
func cmpNumeric(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

// semVerCmp orders two semantic versions by semver.org's precedence.
func semVerCmp(a, b string) (int, error) {
	va, err := parseSemVersion(a)
	if err != nil {
		return 0, fmt.Errorf("%q is not a semantic version: %w", a, err)
	}
	vb, err := parseSemVersion(b)
	if err != nil {
		return 0, fmt.Errorf("%q is not a semantic version: %w", b, err)
	}
	for i := range va.core {
		if r := cmpNumeric(va.core[i], vb.core[i]); r != 0 {
			return r, nil
		}
	}
	switch {
	case len(va.pre) == 0 && len(vb.pre) == 0:
		return 0, nil
	case len(va.pre) == 0:
		return 1, nil
	case len(vb.pre) == 0:
		return -1, nil
	}
	for i := 0; i < len(va.pre) && i < len(vb.pre); i++ {
		x, y := va.pre[i], vb.pre[i]
		xn, yn := strings.Trim(x, "0123456789") == "", strings.Trim(y, "0123456789") == ""
		var r int
		switch {
		case xn && yn:
			r = cmpNumeric(x, y)
		case xn:
			r = -1
		case yn:
			r = 1
		default:
			r = strings.Compare(x, y)
		}
		if r != 0 {
			return r, nil
		}
	}
	return sign(len(va.pre) - len(vb.pre)), nil
}

// versionCmpFunc makes debvercmp or semvercmp: (a, b) → -1, 0 or 1.
func versionCmpFunc(cmp func(a, b string) (int, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "a", Type: cty.String}, {Name: "b", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			r, err := cmp(args[0].AsString(), args[1].AsString())
			if err != nil {
				return cty.UnknownVal(cty.Number), err
			}
			return cty.NumberIntVal(int64(r)), nil
		},
	})
}
