package stepfmt

import (
	"testing"
)

// FuzzParse feeds arbitrary text to the parser: it must never panic, every
// error must carry a line inside the input, and whatever parses cleanly must
// print and parse back to the same steps.
func FuzzParse(f *testing.F) {
	f.Add([]byte("TRAIL v1 commit=abc host=h\nDIR /etc/a mode=755 @a.hcl:1\n"))
	f.Add([]byte("FILE \"/a b\" " + testHash + " owner=0 @\"x y:3-4\"\n# c\n\n"))
	f.Add([]byte("CMD c run=\"echo \\\"x\\\"\" undo=true timeout=1s\r\nLINK /a /b\n"))
	f.Add([]byte("USER u uid=1 groups=b,a\nUNIT a.service restart-on=/a,/b\nINCLUDE x\n"))
	f.Add([]byte("FILE /etc/db.pass " + testHash + " secret=age mode=0600\nUSER u password=\"$y$j9T$x\"\n"))
	f.Add([]byte("FILE /etc/s " + testHash + " validate=\"visudo -cf %s\"\nEDIT /etc/ssh/c " + testHash + " validate=\"sshd -t -f %s\"\nATTRS /etc/shadow mode=640 group=shadow\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, errs := Parse("f", data)
		lines := 1
		for _, c := range data {
			if c == '\n' {
				lines++
			}
		}
		for _, e := range errs {
			if e.Src.Line < 1 || e.Src.Line > lines {
				t.Fatalf("error outside the input (%d lines): %v", lines, e)
			}
		}
		_ = Validate(l)
		if len(errs) > 0 {
			return
		}
		checkRoundTrip(t, l)
	})
}

// FuzzRoundTrip builds a step from arbitrary strings; when the step is valid
// it must survive print -> parse unchanged, and printing must be stable.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(1), "/etc/x", "content", testHash, "mode", "644", "f.hcl", 3)
	f.Add(uint8(2), "/a b", "to", "=x @y #z", "owner", "0", "d d.hcl", 1)
	f.Add(uint8(9), "c", "run", "\"\\\n\t", "undo", "", "x:1", 9)
	f.Add(uint8(3), "/etc/ssh/sshd_config", "edits", testHash, "validate", "sshd -t -f '%s' && echo \"ok\"", "s.hcl", 2)
	f.Add(uint8(4), "/etc/shadow", "mode", "640", "group", "shadow", "a.hcl", 1)
	f.Add(uint8(1), "/etc/sudoers", "content", testHash, "validate", "visudo -cf %s", "s.hcl", 5)
	f.Fuzz(func(t *testing.T, k uint8, target, k1, v1, k2, v2, file string, line int) {
		kind := kinds[int(k)%len(kinds)].kind
		s := &Step{Kind: kind, Src: Source{File: file, Line: line}}
		var err error
		if s.Target, err = CanonTarget(kind, target); err != nil {
			return
		}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}} {
			c, err := Canon(kind, kv[0], kv[1])
			if err != nil {
				return
			}
			s.Set(kv[0], c)
		}
		if line < 1 || file == "" || !validSourceFile(file) {
			s.Src = Source{}
		}
		l := &List{Header: Header{Version: Version}, Steps: []*Step{s}}
		if len(validStepErrs(s)) > 0 {
			return
		}
		checkRoundTrip(t, l)
	})
}

func validStepErrs(s *Step) ErrorList {
	var errs ErrorList
	validStep(s, &errs, &stepMemo{})
	return errs
}

// validSourceFile reports whether a file name survives as a source: the
// source is split at its last colon, so a name ending in ":digits" cannot.
func validSourceFile(f string) bool {
	_, ok := ParseSource(f + ":1")
	src, _ := ParseSource(f + ":1")
	return ok && src.File == f
}

func checkRoundTrip(t *testing.T, l *List) {
	t.Helper()
	first := Format(l)
	back, errs := Parse("rt", first)
	if len(errs) > 0 {
		t.Fatalf("printed list does not parse: %v\n%s", errs, first)
	}
	if len(back.Steps) != len(l.Steps) || back.Header.Commit != l.Header.Commit || back.Header.Host != l.Header.Host {
		t.Fatalf("round trip changed the list:\n%s", first)
	}
	for i := range l.Steps {
		if !l.Steps[i].Equal(back.Steps[i]) {
			t.Fatalf("step %d changed: %v -> %v", i, l.Steps[i], back.Steps[i])
		}
		if !l.Steps[i].Src.IsZero() && l.Steps[i].Src != back.Steps[i].Src {
			t.Fatalf("step %d source changed: %v -> %v", i, l.Steps[i].Src, back.Steps[i].Src)
		}
	}
	// A step without a source gets its line in the printed file as source
	// when parsed back; from then on printing must be a fixed point.
	second := Format(back)
	again, _ := Parse("rt", second)
	if third := Format(again); string(third) != string(second) {
		t.Fatalf("printing is not stable:\n%s\n%s", second, third)
	}
	allSources := true
	for _, s := range l.Steps {
		allSources = allSources && !s.Src.IsZero()
	}
	if allSources && string(second) != string(first) {
		t.Fatalf("printing is not stable:\n%s\n%s", first, second)
	}
}
