package stepfmt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// LoadOptions controls how Load resolves INCLUDE steps.
type LoadOptions struct {
	// Exec allows an INCLUDE of an executable file to run it and read the
	// steps it prints. Without it, such an include is an error.
	Exec bool
	// Timeout bounds each generator run; zero means one minute.
	Timeout time.Duration
}

// Load reads the step file at path and replaces every INCLUDE step by the
// steps of the file it names, recursively. A relative include path is taken
// from the directory of the file that includes it. Included steps keep their
// own file:line; a loop of includes is an error naming the chain.
func Load(path string, opt LoadOptions) (*List, ErrorList) {
	data, err := os.ReadFile(path)
	if err != nil {
		return &List{}, ErrorList{{Src: Source{File: path}, Msg: err.Error()}}
	}
	l, errs := Parse(path, data)
	ld := loader{opt: opt, stack: []string{absPath(path)}, names: []string{path}}
	l.Steps = ld.expand(filepath.Dir(path), l.Steps, &errs)
	return l, errs
}

type loader struct {
	opt   LoadOptions
	stack []string // absolute paths of the files being included, outermost first
	names []string // the same files as the user named them, for messages
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func (ld *loader) expand(dir string, steps []*Step, errs *ErrorList) []*Step {
	hasInclude := false
	for _, s := range steps {
		hasInclude = hasInclude || s.Kind == KindInclude
	}
	if !hasInclude {
		return steps
	}
	out := make([]*Step, 0, len(steps))
	for _, s := range steps {
		if s.Kind != KindInclude {
			out = append(out, s)
			continue
		}
		out = append(out, ld.include(dir, s, errs)...)
	}
	return out
}

func (ld *loader) include(dir string, s *Step, errs *ErrorList) []*Step {
	path := s.Target
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	abs := absPath(path)
	for i, p := range ld.stack {
		if p == abs {
			chain := append(append([]string{}, ld.names[i:]...), path)
			errs.add(s.Src, s.Kind, s.Target, "include loop: %s", joinArrows(chain))
			return nil
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		errs.add(s.Src, s.Kind, s.Target, "%v", err)
		return nil
	}
	var data []byte
	if fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		if !ld.opt.Exec {
			errs.add(s.Src, s.Kind, s.Target, "is an executable generator, and running generators is not allowed here")
			return nil
		}
		data, err = ld.run(path)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		errs.add(s.Src, s.Kind, s.Target, "%v", err)
		return nil
	}
	l, perrs := Parse(path, data)
	*errs = append(*errs, perrs...)
	ld.stack, ld.names = append(ld.stack, abs), append(ld.names, path)
	steps := ld.expand(filepath.Dir(path), l.Steps, errs)
	ld.stack, ld.names = ld.stack[:len(ld.stack)-1], ld.names[:len(ld.names)-1]
	return steps
}

func (ld *loader) run(path string) ([]byte, error) {
	timeout := ld.opt.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, absPath(path))
	cmd.Dir = filepath.Dir(path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("generator did not finish within %s", timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("generator failed: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

func joinArrows(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(s)
	}
	return b.String()
}
