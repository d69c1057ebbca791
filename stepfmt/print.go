package stepfmt

import (
	"bytes"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Print writes the list in the step language: the header, then one line per
// step. Its output parses back to an equal list and is stable.
func Print(w io.Writer, l *List) error {
	var b bytes.Buffer
	b.Grow(64 * (len(l.Steps) + 1))
	AppendHeader(&b, l.Header)
	for _, s := range l.Steps {
		AppendStep(&b, s, true)
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Format returns the list as bytes in the step language.
func Format(l *List) []byte {
	var b bytes.Buffer
	_ = Print(&b, l)
	return b.Bytes()
}

// AppendHeader writes the header line of h.
func AppendHeader(b *bytes.Buffer, h Header) {
	b.WriteString("TRAIL ")
	if h.Version == "" {
		b.WriteString(Version)
	} else {
		b.WriteString(quoteIfNeeded(h.Version))
	}
	if h.Commit != "" {
		b.WriteString(" commit=")
		b.WriteString(quoteIfNeeded(h.Commit))
	}
	if h.Host != "" {
		b.WriteString(" host=")
		b.WriteString(quoteIfNeeded(h.Host))
	}
	b.WriteByte('\n')
}

// AppendStep writes one step without a newline; withSource adds " @file:line".
func AppendStep(b *bytes.Buffer, s *Step, withSource bool) {
	b.WriteString(string(s.Kind))
	b.WriteByte(' ')
	b.WriteString(quoteIfNeeded(s.Target))
	pos := ""
	if ks := specOf(s.Kind); ks != nil {
		pos = ks.positional
	}
	for _, a := range s.Attrs {
		b.WriteByte(' ')
		if a.Key == pos && pos != "" {
			b.WriteString(quoteIfNeeded(a.Value))
			continue
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(a.Value))
	}
	if withSource && !s.Src.IsZero() {
		b.WriteString(" @")
		b.WriteString(quoteIfNeeded(s.Src.String()))
	}
}

// String renders the step as one line with its source.
func (s *Step) String() string {
	var b bytes.Buffer
	AppendStep(&b, s, true)
	return b.String()
}

// quoteIfNeeded returns s bare when it reads back as itself, else Go-quoted.
func quoteIfNeeded(s string) string {
	if isBare(s) {
		return s
	}
	return strconv.Quote(s)
}

// isBare reports whether s can be written without quotes: non-empty, no
// space, quote, backslash or '=', no control or non-printing rune, and not
// starting with '@' or '#', which the lexer reads as source and comment.
func isBare(s string) bool {
	if s == "" || s[0] == '@' || s[0] == '#' {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f {
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
