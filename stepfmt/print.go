package stepfmt

import (
	"bytes"
	"io"
	"strconv"
)

// Print writes the list in the step language: the header, then one line per
// step. Its output parses back to an equal list and is stable. It writes
// in pieces of about 64 KiB, not the whole text at once.
func Print(w io.Writer, l *List) error {
	const piece = 64 << 10
	var b bytes.Buffer
	b.Grow(piece + 1024)
	AppendHeader(&b, l.Header)
	for _, s := range l.Steps {
		AppendStep(&b, s, true)
		b.WriteByte('\n')
		if b.Len() >= piece {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Format returns the list as bytes in the step language.
func Format(l *List) []byte {
	var b bytes.Buffer
	b.Grow(64 * (len(l.Steps) + 1))
	AppendHeader(&b, l.Header)
	for _, s := range l.Steps {
		AppendStep(&b, s, true)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// AppendHeader writes the header line of h.
func AppendHeader(b *bytes.Buffer, h Header) {
	b.WriteString("TRAIL ")
	if h.Version == "" {
		b.WriteString(Version)
	} else {
		b.WriteString(Quote(h.Version))
	}
	if h.Commit != "" {
		b.WriteString(" commit=")
		b.WriteString(Quote(h.Commit))
	}
	if h.Host != "" {
		b.WriteString(" host=")
		b.WriteString(Quote(h.Host))
	}
	b.WriteByte('\n')
}

// AppendStep writes one step without a newline; withSource adds " @file:line".
func AppendStep(b *bytes.Buffer, s *Step, withSource bool) {
	b.WriteString(string(s.Kind))
	b.WriteByte(' ')
	b.WriteString(Quote(s.Target))
	pos := ""
	if ks := specOf(s.Kind); ks != nil {
		pos = ks.positional
	}
	for _, a := range s.Attrs {
		b.WriteByte(' ')
		if a.Key == pos && pos != "" {
			b.WriteString(Quote(a.Value))
			continue
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(Quote(a.Value))
	}
	if withSource && !s.Src.IsZero() {
		b.WriteString(" @")
		appendSource(b, s.Src)
	}
}

// appendSource writes Quote(src.String()) without making either string
// when the file name is bare, so is all of it: the journal and the saved
// list print the source of every step.
func appendSource(b *bytes.Buffer, src Source) {
	if src.File != "" && !isBare(src.File, false) {
		b.WriteString(Quote(src.String()))
		return
	}
	b.WriteString(src.File)
	b.WriteByte(':')
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(src.Line), 10))
	if src.EndLine > src.Line {
		b.WriteByte('-')
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(src.EndLine), 10))
	}
}

// String renders the step as one line with its source.
func (s *Step) String() string {
	var b bytes.Buffer
	AppendStep(&b, s, true)
	return b.String()
}
