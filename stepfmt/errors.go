package stepfmt

import (
	"fmt"
	"strings"
)

// Error is one problem with a step, placed at its source line. It renders as
// "file:line: KIND target: message" so that editors and people can jump to it.
type Error struct {
	Src    Source
	Kind   Kind
	Target string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Src.File != "" {
		b.WriteString(e.Src.File)
		if e.Src.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Src.Line)
		}
		b.WriteString(": ")
	}
	if e.Kind != "" {
		b.WriteString(string(e.Kind))
		if e.Target != "" {
			b.WriteByte(' ')
			b.WriteString(Quote(e.Target))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList collects every error found, in input order. It is an error only
// when non-empty; use Err to get a nil error for an empty list.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (l *ErrorList) add(src Source, k Kind, target, format string, args ...any) {
	*l = append(*l, &Error{Src: src, Kind: k, Target: target, Msg: fmt.Sprintf(format, args...)})
}
