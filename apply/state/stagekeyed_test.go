package state_test

import (
	"strings"
	"testing"

	"trail/apply/kind"
	"trail/apply/state"
)

// StageKeyed stores contents under the keys they were hashed to, in the
// pack and as files of their own, as StageMany does; a content given
// under another key fails the staging, naming the key, and keeps nothing
// staged before it.
func TestStageKeyed(t *testing.T) {
	s, err := state.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := manyBlobs(300)
	blobs = append(blobs, blobs[7]) // staged twice, stored once
	keys := make([]string, len(blobs))
	for i, b := range blobs {
		keys[i] = kind.HashKey(b)
	}
	if err := s.StageKeyed(blobs[:100], keys[:100]); err != nil {
		t.Fatal(err)
	}
	if err := s.StageKeyed(blobs[100:], keys[100:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if data, err := s.Get(k); err != nil || string(data) != string(blobs[i]) {
			t.Fatalf("%s reads %.20q, %v; want %.20q", k, data, err, blobs[i])
		}
	}
	if packs, _ := packFiles(t, s); len(packs) != 1 {
		t.Fatalf("%d packs, want 1", len(packs))
	}

	fresh := [][]byte{[]byte("fresh one\n"), []byte("fresh two\n"), []byte("fresh three\n")}
	good := []string{kind.HashKey(fresh[0]), kind.HashKey(fresh[1]), kind.HashKey(fresh[2])}
	for name, bad := range map[string]string{
		"another content's": kind.HashKey([]byte("not it")),
		"upper case":        strings.ToUpper(good[1]),
		"not a key":         "sha256:xyz",
	} {
		err := s.StageKeyed(fresh, []string{good[0], bad, good[2]})
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), good[1]) {
			t.Fatalf("%s key: %v; want an error naming both keys", name, err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, k := range good {
			if s.Has(k) {
				t.Fatalf("%s key: %s was stored by a failed staging", name, k)
			}
		}
	}
	if err := s.StageKeyed(fresh, good[:2]); err == nil {
		t.Fatal("two keys for three contents staged")
	}
}
