package compile

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// HCL's parser and evaluator recurse once per level of nesting, and a Go
// stack overflow is a fatal error, not a panic: 200,000 nested brackets in
// a 400 KB file would kill the process. So every text handed to the HCL
// parser is first scanned, cheaply and without recursion, for how deeply
// it nests, and refused with its place beyond these bounds.
const (
	// maxNesting bounds brackets, parentheses, braces, quoted strings,
	// heredocs, template interpolations and %{if}/%{for} directives
	// open at once. Real configs stay under 20.
	maxNesting = 100
	// maxPrefixRun bounds a run of the prefix operators - and !, which the
	// parser also recurses on.
	maxPrefixRun = 100
)

// scanFrame is one open level: a bracket ( [ {, a quoted string ",
// a heredoc h (with its end marker), an interpolation i (${ or %{ up to
// its }) or a directive block d (%{if} or %{for} up to its end).
type scanFrame struct {
	kind   byte
	marker []byte
}

// scanner is the state of one prescan.
type scanner struct {
	name      string
	src       []byte
	i         int
	pos       hcl.Pos
	stack     []scanFrame
	template  bool // the text is a template at its outer level
	prefixRun int
}

// prescan checks that src, about to be parsed as HCL config (template
// false) or as a template file (template true), nests no deeper than the
// bounds. It understands comments, strings, escapes, heredocs and
// template directives well enough to place the error on the opening
// character that went too deep.
func prescan(name string, src []byte, template bool) *hcl.Diagnostic {
	s := &scanner{name: name, src: src, pos: hcl.InitialPos, template: template}
	return s.run()
}

// mode is the kind of the innermost frame that decides how text reads:
// template text (", h, or t for the outer level of a template file) or an
// expression (a bracket, an interpolation, or e for the outer level of a
// config). Directive frames are transparent.
func (s *scanner) mode() byte {
	for j := len(s.stack) - 1; j >= 0; j-- {
		if k := s.stack[j].kind; k != 'd' {
			return k
		}
	}
	if s.template {
		return 't'
	}
	return 'e'
}

// advance moves past n bytes, keeping the position.
func (s *scanner) advance(n int) {
	for ; n > 0 && s.i < len(s.src); n-- {
		if s.src[s.i] == '\n' {
			s.pos.Line, s.pos.Column = s.pos.Line+1, 1
		} else if s.src[s.i]&0xC0 != 0x80 {
			s.pos.Column++
		}
		s.i++
		s.pos.Byte = s.i
	}
}

func (s *scanner) at(prefix string) bool { return bytes.HasPrefix(s.src[s.i:], []byte(prefix)) }

func (s *scanner) push(kind byte, marker []byte) *hcl.Diagnostic {
	if len(s.stack) >= maxNesting {
		return s.diag("Nested too deeply", fmt.Sprintf(
			"This opens a level more than the %d that brackets, braces, parentheses, strings, heredocs and template interpolations may nest; trail stops before parsing, as parsing this would exhaust the stack. Flatten the expression, with locals for the inner parts.",
			maxNesting))
	}
	s.stack = append(s.stack, scanFrame{kind: kind, marker: marker})
	return nil
}

// pop closes the innermost frame of one of kinds, with the directive
// frames above it; a stray closer closes nothing (the parser reports it).
func (s *scanner) pop(kinds string) {
	for j := len(s.stack) - 1; j >= 0; j-- {
		k := s.stack[j].kind
		if bytes.IndexByte([]byte(kinds), k) >= 0 {
			s.stack = s.stack[:j]
			return
		}
		if k != 'd' {
			return
		}
	}
}

func (s *scanner) diag(summary, detail string) *hcl.Diagnostic {
	end := s.pos
	end.Column++
	end.Byte++
	return errorf(&hcl.Range{Filename: s.name, Start: s.pos, End: end}, summary, "%s", detail)
}

func (s *scanner) run() *hcl.Diagnostic {
	lineStart := true
	for s.i < len(s.src) {
		var d *hcl.Diagnostic
		switch m := s.mode(); m {
		case 'e', '(', '[', '{', 'i':
			d = s.expr()
		case 'h':
			if lineStart && s.heredocEnd() {
				continue
			}
			d = s.text(m)
		default:
			d = s.text(m)
		}
		if d != nil {
			return d
		}
		lineStart = s.i > 0 && s.src[s.i-1] == '\n'
	}
	return nil
}

// expr scans one token's worth of expression text.
func (s *scanner) expr() *hcl.Diagnostic {
	c := s.src[s.i]
	if c == '-' || c == '!' {
		if s.prefixRun++; s.prefixRun > maxPrefixRun {
			return s.diag("Too many prefix operators", fmt.Sprintf(
				"More than %d - or ! operators in a row; trail stops before parsing, as parsing this would exhaust the stack. Write the value plainly.", maxPrefixRun))
		}
		s.advance(1)
		return nil
	}
	if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
		s.prefixRun = 0
	}
	switch {
	case c == '#' || s.at("//"):
		s.skipLine()
	case s.at("/*"):
		end := bytes.Index(s.src[s.i+2:], []byte("*/"))
		if end < 0 {
			s.advance(len(s.src))
		} else {
			s.advance(end + 4)
		}
	case c == '"':
		d := s.push('"', nil)
		s.advance(1)
		return d
	case s.at("<<"):
		return s.heredocStart()
	case c == '(' || c == '[' || c == '{':
		d := s.push(c, nil)
		s.advance(1)
		return d
	case c == ')':
		s.pop("(")
		s.advance(1)
	case c == ']':
		s.pop("[")
		s.advance(1)
	case c == '}':
		s.pop("{i")
		s.advance(1)
	default:
		s.advance(1)
	}
	return nil
}

// text scans template text: a quoted string, a heredoc's body or a
// template file.
func (s *scanner) text(m byte) *hcl.Diagnostic {
	c := s.src[s.i]
	switch {
	case m == '"' && c == '\\':
		s.advance(2)
	case m == '"' && c == '"':
		s.pop(`"`)
		s.advance(1)
	case m == '"' && c == '\n':
		s.pop(`"`) // an unterminated string: the parser says so
		s.advance(1)
	case s.at("$${") || s.at("%%{"):
		s.advance(3)
	case s.at("${"):
		d := s.push('i', nil)
		s.advance(2)
		return d
	case s.at("%{"):
		return s.directive()
	default:
		s.advance(1)
	}
	return nil
}

// directive opens %{ ... }: an if or for opens a block until its end.
func (s *scanner) directive() *hcl.Diagnostic {
	j := s.i + 2
	for j < len(s.src) && (s.src[j] == '~' || s.src[j] == ' ' || s.src[j] == '\t') {
		j++
	}
	word := s.src[j:]
	for k, ch := range word {
		if !(ch >= 'a' && ch <= 'z') {
			word = word[:k]
			break
		}
	}
	switch string(word) {
	case "if", "for":
		if d := s.push('d', nil); d != nil {
			return d
		}
	case "endif", "endfor":
		if n := len(s.stack); n > 0 && s.stack[n-1].kind == 'd' {
			s.stack = s.stack[:n-1]
		}
	}
	d := s.push('i', nil)
	s.advance(2)
	return d
}

// heredocStart opens <<MARKER or <<-MARKER at the end of its line; any
// other << is left to the parser.
func (s *scanner) heredocStart() *hcl.Diagnostic {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	k := j
	for k < len(s.src) && isIdentByte(s.src[k]) {
		k++
	}
	rest := s.src[k:]
	if k == j || !(bytes.HasPrefix(rest, []byte("\n")) || bytes.HasPrefix(rest, []byte("\r\n"))) {
		s.advance(2)
		return nil
	}
	if d := s.push('h', s.src[j:k]); d != nil {
		return d
	}
	s.advance(k - s.i)
	s.skipLine()
	return nil
}

// heredocEnd closes the heredoc when the line starting here is its
// marker, as the parser does (leading and trailing blanks allowed).
func (s *scanner) heredocEnd() bool {
	line := s.src[s.i:]
	if n := bytes.IndexByte(line, '\n'); n >= 0 {
		line = line[:n]
	}
	var marker []byte
	for j := len(s.stack) - 1; j >= 0 && marker == nil; j-- {
		if s.stack[j].kind == 'h' {
			marker = s.stack[j].marker
		}
	}
	if !bytes.Equal(bytes.Trim(line, " \t\r"), marker) {
		return false
	}
	s.pop("h")
	s.advance(len(line))
	return true
}

func (s *scanner) skipLine() {
	n := bytes.IndexByte(s.src[s.i:], '\n')
	if n < 0 {
		n = len(s.src) - s.i - 1
	}
	s.advance(n + 1)
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// lfsSignature starts every Git LFS pointer file.
const lfsSignature = "version https://git-lfs.github.com/spec/v1"

// lfsPointer refuses a file that is a Git LFS pointer: trail reads git's
// objects and never runs git lfs on a host, so the file's content is not
// there, and deploying the pointer's text would be wrong without a word.
func lfsPointer(name string, data []byte) error {
	if len(data) > 1024 || !bytes.HasPrefix(data, []byte(lfsSignature)) {
		return nil
	}
	return fmt.Errorf("%s is a Git LFS pointer, not the file's content: trail reads files from git objects and does not run git lfs on hosts; the repository must hold the real content (git lfs migrate export --include=%q, then commit)", name, name)
}

// shortLine reports whether the line holding offset is short enough to
// show as a snippet: a hostile file may be one line of megabytes.
func shortLine(src []byte, offset int) bool {
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := bytes.IndexByte(src[offset:], '\n')
	if end < 0 {
		end = len(src) - offset
	}
	return offset+end-start <= 300
}
