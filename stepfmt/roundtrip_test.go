package stepfmt

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRoundTrip prints tricky lists and checks that they parse back to the
// same steps (sources included) and print again to the same bytes.
func TestRoundTrip(t *testing.T) {
	hash := "sha256:" + string(bytes.Repeat([]byte("ab"), 32))
	tests := map[string]*List{
		"plain": {Header: Header{Version: Version, Commit: "3f2a1c", Host: "web1"}, Steps: []*Step{
			{Kind: KindDir, Target: "/etc/app", Attrs: []Attr{{"mode", "0755"}}, Src: Source{"web.hcl", 3, 0}},
			{Kind: KindFile, Target: "/etc/app/a", Attrs: []Attr{{"content", hash}, {"owner", "root"}}, Src: Source{"web.hcl", 4, 9}},
		}},
		"quoting": {Header: Header{Version: Version, Commit: "with space", Host: "h=1"}, Steps: []*Step{
			{Kind: KindDir, Target: "/srv/a b", Src: Source{"dir with space/x.hcl", 1, 0}},
			{Kind: KindLink, Target: "/srv/a b/=eq", Attrs: []Attr{{"to", "@at"}}, Src: Source{"x.hcl", 2, 0}},
			{Kind: KindLink, Target: "/srv/#hash", Attrs: []Attr{{"to", "#not a comment"}}, Src: Source{"@x.hcl", 3, 0}},
			{Kind: KindCommand, Target: "c", Attrs: []Attr{{"run", "echo \"q\" \\ \t\n"}, {"undo", ""}, {"timeout", "1s"}}, Src: Source{"x.hcl", 4, 0}},
			{Kind: KindCommand, Target: "d", Attrs: []Attr{{"run", "\xff\xfe invalid utf8"}, {"undo", "é"}, {"timeout", "1s"}}, Src: Source{"x.hcl:7", 5, 0}},
		}},
	}
	for name, l := range tests {
		t.Run(name, func(t *testing.T) {
			first := Format(l)
			back, errs := Parse("x", first)
			require.Empty(t, errs, "printed:\n%s", first)
			require.Equal(t, l.Header, back.Header)
			require.Len(t, back.Steps, len(l.Steps))
			for i := range l.Steps {
				require.True(t, l.Steps[i].Equal(back.Steps[i]), "step %d: %v != %v", i, l.Steps[i], back.Steps[i])
				require.Equal(t, l.Steps[i].Src, back.Steps[i].Src)
			}
			require.Equal(t, string(first), string(Format(back)), "printing is not stable")
		})
	}
}
