package state_test

import (
	"bytes"
	"testing"

	"trail/apply/state"
)

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func FuzzParseApplied(f *testing.F) {
	f.Add([]byte("TRAIL-APPLIED v1 generation=3\nFILE\t/etc/x\treport\tabsent\tfile content=sha256:" + zeros + "\n"))
	f.Add([]byte("TRAIL-APPLIED v1 generation=0\n"))
	f.Add([]byte("TRAIL-APPLIED v1 generation=1\nDIR\t\"/a b\"\theal\tdir mode=0755 uid=0 gid=0\tdir\nDIR\t/a\tx\ty\tz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := state.ParseApplied("applied", data)
		if err != nil {
			return
		}
		again, err := state.ParseApplied("applied", a.Format())
		if err != nil {
			t.Fatalf("formatted record does not parse: %v\n%s", err, a.Format())
		}
		if !bytes.Equal(again.Format(), a.Format()) {
			t.Fatalf("record round trip differs:\n%s\n%s", a.Format(), again.Format())
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("TRAIL-INDEX v1 asof=5\n1 2 3 4 " + zeros + " /etc/x\n"))
	f.Add([]byte("TRAIL-INDEX v1 asof=5\n1 2 3 4 " + zeros + " \"/a b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := state.ParseIndex(data)
		if err != nil {
			return
		}
		ix.File, ix.Dirty = t.TempDir()+"/index", true
		if err := ix.Save(); err != nil {
			t.Fatal(err)
		}
		back := state.LoadIndex(ix.File)
		if back.Len() != ix.Len() {
			t.Fatalf("index round trip lost entries: %d != %d", back.Len(), ix.Len())
		}
	})
}

func FuzzParseJournal(f *testing.F) {
	f.Add([]byte(`{"op":"begin","gen":2,"from":1,"commit":"c"}
{"op":"intent","i":0,"change":"add","step":"FILE /etc/x sha256:` + zeros + ` @a:1","undo":"absent"}
{"op":"done","i":0}
`))
	f.Add([]byte(`{"op":"begin","gen":2}` + "\n" + `{"op":"intent","i":1,"step":"DIR /a","undo":"dir mode=0755"}` + "\n{\"op\":\"do"))
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := state.ParseJournal("journal", data)
		if err != nil {
			return
		}
		if js.Gen <= 0 {
			t.Fatalf("journal accepted without a begin entry")
		}
		for _, in := range js.Intents {
			if in.Step == nil {
				t.Fatal("intent without a step")
			}
		}
	})
}
