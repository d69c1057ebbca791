package fsx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A staged file ends with exactly the owner and mode asked for, whatever
// the umask and a setgid parent would give a new file, now that they are
// set only where the new file differs.
func TestStageOwnerAndModeExact(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files other owners")
	}
	r, dir := newRoot(t)
	sg := filepath.Join(dir, "sg")
	mustMkdir(t, sg)
	if err := os.Chown(sg, 0, 9); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sg, 0o2775); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	cases := []struct {
		p              string
		mode, uid, gid uint32
	}{
		{"/sg/a", 0o644, 0, 0},
		{"/sg/b", 0o640, 0, 0},
		{"/sg/c", 0o664, 7, 8},
		{"/sg/d", 0o755, 0, 9},
		{"/sg/e", 0o4755, 7, 8},
		{"/sg/f", 0o2750, 0, 0},
		{"/sg/g", 0o1777, 0, 0},
		{"/sg/h", 0, 0, 0},
	}
	for _, c := range cases {
		if err := r.Stage(c.p, strings.NewReader("content of "+c.p), c.mode, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		st, err := r.Lstat(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode != c.mode || st.UID != c.uid || st.GID != c.gid {
			t.Errorf("%s: mode %04o owner %d:%d, want %04o %d:%d", c.p, st.Mode, st.UID, st.GID, c.mode, c.uid, c.gid)
		}
		if b, err := r.ReadFile(c.p); err != nil || string(b) != "content of "+c.p {
			t.Errorf("%s holds %q, %v", c.p, b, err)
		}
	}
}

// A file is made with no more group permission than others get, so that a
// group a setgid parent gives it before its own is set can read nothing
// everyone else cannot; and with no more for others than its group and
// owner get, so that a group or an owner the mode shuts out cannot open it
// before its owner and group are set.
func TestCreatePerm(t *testing.T) {
	for mode, want := range map[uint32]uint32{
		0o644: 0o644, 0o755: 0o755, 0o600: 0o600, 0o640: 0o600, 0o660: 0o600,
		0o664: 0o644, 0o750: 0o700, 0o604: 0o600, 0o777: 0o777, 0o070: 0o000,
		0o606: 0o600, 0o044: 0o000, 0o754: 0o744, 0o774: 0o744, 0o705: 0o700,
	} {
		if got := createPerm(mode); got != want {
			t.Errorf("createPerm(%04o) = %04o, want %04o", mode, got, want)
		}
	}
	// Whatever the mode, the group and others of the new file get only
	// what every class of the mode grants, and its owner its own bits.
	for mode := uint32(0); mode <= 0o777; mode++ {
		got := createPerm(mode)
		all := (mode >> 6) & (mode >> 3) & mode & 0o7
		if got&0o700 != mode&0o700 || (got>>3)&0o7&^all != 0 || got&0o7&^all != 0 {
			t.Errorf("createPerm(%04o) = %04o grants more than %04o does to all", mode, got, mode)
		}
	}
}

// Stage writes through the root's own File: a new one for each file
// escaped to the heap, one allocation more a file a big tree stages.
func TestStageAllocations(t *testing.T) {
	r, _ := newRoot(t)
	data := []byte("content")
	rd := bytes.NewReader(data)
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(data)
		if err := r.Stage("/f", rd, 0o644, uint32(os.Geteuid()), uint32(os.Getegid())); err != nil {
			t.Fatal(err)
		}
		r.Abort()
	})
	if allocs > 4 {
		t.Fatalf("Stage allocated %v times, want at most 4", allocs)
	}
}
