package fsx

import (
	"path/filepath"
	"testing"
)

// Made holds the directories Mkdir made, not one that was there or one
// made and removed again, until ForgetMade; Forget, which each batch
// calls, keeps them.
func TestMade(t *testing.T) {
	r, dir := newRoot(t)
	mustMkdir(t, filepath.Join(dir, "old"))
	for _, p := range []string{"/old/new", "/old/new/sub", "/gone"} {
		if err := r.Mkdir(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Rmdir("/gone"); err != nil {
		t.Fatal(err)
	}
	r.Forget()
	want := map[string]bool{"/": false, "/old": false, "/old/new": true, "/old/new/sub": true, "/gone": false}
	for p, made := range want {
		if r.Made(p) != made {
			t.Errorf("Made(%s) = %v, want %v", p, !made, made)
		}
	}
	r.ForgetMade()
	if r.Made("/old/new") {
		t.Fatal("ForgetMade kept /old/new")
	}
}
