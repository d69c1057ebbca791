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

// A script makes an account on a line with an account tool or file, or
// in a sysusers.d entry; it makes a link by enabling or linking the
// unit. Using the name elsewhere is not making it.
func TestMakesWord(t *testing.T) {
	cases := []struct {
		text, kind, word string
		want             bool
	}{
		{"adduser --system --group www\n", "user", "www", true},
		{"useradd -r trail-d", "user", "trail-d", true},
		{"echo 'www:x:990:990::' >>/etc/passwd", "user", "www", true},
		{"echo 'www:x:990:' >>/etc/group", "group", "www", true},
		{"u www - \"web server\" /var/www\n", "user", "www", true},
		{"g www -\n", "group", "www", true},
		{"u! www - \"web server\"\n", "user", "www", true},
		{"getent passwd www >/dev/null ||\n\tuseradd --system --user-group \\\n\t\t--shell /usr/sbin/nologin www\n", "user", "www", true},
		{"mkdir -p /var/www\n", "user", "www", false},
		{"chown www:www /srv/site\n", "user", "www", false},
		{"adduser --system www\n", "user", "web", false},
		{"m trail www\n", "group", "www", false},
		{"deb-systemd-helper enable trail-d.service", "link", "trail-d.service", true},
		{"ln -s /lib/systemd/system/trail-d.service /etc/x", "link", "trail-d.service", true},
		{"deb-systemd-helper --quiet was-enabled trail-d.service", "link", "trail-d.service", false},
		{"systemctl restart trail-d.service", "link", "trail-d.service", false},
	}
	for _, c := range cases {
		if got := makesWord(c.text, c.kind, c.word); got != c.want {
			t.Errorf("makesWord(%q, %s, %q) = %v, want %v", c.text, c.kind, c.word, got, c.want)
		}
	}
}
