package kind_test

import (
	"testing"

	"trail/apply/kind"
)

// CheckImageText accepts exactly the texts ParseImage reads.
func FuzzCheckImageText(f *testing.F) {
	for _, s := range []string{"absent", "file content=sha256:" + zeros + " mode=0644 uid=0 gid=0",
		`link to="a b" uid=1`, "dir mode=0755", `x k=""`, "a b", "a =", "a k=v  k2=v2", "a k=v ", "a k=v=w", "a k=\u00e9", "a k=\u00a0",
		"", " ", "a k=@x", "a k=#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := kind.ParseImage(s)
		if got := kind.CheckImageText([]byte(s)); got != (err == nil) {
			t.Fatalf("CheckImageText(%q) = %v, ParseImage: %v", s, got, err)
		}
	})
}
