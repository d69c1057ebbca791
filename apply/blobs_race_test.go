package apply

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"trail/apply/state"
)

// Status's store check (CheckBlobs) takes no lock: run beside applies
// that replace the applied record with one whose pre-images went into a
// new pack, it reads one record or the other whole and finds every
// content it names, never one "missing" that the store holds.
func TestCheckBlobsBesideAnApply(t *testing.T) {
	sb := newSandbox(t)
	sb.opts.AllowMassRemoval = true
	sb.open()
	sb.apply(anchors, "c0")
	w, err := Open(sb.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const files, rounds = 2 * 40, 6
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var problems []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			probs, err := w.CheckBlobs()
			if err != nil {
				problems = append(problems, err.Error())
				return
			}
			for _, p := range probs {
				problems = append(problems, fmt.Sprintf("%+v", p))
			}
			if len(problems) > 0 {
				return
			}
		}
	}()
	for r := 1; r <= rounds; r++ {
		var b strings.Builder
		b.WriteString(anchors)
		for i := range files {
			p := fmt.Sprintf("/srv/r%d/f%d", r, i)
			sb.write(p, fmt.Sprintf("was %d %d", r, i), 0o644) // a pre-image to capture, packed
			fmt.Fprintf(&b, "FILE %s {now %d %d}\n", p, r, i)
		}
		if _, err := sb.applyErr(b.String(), fmt.Sprint("c", r)); err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("a store check beside an apply found %d problems, first %s", len(problems), problems[0])
	}
	if packs, _ := filepath.Glob(filepath.Join(sb.e.Store().Dir, state.DirPack, "*")); len(packs) < rounds {
		t.Fatalf("the applies wrote %d pack files: the pre-images were not packed, the test would not test it", len(packs))
	}
	if probs, err := w.CheckBlobs(); err != nil || len(probs) != 0 {
		t.Fatalf("after the applies: %v, %v", probs, err)
	}
}
