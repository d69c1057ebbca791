package packages

import (
	"reflect"
	"strings"
	"testing"

	"trail/apply/kind"
)

// The marks before an install survive the journal's text form, leave out
// a name no list can hold, and go once the amend names what the install
// made.
func TestPkgUndoImageMarks(t *testing.T) {
	had := machineMarks{users: map[string]bool{"root": true, "odd,name": true}, groups: map[string]bool{"root": true},
		Links: map[string]bool{"/etc/systemd/system/multi-user.target.wants/a.service": true}}
	img := pimgPkg{pkgStatus: pkgStatus{State: kind.StateAbsent}, brings: "trail-b", had: &had}.Image()
	back, err := kind.ParseImage(img.String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Unpack(back)
	if err != nil {
		t.Fatal(err)
	}
	want := machineMarks{users: map[string]bool{"root": true}, groups: map[string]bool{"root": true}, Links: had.Links}
	if p.had == nil || !reflect.DeepEqual(*p.had, want) {
		t.Fatalf("had after the journal: %+v, want %+v", p.had, want)
	}
	amended, err := Package{}.WithBrought(back, []string{"trail-b", "user:svc"})
	if err != nil {
		t.Fatal(err)
	}
	if s := amended.String(); strings.Contains(s, "had-") || !strings.Contains(s, "users=svc") {
		t.Fatalf("amended undo image %q: want users=svc and no had- lists", s)
	}
}
