// Package manpage turns the project's Markdown (docs/*.md) into man(7)
// roff, so the manual pages are built from the same text as the docs,
// offline, and cannot drift from them.
//
// It knows the Markdown the docs use and nothing more: headings, fenced
// and indented code, paragraphs, "-" and "1." lists with indented
// continuation lines, pipe tables, `code`, **bold**, *emphasis* and
// [text](link). Anything else is set as plain text, never dropped.
package manpage

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Page is the man page's header.
type Page struct {
	Name    string // e.g. "trail-config"
	Section string // e.g. "5"
	Date    string // e.g. "2026-12-06"
	Source  string // e.g. "trail 0.1.0"
	Manual  string // e.g. "trail manual"
	Summary string // the NAME line after the dash
}

// Render writes md as a man page. The document's first level-1 heading is
// its title and is replaced by the NAME section.
func Render(p Page, md []byte) ([]byte, error) {
	if p.Name == "" || p.Section == "" || p.Summary == "" {
		return nil, fmt.Errorf("manpage: %q(%s): Name, Section and Summary are required", p.Name, p.Section)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, ".TH %s %s %s %s %s\n", quote(strings.ToUpper(p.Name)), quote(p.Section),
		quote(p.Date), quote(p.Source), quote(p.Manual))
	fmt.Fprintf(&out, ".SH NAME\n%s \\- %s\n", escape(p.Name), escape(p.Summary))

	r := &renderer{out: &out}
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if err := r.line(sc.Text()); err != nil {
			return nil, fmt.Errorf("manpage: line %d: %w", lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manpage: %w", err)
	}
	if r.fence {
		return nil, fmt.Errorf("manpage: a ``` block opened is never closed")
	}
	r.flush()
	r.endCode()
	return out.Bytes(), nil
}

type renderer struct {
	out       *bytes.Buffer
	para      []string // words of the paragraph or list item being read
	item      string   // the .IP tag of the list item being read, if any
	fence     bool     // inside ``` ... ```
	code      bool     // a .nf block is open
	titleSeen bool
	inSection bool // a .SH was written
	table     [][]string
}

var (
	ordered  = regexp.MustCompile(`^\d+\. `)
	tableSep = regexp.MustCompile(`^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$`)
)

func (r *renderer) line(l string) error {
	if r.fence {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			r.fence = false
			r.endCode()
			return nil
		}
		r.codeLine(l)
		return nil
	}
	trim := strings.TrimSpace(l)
	switch {
	case strings.HasPrefix(trim, "```"):
		r.flush()
		r.fence = true
		r.startCode()
		return nil
	case trim == "":
		r.flush()
		return nil
	case r.code && strings.HasPrefix(l, "    "):
		r.codeLine(l[4:])
		return nil
	}
	r.endCode()
	switch {
	case strings.HasPrefix(l, "# ") && !r.titleSeen:
		r.flush()
		r.titleSeen = true
	case strings.HasPrefix(l, "#"):
		r.flush()
		level := len(l) - len(strings.TrimLeft(l, "#"))
		text := strings.TrimSpace(l[level:])
		r.inSection = true
		if level <= 2 {
			fmt.Fprintf(r.out, ".SH %s\n", quote(strings.ToUpper(plain(text))))
		} else {
			fmt.Fprintf(r.out, ".SS %s\n", quote(plain(text)))
		}
	case strings.HasPrefix(l, "|"):
		if len(r.para) > 0 {
			r.flush()
		}
		if !tableSep.MatchString(trim) {
			r.table = append(r.table, cells(trim))
		}
	case strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* "):
		r.flush()
		r.section()
		r.item = `\(bu`
		r.para = append(r.para, l[2:])
	case ordered.MatchString(l):
		r.flush()
		i := strings.Index(l, " ")
		r.item = l[:i]
		r.para = append(r.para, l[i+1:])
	case strings.HasPrefix(l, "    ") && len(r.para) == 0:
		r.flush()
		r.startCode()
		r.codeLine(l[4:])
	default:
		r.section()
		if len(r.table) > 0 {
			r.flush()
		}
		r.para = append(r.para, trim)
	}
	return nil
}

// flush ends the paragraph, list item or table being read.
func (r *renderer) flush() {
	if len(r.table) > 0 {
		r.flushTable()
	}
	if len(r.para) == 0 {
		return
	}
	text := inline(strings.Join(r.para, " "))
	if r.item != "" {
		fmt.Fprintf(r.out, ".IP %s 4\n%s\n", r.item, text)
	} else {
		fmt.Fprintf(r.out, ".PP\n%s\n", text)
	}
	r.para, r.item = nil, ""
}

// flushTable sets each row as a tagged paragraph: the first cell is the
// tag, the others follow it; a header row (a row followed by a
// separator in the Markdown) is set the same way, in italics.
func (r *renderer) flushTable() {
	for i, row := range r.table {
		tag := inline(row[0])
		rest := make([]string, 0, len(row)-1)
		for _, c := range row[1:] {
			rest = append(rest, inline(c))
		}
		if i == 0 {
			fmt.Fprintf(r.out, ".PP\n\\fI%s\\fR: \\fI%s\\fR\n", plainEsc(row[0]), plainEsc(strings.Join(row[1:], "; ")))
			continue
		}
		fmt.Fprintf(r.out, ".TP\n%s\n%s\n", lineSafe(tag), lineSafe(strings.Join(rest, "; ")))
	}
	r.table = nil
}

// section opens DESCRIPTION for text that comes before any heading.
func (r *renderer) section() {
	if !r.inSection {
		r.out.WriteString(".SH DESCRIPTION\n")
		r.inSection = true
	}
}

func (r *renderer) startCode() {
	if r.code {
		return
	}
	r.section()
	r.out.WriteString(".PP\n.RS 4\n.nf\n")
	r.code = true
}

func (r *renderer) endCode() {
	if !r.code {
		return
	}
	r.out.WriteString(".fi\n.RE\n")
	r.code = false
}

func (r *renderer) codeLine(l string) {
	r.out.WriteString(lineSafe(escape(l)))
	r.out.WriteByte('\n')
}

func cells(row string) []string {
	row = strings.TrimSpace(strings.Trim(row, "|"))
	var out []string
	for c := range strings.SplitSeq(row, "|") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

var (
	codeSpan = regexp.MustCompile("`([^`]*)`")
	bold     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emph     = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
	link     = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
)

// inline sets `code` in bold, **bold** in bold, *emphasis* in italics,
// and a link as its text followed by its target in angle brackets. Code
// spans are set aside first, so that marks inside them stay literal and
// marks around them still pair up.
func inline(s string) string {
	var spans []string
	s = codeSpan.ReplaceAllStringFunc(s, func(m string) string {
		spans = append(spans, `\fB`+escape(m[1:len(m)-1])+`\fP`)
		return fmt.Sprintf("\x00%d\x00", len(spans)-1)
	})
	s = link.ReplaceAllString(s, "$1 <$2>")
	s = escape(s)
	s = bold.ReplaceAllString(s, `\fB$1\fR`)
	s = emph.ReplaceAllString(s, `\fI$1\fR`)
	s = placeholder.ReplaceAllStringFunc(s, func(m string) string {
		i, _ := strconv.Atoi(m[1 : len(m)-1])
		return spans[i]
	})
	return lineSafe(s)
}

var placeholder = regexp.MustCompile("\x00[0-9]+\x00")

// plain drops Markdown marks, for headings.
func plain(s string) string {
	s = codeSpan.ReplaceAllString(s, "$1")
	s = bold.ReplaceAllString(s, "$1")
	return s
}

func plainEsc(s string) string { return escape(plain(s)) }

// escape makes text safe for roff: backslashes, and any character beyond
// ASCII as a named glyph so no input encoding is assumed.
func escape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\\':
			b.WriteString(`\e`)
		case c == '-':
			b.WriteString(`\-`)
		case c >= utf8.RuneSelf:
			fmt.Fprintf(&b, `\[u%04X]`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// lineSafe keeps a line from starting a roff request.
func lineSafe(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"`
}
