package compile

import "testing"

func TestGlob(t *testing.T) {
	tests := map[string]struct {
		pattern string
		match   []string
		miss    []string
	}{
		"name at any depth":  {pattern: "*.swp", match: []string{"a.swp", "x/y/.a.swp"}, miss: []string{"a.swp/x", "swp"}},
		"anchored":           {pattern: "/cache", match: []string{"cache"}, miss: []string{"x/cache", "cache/a"}},
		"anchored path":      {pattern: "drafts/*.html", match: []string{"drafts/a.html"}, miss: []string{"drafts/x/a.html", "x/drafts/a.html"}},
		"double star middle": {pattern: "a/**/z", match: []string{"a/z", "a/b/z", "a/b/c/z"}, miss: []string{"a", "b/a/z", "a/z/x"}},
		"double star end":    {pattern: "a/**", match: []string{"a", "a/b", "a/b/c"}, miss: []string{"b/a"}},
		"double star start":  {pattern: "**/*.conf", match: []string{"x.conf", "a/b/x.conf"}, miss: []string{"x.conf/y"}},
		"many double stars":  {pattern: "**/**/**/**/**/**/**/**/x", match: []string{"x", "a/b/c/d/e/f/g/h/i/j/k/x"}, miss: []string{"a/b/c/d/e/f/g/h/i/j/k/y"}},
		"character class":    {pattern: "[ab].txt", match: []string{"a.txt", "d/b.txt"}, miss: []string{"c.txt"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, err := compileGlob(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.match {
				if !g.match(p) {
					t.Errorf("%q should match %q", tc.pattern, p)
				}
			}
			for _, p := range tc.miss {
				if g.match(p) {
					t.Errorf("%q should not match %q", tc.pattern, p)
				}
			}
		})
	}
	for _, bad := range []string{"", "/", "a//b", "[x"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("compileGlob(%q) succeeded", bad)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"hostname", "fqdn", "memory_mb"}
	tests := map[string]string{
		"hostnme":   ` Did you mean "hostname"?`,
		"memroy_mb": ` Did you mean "memory_mb"?`,
		"zzz":       "",
		"":          "",
	}
	for in, want := range tests {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
