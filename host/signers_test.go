package host

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func testKey(t testing.TB, seed byte) ssh.PublicKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize)))
	k, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAllowedSignersFind(t *testing.T) {
	a, b := testKey(t, 0), testKey(t, 1)
	line := func(prefix string, k ssh.PublicKey) string {
		return prefix + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	file := strings.Join([]string{
		"# admins",
		line(`admin@example.org namespaces="file" `, a),
		line(`"admin@example.org,ops@example.org" valid-after="20260101Z",valid-before="20270101Z"`, a),
		"",
	}, "\n")
	s, err := ParseAllowedSigners([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[1].Line != 3 || s[1].Principals != "admin@example.org,ops@example.org" {
		t.Fatalf("parsed %+v", s)
	}
	in := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if got, err := s.Find(a, "git", in); err != nil || got.Line != 3 {
		t.Fatalf("Find in its time: %+v, %v", got, err)
	}
	if _, err := s.Find(a, "git", in.AddDate(2, 0, 0)); err == nil || !strings.Contains(err.Error(), "may not sign git commits") {
		t.Fatalf("Find after valid-before: %v", err)
	}
	if _, err := s.Find(b, "git", in); err == nil || !strings.Contains(err.Error(), "is not listed") {
		t.Fatalf("Find of an unlisted key: %v", err)
	}
	for _, bad := range []string{
		"admin@example.org",
		`"admin ` + line("", a),
		line("admin cert-authority", a),
		line(`admin valid-before="2026"`, a),
		line("admin no-such-option", a),
		"admin ssh-ed25519 AAAA!!",
	} {
		if _, err := ParseAllowedSigners([]byte("\n" + bad + "\n")); err == nil || !strings.HasPrefix(err.Error(), "line 2: ") {
			t.Errorf("%q: err %v, want one naming line 2", bad, err)
		}
	}
}

// FuzzAllowedSigners: any file parses or is refused with a line number,
// and never panics; a parsed key is found again.
func FuzzAllowedSigners(f *testing.F) {
	k := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testKey(f, 0))))
	for _, s := range []string{
		"admin@example.org " + k,
		`"a b" namespaces="git",valid-after="20200101" ` + k + " comment",
		"# c\n\nx cert-authority " + k,
		`x valid-before="20301231235959Z" ` + k,
		"\"unclosed",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseAllowedSigners(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, e := range s {
			if e.Key == nil || e.Principals == "" {
				t.Fatalf("entry without key or principals: %+v", e)
			}
			if _, err := s.Find(e.Key, "git", time.Time{}); err != nil && !strings.Contains(err.Error(), "may not sign") {
				t.Fatalf("listed key not found: %v", err)
			}
		}
	})
}
