package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// missing answers as a stat of each key would, whether it reads the
// store's directories and packs' indexes (many keys) or stats (few):
// blobs stored, of their own and packed, blobs removed behind the store's
// back, keys never stored and a malformed key.
func TestMissingMatchesHas(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	st := e.Store()
	var blobs [][]byte
	for i := 0; i < listFrom+100; i++ {
		blobs = append(blobs, fmt.Appendf(nil, "blob %d\n", i))
	}
	// The first half as blobs of their own (a flush of a few stores no
	// pack), the rest mostly packed.
	const half = listFrom / 2
	var keys []string
	for lo := 0; lo < half; lo += 32 {
		got, err := st.PutMany(blobs[lo:min(lo+32, half)])
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, got...)
	}
	got, err := st.PutMany(blobs[half:])
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, got...)
	if packs, _ := filepath.Glob(filepath.Join(st.Dir, "pack", "*.idx")); len(packs) != 1 {
		t.Fatalf("packs %v, want one", packs)
	}
	for i := 0; i < half; i += 37 {
		if err := os.Remove(st.Path(keys[i])); err != nil {
			t.Fatal(err)
		}
	}
	// Keys never stored, malformed (one a stored blob's name without its
	// prefix), and twice over (a removed and a stored one).
	keys = append(keys, "sha256:"+fmt.Sprintf("%064x", 7), "sha256:nothex", "md5:abc", "sha256:"+strings.Repeat("A", 64), keys[0], keys[1],
		strings.TrimPrefix(keys[1], "sha256:"))
	for _, n := range []int{10, len(keys)} {
		var want []string
		for _, k := range keys[len(keys)-n:] {
			if !st.Has(k) {
				want = append(want, k)
			}
		}
		if got := missing(st, keys[len(keys)-n:]); !slices.Equal(got, want) {
			t.Fatalf("%d keys: missing gives %d keys, a stat each %d:\n%v\nvs\n%v", n, len(got), len(want), got, want)
		}
		if n > 10 && len(want) < 25 {
			t.Fatalf("only %d keys missing", len(want))
		}
	}
}

// The directory is read in as many getdents calls as its entries take:
// a buffer of a few entries finds every name all the same.
func TestMarkPresentSmallBuffer(t *testing.T) {
	dir := t.TempDir()
	var want []keyDigest
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("%064x", i)
		if i%3 != 0 {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		d := keyDigest{i: int32(i)}
		hex.Decode(d.sum[:], []byte(name))
		want = append(want, d)
	}
	// Names that are no blob's are passed over.
	for _, name := range []string{"README", strings.Repeat("A", 64), strings.Repeat("0", 63)} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	found := make([]bool, 300)
	markPresent(dir, 0, make([]byte, 512), want, found)
	for i, f := range found {
		if f != (i%3 != 0) {
			t.Fatalf("entry %d: found %v, want %v", i, f, i%3 != 0)
		}
	}
}

// A compile for an apply stores the tree contents it reads as it reads
// them, so staging finds them all stored and reads none from git again;
// a compile for a plan stores nothing.
func TestCompileStoresWhatItReads(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	for i := 0; i < 40; i++ {
		p := filepath.Join(dir, "www", fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%d", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, fmt.Appendf(nil, "page %d\n", i%30), 0o644)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	full, err := h.Compile("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range full.Blobs {
		keys = append(keys, k)
	}
	if n := len(missing(e.Store(), keys)); n != 30 {
		t.Fatalf("after a compile for a plan the store lacks %d of 30 contents; want all", n)
	}
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if c.Refs.Len() != 0 {
		t.Fatalf("%d contents left to stage, want none: the compile stored them", c.Refs.Len())
	}
	if m := missing(e.Store(), keys); len(m) != 0 {
		t.Fatalf("after a compile for an apply the store lacks %d of 30 contents: %v", len(m), m)
	}
}

// A content two unchanged files share, which the store lost, is staged
// again by the compile of the next commit: the compile names it for both
// files (Refs lists each file), and staging reads it back by either.
func TestStageRestoresSharedContent(t *testing.T) {
	dir := testCheckout(t, "tree \"www\" {\n  path = \"/etc/www\"\n  source = \"www\"\n}\n")
	write := func(name, data string) {
		p := filepath.Join(dir, "www", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("d0/a", "same\n")
	write("d0/b", "same\n")
	write("d1/c", "other\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "tree")
	var out bytes.Buffer
	h, err := Open(dir, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	e, err := h.Engine()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("same\n"))
	key := "sha256:" + hex.EncodeToString(sum[:])
	if err := os.Remove(e.Store().Path(key)); err != nil {
		t.Fatalf("the shared content is not a file of the store: %v", err)
	}
	write("d1/c", "changed\n")
	gitIn(t, dir, "commit", "-q", "-am", "c")
	c, err := h.compileToApply("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for k := range c.Refs.All() {
		if k == key {
			named++
		}
	}
	if named != 2 {
		t.Fatalf("the compile named the shared content %d times; want 2, once a file", named)
	}
	if err := h.stage(c); err != nil {
		t.Fatal(err)
	}
	if m := missing(e.Store(), []string{key}); len(m) != 0 {
		t.Fatalf("staging left the shared content out of the store")
	}
}

// missing's hex reading agrees with encoding/hex on lower-case digits and
// takes no other.
func TestDecodeHex(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true}, {"00", true}, {"0123456789abcdef", true}, {strings.Repeat("f", 64), true},
		{"0A", false}, {"g0", false}, {"0x", false}, {" 0", false}, {"\xff0", false}, {"é", false},
	} {
		got := make([]byte, len(tc.in)/2)
		if ok := decodeHex(got, tc.in); ok != tc.ok {
			t.Errorf("decodeHex(%q) = %v, want %v", tc.in, ok, tc.ok)
		}
		if ok := decodeHex(got, []byte(tc.in)); ok != tc.ok {
			t.Errorf("decodeHex([]byte(%q)) = %v, want %v", tc.in, ok, tc.ok)
		}
		if want, _ := hex.DecodeString(tc.in); tc.ok && !bytes.Equal(got, want) {
			t.Errorf("decodeHex(%q) = %x, want %x", tc.in, got, want)
		}
	}
}
