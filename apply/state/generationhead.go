package state

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"trail/stepfmt"
)

// Header reads only the header of the step list the generation applied:
// a --force of the applied generation compares its targets without its
// steps parsed (apply's ForceMatches) and needs to know only whose list
// it is.
func (g *Generation) Header() (stepfmt.Header, error) {
	file := filepath.Join(g.Dir, genName(g.Number)+".steps")
	if g.StepsPruned {
		return stepfmt.Header{}, fmt.Errorf("state: generation %d's step list was pruned by trail gc", g.Number)
	}
	f, err := os.Open(file)
	if err != nil {
		return stepfmt.Header{}, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	head, err := bufio.NewReaderSize(f, 4096).ReadString('\n')
	if err != nil {
		return stepfmt.Header{}, fmt.Errorf("state: %s: %w", file, err)
	}
	l, errs := stepfmt.ParseString(file, head)
	if len(errs) > 0 || len(l.Steps) > 0 {
		return stepfmt.Header{}, fmt.Errorf("state: generation %d's step list has no header line", g.Number)
	}
	return l.Header, nil
}
