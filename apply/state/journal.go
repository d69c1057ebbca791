package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"trail/apply/kind"
	"trail/stepfmt"
)

// The write-ahead journal is a file of JSON lines, one entry each:
//
//	{"op":"begin","gen":13,"from":12,"commit":"…"}
//	{"op":"intent","i":0,"change":"add","step":"FILE /etc/x sha256:… @a.hcl:3","undo":"absent"}
//	{"op":"amend","i":0,"undo":"absent deps=libfoo"}
//	{"op":"done","i":0}
//
// "begin" is written before the first change; the "intent" of a step,
// with the image that undoes it, is durable before the step runs; "done"
// follows once the step's effect is durable. An "amend" replaces the undo
// image of intent i once its change showed what it brought along (see
// kind.Bringer); it is durable before the next change. The journal is removed after
// the applied record names the new generation: that rename is the commit.
type JournalEntry struct {
	Op      string    `json:"op"`
	Gen     int       `json:"gen,omitempty"`
	From    int       `json:"from,omitempty"`
	Commit  string    `json:"commit,omitempty"`
	Branch  string    `json:"branch,omitempty"`
	Host    string    `json:"host,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Start   time.Time `json:"start,omitzero"`
	I       int       `json:"i,omitempty"`
	Change  string    `json:"change,omitempty"`
	Step    string    `json:"step,omitempty"`
	Undo    string    `json:"undo,omitempty"`
}

// Journal is the write-ahead journal of the apply in progress.
type Journal struct {
	f   *os.File
	buf bytes.Buffer
	// text is scratch for an intent's step and image.
	text bytes.Buffer
	// err is the first failed write of what was added, which Sync
	// returns.
	err error
}

// journalChunk is how much of what was added the journal holds before
// it writes it, without a sync: an entry is only durable once Sync
// returns, and one written before (an intent whose change was not yet
// made) is what a crash just after Sync leaves too. A batch of 4,096
// intents held whole took 1.5 MB until the apply's end.
const journalChunk = 64 << 10

// BeginJournal creates the journal durably with its begin entry, which
// holds what recovery needs to record the generation if the process dies
// before it does.
func BeginJournal(file string, g *Generation) (*Journal, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, stateFileMode)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{f: f}
	j.add(JournalEntry{Op: "begin", Gen: g.Number, From: g.From, Commit: g.Commit, Branch: g.Branch,
		Host: g.Host, Subject: g.Subject, Start: g.Start})
	if err := j.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(filepath.Dir(file)); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal) add(e JournalEntry) {
	data, _ := json.Marshal(e)
	j.buf.Write(data)
	j.buf.WriteByte('\n')
	if j.buf.Len() >= journalChunk {
		j.write()
	}
}

// addLine adds the entry {"op":op,"i":i,"change":change,"step":step,
// "undo":undo} as add would, but for the fields left empty, without
// json.Marshal: a first apply journals two entries for each of its
// changes.
func (j *Journal) addLine(i int, op, change string, step, undo []byte) {
	b := j.buf.AvailableBuffer()
	b = append(append(append(b, `{"op":"`...), op...), '"')
	if i != 0 {
		b = strconv.AppendInt(append(b, `,"i":`...), int64(i), 10)
	}
	if change != "" {
		b = appendJSON(append(b, `,"change":`...), []byte(change))
	}
	if len(step) > 0 {
		b = appendJSON(append(b, `,"step":`...), step)
	}
	if len(undo) > 0 {
		b = appendJSON(append(b, `,"undo":`...), undo)
	}
	j.buf.Write(append(b, "}\n"...))
	if j.buf.Len() >= journalChunk {
		j.write()
	}
}

// appendJSON appends s as a JSON string, as json.Marshal writes it: as it
// is, quoted, when no byte needs escaping, else through json.Marshal.
func appendJSON(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(string(s))
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// write writes what was added, keeping the first error for Sync.
func (j *Journal) write() {
	if j.buf.Len() == 0 {
		return
	}
	if _, err := j.f.Write(j.buf.Bytes()); err != nil && j.err == nil {
		j.err = fmt.Errorf("journal: %w", err)
	}
	j.buf.Reset()
}

// Intent journals change i of step s and the image that undoes it.
func (j *Journal) Intent(i int, op stepfmt.Op, s *stepfmt.Step, undo kind.Image) {
	j.text.Reset()
	stepfmt.AppendStep(&j.text, s, true)
	step := len(j.text.Bytes())
	undo.Render(&j.text)
	t := j.text.Bytes()
	j.addLine(i, "intent", op.String(), t[:step], t[step:])
}

// Amend replaces the undo image of intent i.
func (j *Journal) Amend(i int, undo kind.Image) {
	j.add(JournalEntry{Op: "amend", I: i, Undo: undo.String()})
}

// Done journals that the effect of change i is durable.
func (j *Journal) Done(i int) { j.addLine(i, "done", "", nil, nil) }

// Sync writes the buffered entries and makes them durable.
func (j *Journal) Sync() error {
	j.write()
	if j.err != nil {
		return j.err
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Close closes the journal file, leaving it in place.
func (j *Journal) Close() {
	if j != nil && j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// RemoveJournal deletes the journal durably: the apply is over.
func RemoveJournal(file string) error {
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return syncDir(filepath.Dir(file))
}

// intentRec is an intent read back from a journal.
type intentRec struct {
	i    int
	op   string
	Step *stepfmt.Step
	Undo kind.Image
}

// JournalState is what a journal left by an unfinished apply says.
type JournalState struct {
	Gen, From int
	commit    string
	Begin     JournalEntry
	Intents   []intentRec
	Done      map[int]bool
}

// ParseJournal reads a journal. A last line cut short (no newline, or not
// JSON) was never synced whole and is ignored; damage before it is an
// error, since the undo it would need cannot be known.
func ParseJournal(name string, data []byte) (*JournalState, error) {
	js := &JournalState{Done: make(map[int]bool)}
	lines := bytes.Split(data, []byte("\n"))
	for n, line := range lines {
		last := n == len(lines)-1
		if last && len(line) == 0 {
			break
		}
		var e JournalEntry
		if err := json.Unmarshal(line, &e); err != nil || last {
			if last {
				break
			}
			return nil, fmt.Errorf("%s:%d: damaged entry: %v", name, n+1, err)
		}
		if err := js.apply(e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n+1, err)
		}
	}
	if js.Gen == 0 {
		return nil, fmt.Errorf("%s: no begin entry", name)
	}
	return js, nil
}

func (js *JournalState) apply(e JournalEntry) error {
	if e.Op != "begin" && js.Gen == 0 {
		return errors.New("entry before the begin entry")
	}
	switch e.Op {
	case "begin":
		if js.Gen != 0 || e.Gen <= 0 {
			return errors.New("a second or invalid begin entry")
		}
		js.Gen, js.From, js.commit, js.Begin = e.Gen, e.From, e.Commit, e
	case "intent":
		l, errs := stepfmt.Parse("journal", []byte(e.Step))
		if len(errs) > 0 || len(l.Steps) != 1 {
			return fmt.Errorf("intent %d: step %q does not parse", e.I, e.Step)
		}
		undo, err := kind.ParseImage(e.Undo)
		if err != nil {
			return fmt.Errorf("intent %d: %w", e.I, err)
		}
		js.Intents = append(js.Intents, intentRec{i: e.I, op: e.Change, Step: l.Steps[0], Undo: undo})
	case "amend":
		undo, err := kind.ParseImage(e.Undo)
		if err != nil {
			return fmt.Errorf("amend %d: %w", e.I, err)
		}
		for k := len(js.Intents) - 1; ; k-- {
			if k < 0 {
				return fmt.Errorf("amend %d: no intent %d before it", e.I, e.I)
			}
			if js.Intents[k].i == e.I {
				js.Intents[k].Undo = undo
				break
			}
		}
	case "done":
		js.Done[e.I] = true
	default:
		return fmt.Errorf("unknown entry %q", e.Op)
	}
	return nil
}
