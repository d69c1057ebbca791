package stepfmt

import (
	"bytes"
	"strings"
	"testing"
)

// A USER's password hash is shown as (hidden) by Masked and by the plan's
// attribute lines; the list itself keeps it, and Masked leaves the step
// it was given alone.
func TestMaskedHidesPasswords(t *testing.T) {
	const hash = "$y$j9T$salt$hashhashhash"
	old, errs := Parse("a", []byte("USER u uid=1000 password=\"$y$j9T$salt$old\"\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	l, errs := Parse("b", []byte("USER u uid=1000 password=\""+hash+"\"\nFILE /etc/x "+testHash+" secret=age\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	u := l.Steps[0]
	m := Masked(u)
	if strings.Contains(m.String(), hash) || m.Value("password") != Hidden {
		t.Errorf("masked: %s", m)
	}
	if u.Value("password") != hash {
		t.Errorf("Masked changed the step it was given: %s", u)
	}
	if Masked(l.Steps[1]) != l.Steps[1] {
		t.Error("a step with nothing hidden is not returned as it is")
	}
	var b bytes.Buffer
	if err := PrintPlan(&b, Diff(old.Steps, l.Steps[:1])); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "$y$") || !strings.Contains(b.String(), "password: (hidden) -> (hidden)") {
		t.Errorf("plan:\n%s", b.String())
	}
}

// secret takes only age, and a FILE's secret is part of its identity's
// attributes: changing it is a modify.
func TestSecretAttr(t *testing.T) {
	_, errs := Parse("a", []byte("FILE /etc/x "+testHash+" secret=gpg\n"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "write secret=age") {
		t.Errorf("secret=gpg: %v", errs)
	}
	l, errs := Parse("a", []byte("FILE /etc/x "+testHash+" mode=0600 secret=age\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := l.Steps[0].String(); got != "FILE /etc/x "+testHash+" secret=age mode=0600 @a:1" {
		t.Errorf("printed %q", got)
	}
}
