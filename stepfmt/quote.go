package stepfmt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The quoting rule of the step language, shared with the state files that
// apply writes in the same shape (images, the applied record, the index):
// a value is written bare when it reads back as itself, else as a Go
// double-quoted string.

// Quote returns s as a step line writes any word or value: bare when it
// reads back as itself in every position of a line, else Go-quoted.
func Quote(s string) string {
	if isBare(s, false) {
		return s
	}
	return strconv.Quote(s)
}

// QuoteValue returns s as it is written after "key=" or as a field of its
// own in a state file, where '=', '@' and '#' are plain characters: bare
// when ReadValue reads it back as itself, else Go-quoted.
func QuoteValue(s string) string {
	if isBare(s, true) {
		return s
	}
	return strconv.Quote(s)
}

// ReadValue reads one value written by QuoteValue (bare up to a space, or
// Go-quoted) from the start of s and returns it with the rest of s.
func ReadValue(s string) (value, rest string, err error) {
	if s != "" && s[0] == '"' {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", errors.New("broken quoted string")
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return "", "", errors.New("broken quoted string")
		}
		return v, s[len(q):], nil
	}
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		i = len(s)
	}
	v := s[:i]
	if v == "" {
		return "", "", errors.New("empty value: write \"\"")
	}
	if !isBare(v, true) {
		return "", "", fmt.Errorf("value %q must be quoted", v)
	}
	return v, s[i:], nil
}

// isBare reports whether s can be written without quotes: non-empty, not
// starting with a quote, no space, quote or backslash, no control or
// non-printing rune. In a step line (value false) also no '=' and no '@'
// or '#' first, which the lexer reads as key, source and comment.
func isBare(s string, value bool) bool {
	if s == "" || s[0] == '"' || !value && (s[0] == '@' || s[0] == '#') {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '"' || c == '\\' || c == 0x7f || c == '=' && !value {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
		i += n
	}
	return true
}

// IsBareValue reports whether b, a value as a state file holds it, reads
// back by ReadValue as itself: what a reader of such a file checks of a
// value without making a string of it.
func IsBareValue(b []byte) bool {
	if len(b) == 0 || b[0] == '"' {
		return false
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if !bareASCII[c] {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
		i += n
	}
	return true
}

// bareASCII marks the ASCII bytes a bare value may hold.
var bareASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c > ' ' && c != '"' && c != '\\' && c != 0x7f
	}
	return t
}()
