package host

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// AllowedSigners is a parsed allowed signers file, in the format of
// ssh-keygen(1) and git's gpg.ssh.allowedSignersFile: one key a line,
// "PRINCIPALS [OPTIONS] KEYTYPE BASE64 [COMMENT]", # for comments. No
// library on offer parses it, and the format is small: the key and its
// options are authorized_keys syntax, which x/crypto/ssh parses.
type AllowedSigners []AllowedSigner

// AllowedSigner is one line of the file.
type AllowedSigner struct {
	Line       int
	Principals string
	Key        ssh.PublicKey
	// Namespaces limits what the key may sign ("git", "file"); none is all.
	Namespaces []string
	// ValidAfter and ValidBefore bound when the key may have signed; zero
	// is unbounded.
	ValidAfter, ValidBefore time.Time
}

// ParseAllowedSigners parses an allowed signers file. A line it cannot read
// is an error naming it: a key silently left out would refuse every commit
// it signed, one read wrongly could trust the wrong key. Certificate
// authorities (cert-authority) are not supported and are refused the same way.
func ParseAllowedSigners(data []byte) (AllowedSigners, error) {
	var out AllowedSigners
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		s, err := parseSignerLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		s.Line = i + 1
		out = append(out, s)
	}
	return out, nil
}

func parseSignerLine(line []byte) (AllowedSigner, error) {
	var s AllowedSigner
	var rest []byte
	if line[0] == '"' {
		end := bytes.IndexByte(line[1:], '"')
		if end < 0 {
			return s, errors.New("the principals' quote is not closed")
		}
		s.Principals, rest = string(line[1:end+1]), line[end+2:]
	} else {
		end := bytes.IndexAny(line, " \t")
		if end < 0 {
			return s, errors.New("no key after the principals: want PRINCIPALS [OPTIONS] KEYTYPE BASE64")
		}
		s.Principals, rest = string(line[:end]), line[end:]
	}
	if s.Principals == "" {
		return s, errors.New("the principals are empty")
	}
	key, _, opts, _, err := ssh.ParseAuthorizedKey(bytes.TrimSpace(rest))
	if err != nil {
		return s, fmt.Errorf("the key of %s: %w", s.Principals, err)
	}
	s.Key = key
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		val = strings.Trim(val, `"`)
		switch strings.ToLower(name) {
		case "namespaces":
			s.Namespaces = strings.Split(val, ",")
		case "valid-after":
			s.ValidAfter, err = parseSignerTime(val)
		case "valid-before":
			s.ValidBefore, err = parseSignerTime(val)
		case "cert-authority":
			return s, fmt.Errorf("%s: cert-authority keys are not supported by trail: list the signing keys themselves", s.Principals)
		default:
			return s, fmt.Errorf("%s: unknown option %q", s.Principals, o)
		}
		if err != nil {
			return s, fmt.Errorf("%s: %s: %w", s.Principals, name, err)
		}
		if !hasVal && name != "cert-authority" {
			return s, fmt.Errorf("%s: option %s wants a value", s.Principals, name)
		}
	}
	return s, nil
}

// parseSignerTime reads ssh-keygen's YYYYMMDD[HHMM[SS]][Z]; without Z it
// is local time, as ssh-keygen reads it.
func parseSignerTime(v string) (time.Time, error) {
	loc := time.Local
	if t, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = t, time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(v)]
	if !ok {
		return time.Time{}, fmt.Errorf("%q: want YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally followed by Z", v)
	}
	return time.ParseInLocation(layout, v, loc)
}

// Find returns the signer whose key is key and who may sign in namespace
// at time at.
func (a AllowedSigners) Find(key ssh.PublicKey, namespace string, at time.Time) (AllowedSigner, error) {
	if key == nil {
		return AllowedSigner{}, errors.New("the signature names no key")
	}
	want := key.Marshal()
	fp := ssh.FingerprintSHA256(key)
	found := false
	for _, s := range a {
		if !bytes.Equal(s.Key.Marshal(), want) {
			continue
		}
		found = true
		if len(s.Namespaces) > 0 && !slices.Contains(s.Namespaces, namespace) && !slices.Contains(s.Namespaces, "*") {
			continue
		}
		if !s.ValidAfter.IsZero() && at.Before(s.ValidAfter) || !s.ValidBefore.IsZero() && !at.Before(s.ValidBefore) {
			continue
		}
		return s, nil
	}
	if found {
		return AllowedSigner{}, fmt.Errorf("key %s may not sign %s commits at %s", fp, namespace, at.UTC().Format(time.RFC3339))
	}
	return AllowedSigner{}, fmt.Errorf("key %s is not listed", fp)
}
