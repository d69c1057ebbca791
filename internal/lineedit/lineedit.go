// Package lineedit is the edit script of an EDIT step: line edits of a
// file another party (a package) ships, in the manner of Ansible's
// lineinfile. compile writes the script, apply runs it; both read it
// here. The script is stored in the content store and named by the step,
// one edit per line as a JSON object, so a script reads as it was written.
//
// Edits are applied in order, each to the result of the one before, and
// always to the same base (the file as it was before trail edited it), so
// the result depends only on the base and the script.
package lineedit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Edit is one line edit. With Absent, every line matching Regexp (or equal
// to Line when Regexp is empty) is removed. Otherwise Line is made present:
// it replaces the last line matching Regexp; when none matches and no line
// equals Line, it is inserted after the last line matching After, or
// before the last line matching Before, or else at the end.
type Edit struct {
	Line   string `json:"line,omitempty"`
	Regexp string `json:"regexp,omitempty"`
	After  string `json:"after,omitempty"`
	Before string `json:"before,omitempty"`
	Absent bool   `json:"absent,omitempty"`
}

// Check reports why e is not a valid edit.
func (e Edit) Check() error {
	if strings.ContainsAny(e.Line, "\n\r") {
		return errors.New("line holds a line break: an edit is one line; write several edits")
	}
	for _, re := range []struct{ name, val string }{{"regexp", e.Regexp}, {"after", e.After}, {"before", e.Before}} {
		if _, err := regexp.Compile(re.val); err != nil {
			return fmt.Errorf("%s %q is not a valid regular expression (RE2 syntax): %v", re.name, re.val, err)
		}
	}
	switch {
	case e.Absent && e.Regexp == "" && e.Line == "":
		return errors.New("absent = true needs regexp (or line) to say which lines to remove")
	case e.Absent && (e.After != "" || e.Before != ""):
		return errors.New("absent = true removes lines: after and before place a line to insert and do not go with it")
	case !e.Absent && e.Line == "":
		return errors.New("an edit needs line, the line to make present (or absent = true with regexp, to remove lines)")
	case e.After != "" && e.Before != "":
		return errors.New("after and before together: give one place to insert the line")
	}
	return nil
}

// Format writes a script: one edit per line.
func Format(edits []Edit) []byte {
	var b bytes.Buffer
	for _, e := range edits {
		j, _ := json.Marshal(e) // a struct of strings and a bool always marshals
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Parse reads a script Format wrote, checking every edit.
func Parse(script []byte) ([]Edit, error) {
	var out []Edit
	sc := bufio.NewScanner(bytes.NewReader(script))
	sc.Buffer(nil, len(script)+1)
	for n := 1; sc.Scan(); n++ {
		var e Edit
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("edit script line %d: %v", n, err)
		}
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("edit script line %d: %v", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("edit script holds no edit")
	}
	return out, nil
}

// Apply runs edits on data and returns the result and what each edit
// changed, one phrase per line it replaced, inserted or removed.
func Apply(data []byte, edits []Edit) ([]byte, []string, error) {
	text := string(data)
	final := text == "" || strings.HasSuffix(text, "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	}
	var changes []string
	for _, e := range edits {
		if err := e.Check(); err != nil {
			return nil, nil, err
		}
		var end bool
		lines, changes, end = apply1(lines, e, changes)
		final = final || end
	}
	if len(lines) == 0 {
		return []byte{}, changes, nil
	}
	out := strings.Join(lines, "\n")
	if final {
		out += "\n"
	}
	return []byte(out), changes, nil
}

// apply1 runs one edit; end reports a line added at the end, which ends
// the file with a line break.
func apply1(lines []string, e Edit, changes []string) ([]string, []string, bool) {
	match := func(s string) bool { return s == e.Line }
	if e.Regexp != "" {
		re := regexp.MustCompile(e.Regexp)
		match = re.MatchString
	}
	if e.Absent {
		kept := lines[:0:0]
		for i, l := range lines {
			if match(l) {
				changes = append(changes, fmt.Sprintf("line %d: remove %q", i+1, l))
				continue
			}
			kept = append(kept, l)
		}
		return kept, changes, false
	}
	if e.Regexp != "" {
		if i := last(lines, match); i >= 0 {
			if lines[i] != e.Line {
				changes = append(changes, fmt.Sprintf("line %d: %q -> %q", i+1, lines[i], e.Line))
				lines[i] = e.Line
			}
			return lines, changes, false
		}
	}
	if last(lines, func(s string) bool { return s == e.Line }) >= 0 {
		return lines, changes, false
	}
	at := len(lines)
	switch {
	case e.After != "":
		if i := last(lines, regexp.MustCompile(e.After).MatchString); i >= 0 {
			at = i + 1
		}
	case e.Before != "":
		if i := last(lines, regexp.MustCompile(e.Before).MatchString); i >= 0 {
			at = i
		}
	}
	lines = append(lines[:at], append([]string{e.Line}, lines[at:]...)...)
	changes = append(changes, fmt.Sprintf("line %d: insert %q", at+1, e.Line))
	return lines, changes, at == len(lines)-1
}

// last returns the index of the last line match accepts, or -1.
func last(lines []string, match func(string) bool) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if match(lines[i]) {
			return i
		}
	}
	return -1
}
