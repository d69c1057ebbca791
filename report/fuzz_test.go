package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNative: whatever the values, journald decodes exactly the fields
// that were sent, and cutting keeps values valid and bounded.
func FuzzNative(f *testing.F) {
	f.Add("hello", "a\nb", 0)
	f.Add("", "\n", 3)
	f.Add("=x=", "TRAIL_X=1\nMESSAGE=forged", 5)
	f.Add("ééé", "\x00\xff", 2)
	f.Fuzz(func(t *testing.T, msg, extra string, max int) {
		r := Record{Event: EventStep, Message: msg, Extra: map[string]string{"TRAIL_OUTPUT": extra}}
		fs, err := r.Fields()
		if msg == "" {
			if err == nil {
				t.Fatal("empty message accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseNative(appendNative(nil, fs))
		if err != nil {
			t.Fatalf("undecodable: %v", err)
		}
		if !slices.Equal(got, fs) {
			t.Fatalf("decoded %q, sent %q", got, fs)
		}
		max %= 64
		var cutNames []string
		for i, f := range cut(fs, max) {
			if f.Name == "TRAIL_TRUNCATED" {
				if f.Value != strings.Join(cutNames, ",") {
					t.Fatalf("TRAIL_TRUNCATED=%q, cut %q", f.Value, cutNames)
				}
				continue
			}
			orig := fs[i].Value
			if f.Value == orig {
				continue
			}
			cutNames = append(cutNames, f.Name)
			kept, _, ok := strings.Cut(f.Value, "… [")
			if !ok || max <= 0 || len(orig) <= max || len(kept) > max || !strings.HasPrefix(orig, kept) {
				t.Fatalf("%s of %d bytes cut at %d to %q", f.Name, len(orig), max, f.Value)
			}
			if marker := fmt.Sprintf("… [%d bytes cut]", len(orig)-len(kept)); f.Value != kept+marker {
				t.Fatalf("%s: marker %q, want %q", f.Name, f.Value[len(kept):], marker)
			}
			if utf8.ValidString(orig) && !utf8.ValidString(f.Value) {
				t.Fatalf("cut %s broke UTF-8: %q", f.Name, f.Value)
			}
		}
	})
}

// FuzzLogfmt: whatever the values, a record is one line that reads back
// to the same message and extra value.
func FuzzLogfmt(f *testing.F) {
	f.Add("applied", "x", "TRAIL_OUTPUT")
	f.Add("a\nb \"c\" d=e", "\\", "FOO")
	f.Add("\x00\xff\u2028", " ", "_BAD")
	f.Add("m", "v", "MSG")
	f.Fuzz(func(t *testing.T, msg, value, name string) {
		r := Record{Event: EventStep, Message: msg, Extra: map[string]string{name: value}}
		line, err := AppendLogfmt(nil, r)
		if err != nil {
			if msg != "" && checkFieldName(name) == nil {
				t.Fatalf("valid record refused: %v", err)
			}
			return
		}
		pairs, err := parseLogfmt(string(line))
		if err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		got := map[string]string{}
		for _, p := range pairs {
			if _, dup := got[p[0]]; dup {
				t.Fatalf("key %s twice in %q", p[0], line)
			}
			got[p[0]] = p[1]
		}
		if got["msg"] != msg {
			t.Fatalf("msg %q, want %q", got["msg"], msg)
		}
		if v, ok := got[logfmtKey(name)]; value != "" && (!ok || v != value) {
			t.Fatalf("%s = %q, want %q", logfmtKey(name), v, value)
		}
	})
}
