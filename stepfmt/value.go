package stepfmt

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// valueType checks a target or attribute value and returns its canonical
// spelling, so that 644 and 0644 are the same mode to the diff.
type valueType func(string) (string, error)

func tPath(s string) (string, error) {
	if err := CheckPath(s); err != nil {
		return "", err
	}
	return s, nil
}

// CheckPath reports why p is not an absolute, clean path without "..".
// It allocates nothing on the good path: it runs for every step.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case p[0] != '/':
		return fmt.Errorf("path %q is relative: write it from /", p)
	case p == "/":
		return errors.New("the root directory itself cannot be managed")
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] == 0 {
			return errors.New("path contains a NUL byte")
		}
		if i < len(p) && p[i] != '/' {
			continue
		}
		switch p[start:i] {
		case "..":
			return fmt.Errorf("path %q contains ..: write the real path", p)
		case "", ".":
			return fmt.Errorf("path %q is not clean: write %q", p, path.Clean(p))
		}
		start = i + 1
	}
	return nil
}

func tIncludePath(s string) (string, error) {
	if s == "" || strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("include needs a file name")
	}
	return s, nil
}

func tMode(s string) (string, error) {
	if len(s) == 4 && s[0] >= '0' && s[0] <= '7' && s[1] >= '0' && s[1] <= '7' &&
		s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7' {
		return s, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 || s == "" || s[0] == '+' {
		return "", fmt.Errorf("mode %q is not an octal mode from 0000 to 7777", s)
	}
	return fmt.Sprintf("%04o", n), nil
}

// maxID is the largest uid or gid: (uid_t)-1 is reserved.
const maxID = 1<<32 - 2

func tID(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxID || s[0] == '+' {
		return "", fmt.Errorf("id %q is not a number from 0 to %d", s, uint64(maxID))
	}
	if s[0] != '0' || s == "0" {
		return s, nil
	}
	return strconv.FormatUint(n, 10), nil
}

func tCount(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || s[0] == '+' {
		return "", fmt.Errorf("count %q is not a number from 0 to 65535", s)
	}
	return strconv.FormatUint(n, 10), nil
}

func tBool(s string) (string, error) {
	if s == "true" || s == "false" {
		return s, nil
	}
	return "", fmt.Errorf("%q is not true or false", s)
}

// tTrue is a flag that is set or left out: absent=false would say nothing
// that leaving it out does not.
func tTrue(s string) (string, error) {
	if s == "true" {
		return s, nil
	}
	return "", fmt.Errorf("%q: the flag takes only true; leave it out otherwise", s)
}

func tDuration(s string) (string, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", fmt.Errorf("duration %q is not a positive Go duration such as 30s or 2m", s)
	}
	return d.String(), nil
}

func tDrift(s string) (string, error) {
	switch s {
	case "report", "heal", "ignore":
		return s, nil
	}
	return "", fmt.Errorf("drift policy %q is not report, heal or ignore", s)
}

func tHash(s string) (string, error) {
	h, ok := strings.CutPrefix(s, "sha256:")
	var seen uint8
	for i := 0; ok && i < len(h); i++ {
		c := hexDigit[h[i]]
		seen |= c
		ok = c != 0
	}
	if !ok || len(h) != 64 {
		return "", fmt.Errorf("content %q is not sha256: followed by 64 hex digits", s)
	}
	if seen&hexUpper == 0 {
		return s, nil
	}
	return "sha256:" + strings.ToLower(h), nil
}

// hexDigit classes the bytes of a content hash: every list's every FILE
// step has one, so it is checked by table.
var hexDigit = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = hexLower
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = hexLower
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] = hexUpper
	}
	return t
}()

const (
	hexLower = 1 << iota // a digit or a-f
	hexUpper             // A-F
)

func tText(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.New("value contains a NUL byte")
	}
	return s, nil
}

// tValidate is a command run on a file's new content before it is
// installed; %s stands for the path of a temporary copy.
func tValidate(s string) (string, error) {
	if _, n := ExpandValidate(s, ""); n == 0 {
		return "", fmt.Errorf("validate %q does not name the file: write %%s where the path of the new content goes, such as \"visudo -cf %%s\"", s)
	}
	return tText(s)
}

// ExpandValidate returns a validate command with every %s replaced by
// path and every %% by %, and the number of %s it held.
func ExpandValidate(cmd, path string) (string, int) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(cmd); i++ {
		if cmd[i] == '%' && i+1 < len(cmd) && (cmd[i+1] == 's' || cmd[i+1] == '%') {
			i++
			if cmd[i] == '%' {
				b.WriteByte('%')
				continue
			}
			b.WriteString(path)
			n++
			continue
		}
		b.WriteByte(cmd[i])
	}
	return b.String(), n
}

func tLinkTarget(s string) (string, error) {
	if s == "" {
		return "", errors.New("symlink target is empty")
	}
	return tText(s)
}

// tOwner is a user or group name, or a numeric id.
func tOwner(s string) (string, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return tID(s)
	}
	return tAccount(s)
}

// tAccount is a user or group name as Debian's adduser accepts it by default,
// loosened to what useradd accepts: no colon, comma, slash or white space.
func tAccount(s string) (string, error) {
	if s == "" || len(s) > 32 {
		return "", fmt.Errorf("name %q must be 1 to 32 characters", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c == '_' || c >= 'A' && c <= 'Z' ||
			i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.' || c == '$' && i == len(s)-1)
		if !ok {
			return "", fmt.Errorf("name %q is not a valid user or group name", s)
		}
	}
	return s, nil
}

// tAccountList is a comma-separated set of names; canonical form is sorted
// without duplicates, since membership has no order.
func tAccountList(s string) (string, error) { return setOf(s, tAccount) }

// tPathList is a comma-separated set of absolute paths.
func tPathList(s string) (string, error) { return setOf(s, tPath) }

// tTriggerList is a unit's restart-on or reload-on: a comma-separated set
// of absolute paths and of package:NAME and command:NAME, the package and
// command steps whose change restarts the unit too.
func tTriggerList(s string) (string, error) { return setOf(s, tTrigger) }

func tTrigger(s string) (string, error) {
	if strings.HasPrefix(s, "/") {
		return tPath(s)
	}
	ns, name, _ := strings.Cut(s, ":")
	var err error
	switch ns {
	case "package":
		_, err = tPackage(name)
	case "command":
		_, err = tName(name)
	default:
		return "", fmt.Errorf("trigger %q is neither an absolute path nor package:NAME or command:NAME", s)
	}
	if err != nil {
		return "", fmt.Errorf("trigger %q: %w", s, err)
	}
	return s, nil
}

// TriggerOf is the word a unit's restart-on or reload-on names the step
// with identity (k, target) by: its path, or package:NAME, command:NAME;
// ok is false for a kind whose change triggers nothing.
func TriggerOf(k Kind, target string) (string, bool) {
	switch {
	case IsPath(k):
		return target, true
	case k == KindPackage || k == KindCommand:
		return Namespace(k) + ":" + target, true
	}
	return "", false
}

func setOf(s string, elem valueType) (string, error) {
	if s == "" {
		return "", nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		c, err := elem(p)
		if err != nil {
			return "", err
		}
		parts[i] = c
	}
	sort.Strings(parts)
	out := parts[:0]
	for i, p := range parts {
		if i == 0 || p != parts[i-1] {
			out = append(out, p)
		}
	}
	return strings.Join(out, ","), nil
}

// tPackage is a Debian package name (policy 5.6.1), optionally with :arch.
func tPackage(s string) (string, error) {
	name, arch, hasArch := strings.Cut(s, ":")
	ok := len(name) >= 2 && isLowerAlnum(name[0])
	for i := 1; ok && i < len(name); i++ {
		c := name[i]
		ok = isLowerAlnum(c) || c == '+' || c == '-' || c == '.'
	}
	if hasArch {
		for i := 0; ok && i < len(arch); i++ {
			ok = isLowerAlnum(arch[i]) || arch[i] == '-'
		}
		ok = ok && arch != ""
	}
	if !ok {
		return "", fmt.Errorf("package name %q is not a Debian package name (lower case letters, digits, + - .)", s)
	}
	return s, nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func tDebVersion(s string) (string, error) {
	ok := s != "" && s[0] >= '0' && s[0] <= '9'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isLowerAlnum(c) || c >= 'A' && c <= 'Z' || strings.IndexByte(".+-~:", c) >= 0
	}
	if !ok {
		return "", fmt.Errorf("version %q is not a Debian version", s)
	}
	return s, nil
}

var unitSuffixes = []string{".service", ".socket", ".timer", ".path", ".mount",
	".automount", ".target", ".swap", ".slice", ".scope", ".device"}

func tUnit(s string) (string, error) {
	for _, suf := range unitSuffixes {
		if base, ok := strings.CutSuffix(s, suf); ok && base != "" &&
			!strings.ContainsAny(base, "/ \t,") {
			return s, nil
		}
	}
	return "", fmt.Errorf("unit %q needs a unit type suffix such as .service or .timer", s)
}

// tName names a command or check: letters, digits and _ . : - only.
func tName(s string) (string, error) {
	ok := s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isLowerAlnum(c) || c >= 'A' && c <= 'Z' || strings.IndexByte("_.:-@", c) >= 0
	}
	if !ok {
		return "", fmt.Errorf("name %q may use only letters, digits and _ . : - @", s)
	}
	return s, nil
}

// Canon returns the canonical spelling of value for attribute key of kind k,
// or an error saying what is wrong with it. Compilers use it so that the
// steps they build compare equal to parsed ones.
func Canon(k Kind, key, value string) (string, error) {
	ks := specOf(k)
	if ks == nil {
		return "", fmt.Errorf("unknown kind %s", k)
	}
	as := ks.attr(key)
	if as == nil {
		return "", fmt.Errorf("%s has no attribute %q (it has: %s)", k, key, strings.Join(AttrKeys(k), ", "))
	}
	return as.typ(value)
}

// CanonTarget returns the canonical target for kind k or why it is invalid.
func CanonTarget(k Kind, target string) (string, error) {
	ks := specOf(k)
	if ks == nil {
		return "", fmt.Errorf("unknown kind %s", k)
	}
	return ks.target(target)
}

// tSecret names how a FILE's content is encrypted: "age" (age-encryption.org),
// to the host's key, decrypted only when applied.
func tSecret(s string) (string, error) {
	if s == "age" {
		return s, nil
	}
	return "", fmt.Errorf("secret %q is not an encryption trail knows: write secret=age", s)
}
