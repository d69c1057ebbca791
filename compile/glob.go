package compile

import (
	"fmt"
	"path"
	"strings"
)

// glob is a path pattern over slash-separated relative paths: each
// segment is a path.Match pattern, and a "**" segment matches any number
// of segments, including none. An unanchored glob (one without a slash)
// matches the last segment only, at any depth, as .gitignore does.
type glob struct {
	raw      string
	segs     []string
	anchored bool
}

// compileGlob checks a pattern and prepares it for matching.
func compileGlob(p string) (glob, error) {
	g := glob{raw: p}
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return g, fmt.Errorf("empty pattern %q", p)
	}
	g.anchored = strings.Contains(trimmed, "/") || strings.HasPrefix(p, "/")
	g.segs = strings.Split(trimmed, "/")
	for _, s := range g.segs {
		if s == "" {
			return g, fmt.Errorf("pattern %q has an empty segment", p)
		}
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return g, fmt.Errorf("pattern %q: %w", p, err)
		}
	}
	return g, nil
}

// matchName is match for a path whose last segment is known: an
// unanchored glob needs only that.
func (g glob) matchName(rel, name string) bool {
	if !g.anchored {
		m, _ := path.Match(g.segs[0], name)
		return m
	}
	return g.match(rel)
}

// match reports whether rel, a clean relative path, matches.
func (g glob) match(rel string) bool {
	names := strings.Split(rel, "/")
	if !g.anchored {
		return len(g.segs) == 1 && matchSegs(g.segs, names[len(names)-1:])
	}
	return matchSegs(g.segs, names)
}

// matchSegs matches segment patterns against names by dynamic
// programming, so that many ** cannot make it exponential.
func matchSegs(pats, names []string) bool {
	// ok[j] reports whether pats[:i] matches names[:j].
	ok := make([]bool, len(names)+1)
	next := make([]bool, len(names)+1)
	ok[0] = true
	for _, p := range pats {
		for j := range next {
			next[j] = false
		}
		for j := 0; j <= len(names); j++ {
			if p == "**" {
				// ** eats names[k:j] for some k <= j.
				next[j] = ok[j] || (j > 0 && next[j-1])
				continue
			}
			if j > 0 && ok[j-1] {
				if m, _ := path.Match(p, names[j-1]); m {
					next[j] = true
				}
			}
		}
		ok, next = next, ok
	}
	return ok[len(names)]
}
