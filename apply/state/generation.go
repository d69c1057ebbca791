package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"trail/internal/atomicfile"
	"trail/stepfmt"
)

// The results of an apply, as a Generation records them.
const (
	ResultRunning     = "running"     // in progress, or the process died: see the journal
	ResultOK          = "ok"          // every change made; this is the current generation
	ResultFailed      = "failed"      // a step failed; the apply was undone
	ResultRefused     = "refused"     // nothing was changed: a plan-time error or the mass-removal guard
	ResultInterrupted = "interrupted" // the process died; undone when trail next opened its state
)

// Meta says what an apply applies: the commit, branch and host it was
// compiled for, and the commit's subject line for humans.
type Meta struct {
	Commit, Branch, Host, Subject string
	// Deliberate marks an apply of a commit an admin named (a checkout
	// of it, an apply or a rollback to it) rather than one that arrived by
	// itself (a pull, the timer): the mass-removal guard lets it remove
	// everything, since rolling back to before trail must restore the
	// machine.
	Deliberate bool
	// Force re-checks every step the list shares with the applied one
	// against the machine and puts back each target that drifted, whatever
	// its drift policy: the admin asks for the machine to match the list.
	// It goes the way of any change: journaled, its pre-image saved, the
	// drift reported. Nothing drifted and the same list for the same
	// commit is still the no-op path, and writes nothing but the drift
	// index (a cache) when its check hashed many files again.
	Force bool
	// ReadFrom, when not zero, says the list is generation ReadFrom's
	// step list as Generation.Steps read it, unchanged (a compile taken
	// from the cache): an apply over that generation knows the list is
	// the applied one without printing it to compare, nor validating it
	// again (it was when it was applied). The caller must set it only for
	// a list this trail applied: one a trail of other rules validated is
	// read from no cache of this one's.
	ReadFrom int
	// Fetch, when set, puts into the store contents the list names that
	// the caller did not check were there (a --force over the applied
	// generation's list, whose contents were all there when it was
	// applied). The plan calls it once, with the keys of the contents its
	// changes need that the store lacks, before it checks them; an error
	// is the plan's, and nothing is changed.
	Fetch func(keys []string) error
}

// Counts are the numbers of an apply.
type Counts struct {
	Added     int `json:"added"`
	Modified  int `json:"modified"`
	Removed   int `json:"removed"`
	Unchanged int `json:"unchanged"`
	Drifted   int `json:"drifted"`
	// DriftedGone of Drifted were found removed: nothing to save.
	DriftedGone int `json:"drifted_gone,omitempty"`
	Kept        int `json:"kept"`
}

// DriftNote is a target found drifted while an apply changed it: what trail
// had written (Before) and what was there instead (After), saved in the
// store before it was overwritten.
type DriftNote struct {
	Step   string `json:"step"`
	Source string `json:"source,omitempty"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Generation is the record of one apply.
type Generation struct {
	Number      int         `json:"generation"`
	From        int         `json:"from"` // the generation current before it
	Commit      string      `json:"commit"`
	Branch      string      `json:"branch,omitempty"`
	Host        string      `json:"host,omitempty"`
	Subject     string      `json:"subject,omitempty"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end,omitzero"`
	Result      string      `json:"result"`
	Counts      Counts      `json:"counts"`
	Error       string      `json:"error,omitempty"`
	ErrorStep   string      `json:"error_step,omitempty"`
	ErrorSource string      `json:"error_source,omitempty"`
	Drift       []DriftNote `json:"drift,omitempty"`
	Kept        []string    `json:"kept,omitempty"`
	// StepsPruned is set by gc when it removed the step list: the record
	// stays for trail log, rollback (which compiles the commit again)
	// and the metrics' counters.
	StepsPruned bool `json:"steps_pruned,omitempty"`

	// NoOp is set on the generation Apply returns when the list was
	// already applied for the same commit (by another trail meanwhile,
	// or before): it is the applied generation, and its Counts are that
	// apply's, not this call's, which changed and recorded nothing.
	NoOp bool `json:"-"`

	// Dir is the generations directory it is kept in, where Steps reads.
	Dir string `json:"-"`
}

// Steps reads the step list the generation applied.
func (g *Generation) Steps() (*stepfmt.List, error) {
	file := filepath.Join(g.Dir, genName(g.Number)+".steps")
	if g.StepsPruned {
		return nil, fmt.Errorf("state: generation %d's step list was pruned by trail gc: compile its commit %s again", g.Number, g.Commit)
	}
	text, err := ReadString(file)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	l, errs := stepfmt.ParseString(file, text)
	if len(errs) > 0 {
		return nil, fmt.Errorf("state: generation %d's step list is damaged: %w", g.Number, errs.Err())
	}
	return l, nil
}

func genName(n int) string {
	s := strconv.Itoa(n)
	if len(s) < generationWidth {
		s = strings.Repeat("0", generationWidth-len(s)) + s
	}
	return s
}

// SaveGeneration writes the generation's record durably.
func SaveGeneration(dir string, g *Generation) error {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return WriteAtomic(filepath.Join(dir, genName(g.Number)+".json"), append(data, '\n'), true)
}

// SaveSteps writes the generation's step list durably.
func SaveSteps(dir string, n int, steps []byte) error {
	return WriteAtomic(filepath.Join(dir, genName(n)+".steps"), steps, true)
}

// SaveList is SaveSteps of l printed, written as it is printed; it
// returns the size of the file.
func SaveList(dir string, n int, l *stepfmt.List) (int64, error) {
	var size int64
	err := atomicfile.WriteWith(StepsFile(dir, n), stateFileMode, func(w io.Writer) error {
		c := &countingWriter{w: w}
		err := stepfmt.Print(c, l)
		size = c.n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	return size, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// StepsFile is where generation n keeps its step list in dir.
func StepsFile(dir string, n int) string { return filepath.Join(dir, genName(n)+".steps") }

// LoadGeneration reads the record of generation n from dir.
func LoadGeneration(dir string, n int) (*Generation, error) {
	file := filepath.Join(dir, genName(n)+".json")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("state: generation %d: %w", n, err)
	}
	g := &Generation{Dir: dir}
	if err := json.Unmarshal(data, g); err != nil {
		return nil, fmt.Errorf("state: %s is damaged: %w", file, err)
	}
	if g.Number != n {
		return nil, fmt.Errorf("state: %s records generation %d", file, g.Number)
	}
	return g, nil
}

// GenerationNumbers lists the recorded generations, oldest first.
func GenerationNumbers(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var out []int
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), ".json")
		if n, err := strconv.Atoi(base); ok && err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}
