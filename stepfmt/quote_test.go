package stepfmt

import "testing"

// TestQuote: one rule for step lines and state files; a value after key=
// may hold '=', '@' and '#' bare, a word of a step line may not.
func TestQuote(t *testing.T) {
	tests := []struct{ in, word, value string }{
		{"/etc/motd", "/etc/motd", "/etc/motd"},
		{"a=b", `"a=b"`, "a=b"},
		{"@x", `"@x"`, "@x"},
		{"#x", `"#x"`, "#x"},
		{"two words", `"two words"`, `"two words"`},
		{"", `""`, `""`},
		{`"q`, `"\"q"`, `"\"q"`},
		{"tab\there", `"tab\there"`, `"tab\there"`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.word {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.word)
		}
		if got := QuoteValue(tc.in); got != tc.value {
			t.Errorf("QuoteValue(%q) = %s, want %s", tc.in, got, tc.value)
		}
		for _, q := range []string{tc.word, tc.value} {
			v, rest, err := ReadValue(q + " next")
			if err != nil || v != tc.in || rest != " next" {
				t.Errorf("ReadValue(%s) = %q, %q, %v", q, v, rest, err)
			}
		}
	}
	for _, bad := range []string{"", "a\x01", `"open`} {
		if _, _, err := ReadValue(bad); err == nil {
			t.Errorf("ReadValue(%q) accepted", bad)
		}
	}
}
