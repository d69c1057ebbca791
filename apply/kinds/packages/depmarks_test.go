package packages

import "testing"

// A script names an account or unit as a word: not as part of a longer
// name (trail-d within trail-db or trail-d.service).
func TestNamesWord(t *testing.T) {
	cases := []struct {
		text, word string
		want       bool
	}{
		{"adduser --system --group trail-d\n", "trail-d", true},
		{"echo 'trail-d:x:990:990::' >>/etc/passwd", "trail-d", true},
		{"adduser --system trail-db", "trail-d", false},
		{"deb-systemd-helper enable trail-d.service", "trail-d", false},
		{"deb-systemd-helper enable trail-d.service", "trail-d.service", true},
		{"ln -s /lib/systemd/system/trail-d.service /etc/x", "trail-d.service", true},
		{"xtrail-d trail-d2 trail-d", "trail-d", true},
		{"anything", "", false},
	}
	for _, c := range cases {
		if got := namesWord(c.text, c.word); got != c.want {
			t.Errorf("namesWord(%q, %q) = %v, want %v", c.text, c.word, got, c.want)
		}
	}
}
