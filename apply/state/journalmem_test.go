package state

import (
	"os"
	"path/filepath"
	"testing"

	"trail/apply/kind"
	"trail/stepfmt"
)

// A batch of intents is written as the journal passes a chunk, not held
// whole until its sync (4,096 of them held 1.5 MB until the apply's
// end), and every one is there once synced, in order.
func TestJournalHoldsAChunk(t *testing.T) {
	file := filepath.Join(t.TempDir(), "journal")
	j, err := BeginJournal(file, &Generation{Number: 2, From: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	const n = 4096
	for i := range n {
		s := &stepfmt.Step{Kind: stepfmt.KindFile, Target: "/srv/site/d1/f" + string(rune('a'+i%26)) + "/some/longer/path/of/a/file"}
		s.Set("content", kind.HashKey([]byte{byte(i)}))
		j.Intent(i, stepfmt.OpAdd, s, kind.Absent())
		if c := j.buf.Cap(); c > 2*journalChunk {
			t.Fatalf("after %d intents the journal holds a buffer of %d bytes, want at most %d", i+1, c, 2*journalChunk)
		}
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	js, err := ParseJournal(file, data)
	if err != nil || len(js.Intents) != n {
		t.Fatalf("journal: %v, %d intents, want %d", err, len(js.Intents), n)
	}
	for i, in := range js.Intents {
		if in.i != i {
			t.Fatalf("intent %d is change %d", i, in.i)
		}
	}
}
