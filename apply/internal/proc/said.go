package proc

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// A failed tool's error carries the end of what it said, bounded so that
// a chatty tool (apt-get prints its progress) cannot swell the message,
// the journal's event or the generation record.
const (
	saidLines = 20   // at most this many lines
	saidBytes = 4096 // and at most this many bytes of them
)

// said keeps the last bytes a tool wrote to stdout and stderr together,
// in the order they reached trail: apt-get and dpkg print the reason of a
// failure (a maintainer script's message, "Errors were encountered") on
// stdout and only "E: Sub-process ... returned an error code" on stderr,
// so neither stream alone names the cause. The two pipes are read
// apart, so lines written to both within a moment may swap.
type said struct {
	mu  sync.Mutex
	buf []byte
}

// Write keeps the last 4*saidBytes bytes, cut back only when twice that
// is held, so that each byte is moved at most once.
func (s *said) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if keep := 4 * saidBytes; len(s.buf) > 2*keep {
		s.buf = append(s.buf[:0], s.buf[len(s.buf)-keep:]...)
	}
	return len(p), nil
}

func (s *said) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}

// Tail is the end of a tool's output as an error shows it: its last
// non-empty lines (saidLines at most, saidBytes at most), trimmed and
// joined by "; " so that the message stays one line in `trail status`,
// "…; " first when earlier lines were left out.
func Tail(s string) string {
	lines := strings.Split(s, "\n")
	var kept []string
	size, cut := 0, false
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if len(kept) == saidLines || size+len(l)+2 > saidBytes {
			if len(kept) == 0 {
				kept, size = append(kept, cutFront(l, saidBytes-len("…"))), saidBytes
			}
			cut = true
			break
		}
		kept = append(kept, l)
		size += len(l) + 2
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	out := strings.Join(kept, "; ")
	if cut {
		out = "…; " + out
	}
	return out
}

// TailEnding is Tail of both (stdout and stderr together) ending with
// stderr's last line, where a tool puts its verdict ("E: Sub-process ...
// returned an error code"): the two pipes are read apart, so stdout lines
// written just before it may arrive after it, and a chatty stdout would
// otherwise push it out of the kept lines.
func TailEnding(both, stderr string) string {
	last := lastLine(stderr)
	if last == "" {
		return Tail(both)
	}
	if i := strings.LastIndex(both, last); i >= 0 {
		both = both[:i] + both[i+len(last):]
	}
	return Tail(both + "\n" + last)
}

// lastLine is s's last non-empty line, trimmed as Tail trims it.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// cutFront keeps the last n bytes of l, starting at a whole character.
func cutFront(l string, n int) string {
	l = l[len(l)-n:]
	for len(l) > 0 && !utf8.RuneStart(l[0]) {
		l = l[1:]
	}
	return l
}
