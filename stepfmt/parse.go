package stepfmt

import (
	"strconv"
	"strings"
)

// token is one word of a step line.
type token struct {
	key    string // attribute key, "" for a positional word
	val    string
	hasKey bool
	source bool // the word was @file:line
}

// Parse reads a step list from data; name is used in error positions. It
// never panics and collects every error it finds. INCLUDE steps are kept as
// they are: Load resolves them. Steps with errors are left out of the list.
func Parse(name string, data []byte) (*List, ErrorList) {
	return ParseString(name, string(data))
}

// ParseString is Parse of text held as a string, which the steps then
// share instead of a copy of their own.
func ParseString(name, text string) (*List, ErrorList) {
	p := parser{name: name, text: text}
	p.list.Steps = make([]*Step, 0, strings.Count(p.text, "\n")+1)
	p.run()
	return &p.list, p.errs
}

type parser struct {
	name      string
	text      string
	list      List
	errs      ErrorList
	sawHeader bool
	sawStep   bool
	toks      []token
}

func (p *parser) run() {
	text := p.text
	for lineNo := 1; len(text) > 0; lineNo++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		p.line(lineNo, line)
	}
}

func (p *parser) line(n int, line string) {
	trimmed := strings.TrimLeft(line, " \t")
	if trimmed == "" || trimmed[0] == '#' {
		return
	}
	at := Source{File: p.name, Line: n}
	toks, msg := lex(trimmed, p.toks[:0])
	p.toks = toks
	if msg != "" {
		p.errs.add(at, "", "", "%s", msg)
		return
	}
	if toks[0].hasKey || toks[0].source {
		p.errs.add(at, "", "", "a line starts with a kind such as FILE or DIR, not %q", toks[0].key+"="+toks[0].val)
		return
	}
	if toks[0].val == "TRAIL" {
		p.header(at, toks[1:])
		return
	}
	p.sawStep = true
	if s := p.step(at, toks); s != nil {
		p.list.Steps = append(p.list.Steps, s)
	}
}

func (p *parser) header(at Source, toks []token) {
	if p.sawHeader {
		p.errs.add(at, "TRAIL", "", "a second header: a step list has one TRAIL line")
		return
	}
	if p.sawStep {
		p.errs.add(at, "TRAIL", "", "the header must come before the first step")
	}
	p.sawHeader = true
	if len(toks) == 0 || toks[0].hasKey || toks[0].source {
		p.errs.add(at, "TRAIL", "", "the header needs a format version: TRAIL %s commit=... host=...", Version)
		return
	}
	h := Header{Version: toks[0].val}
	if h.Version != Version {
		p.errs.add(at, "TRAIL", "", "format version %q is not supported: this trail reads %s", h.Version, Version)
	}
	for _, t := range toks[1:] {
		switch {
		case t.hasKey && t.key == "commit":
			h.Commit = t.val
		case t.hasKey && t.key == "host":
			h.Host = t.val
		default:
			p.errs.add(at, "TRAIL", "", "the header takes only commit= and host=, not %q", t.key+t.val)
		}
	}
	p.list.Header = h
}

// step builds one step from its tokens, reporting every problem on the line.
func (p *parser) step(at Source, toks []token) *Step {
	kind := Kind(toks[0].val)
	ks := specOf(kind)
	if ks == nil {
		p.errs.add(at, kind, "", "unknown kind (known: %s)", kindNames())
		return nil
	}
	if len(toks) < 2 || toks[1].hasKey || toks[1].source {
		p.errs.add(at, kind, "", "missing target after the kind")
		return nil
	}
	s := &Step{Kind: kind, Target: toks[1].val, Src: at}
	before := len(p.errs)
	if c, err := ks.target(s.Target); err != nil {
		p.errs.add(at, kind, s.Target, "%v", err)
	} else {
		s.Target = c
	}
	s.Attrs = make([]Attr, 0, len(toks)-2)
	for i, t := range toks[2:] {
		switch {
		case t.source:
			if i+2 != len(toks)-1 {
				p.errs.add(at, kind, s.Target, "the @source must be the last word on the line")
				continue
			}
			src, ok := ParseSource(t.val)
			if !ok {
				p.errs.add(at, kind, s.Target, "source %q is not file:line or file:line-line", t.val)
				continue
			}
			s.Src = src
		case !t.hasKey:
			if ks.positional == "" {
				p.errs.add(at, kind, s.Target, "unexpected word %q: attributes are written key=value", t.val)
				continue
			}
			p.setAttr(at, ks, s, ks.positional, t.val)
		default:
			p.setAttr(at, ks, s, t.key, t.val)
		}
	}
	for _, msg := range ks.shapeErrs(s) {
		p.errs.add(at, kind, s.Target, "%s", msg)
	}
	if len(p.errs) > before {
		return nil
	}
	sortAttrs(kind, s.Attrs)
	return s
}

func (p *parser) setAttr(at Source, ks *kindSpec, s *Step, key, val string) {
	as := ks.attr(key)
	if as == nil {
		p.errs.add(at, s.Kind, s.Target, "unknown attribute %q (%s takes: %s)", key, s.Kind, strings.Join(AttrKeys(s.Kind), ", "))
		return
	}
	if _, dup := s.Get(key); dup {
		p.errs.add(at, s.Kind, s.Target, "attribute %s given twice", key)
		return
	}
	c, err := as.typ(val)
	if err != nil {
		p.errs.add(at, s.Kind, s.Target, "%s: %v", key, err)
		return
	}
	s.Attrs = append(s.Attrs, Attr{key, c})
}

// ParseSource reads "file:line" or "file:line-end".
func ParseSource(v string) (Source, bool) {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 {
		return Source{}, false
	}
	file, lines := v[:i], v[i+1:]
	first, last, ranged := strings.Cut(lines, "-")
	a, err := strconv.Atoi(first)
	if err != nil || a <= 0 || first[0] == '+' {
		return Source{}, false
	}
	src := Source{File: file, Line: a}
	if ranged {
		b, err := strconv.Atoi(last)
		if err != nil || b <= a || last[0] == '+' {
			return Source{}, false
		}
		src.EndLine = b
	}
	return src, true
}

func kindNames() string {
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(k.kind))
	}
	return b.String()
}

// lex splits a non-empty, non-comment line into words. It returns a message
// instead of tokens when a quoted string is broken.
func lex(line string, toks []token) ([]token, string) {
	for i := 0; i < len(line); {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		var t token
		if c == '@' {
			t.source = true
			i++
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '"' &&
			!(line[i] == '=' && !t.source && !t.hasKey) {
			i++
		}
		if i < len(line) && line[i] == '=' {
			t.key, t.hasKey = line[start:i], true
			if t.key == "" {
				return nil, "an attribute needs a name before ="
			}
			i++
			start = i
			for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '"' {
				i++
			}
		}
		if i < len(line) && line[i] == '"' {
			if i != start {
				return nil, "a quote may only start a word or a value: quote the whole word"
			}
			q, err := strconv.QuotedPrefix(line[i:])
			if err != nil {
				return nil, "unterminated or invalid quoted string: quotes follow Go syntax"
			}
			v, _ := strconv.Unquote(q)
			t.val = v
			i += len(q)
			if i < len(line) && line[i] != ' ' && line[i] != '\t' {
				return nil, "a quoted string must be followed by a space or the end of the line"
			}
		} else {
			t.val = line[start:i]
			if t.val == "" && !t.hasKey {
				return nil, "an @ must be followed by file:line"
			}
		}
		toks = append(toks, t)
	}
	return toks, ""
}
