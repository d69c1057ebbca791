package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"trail/apply/kind"
	"trail/stepfmt"
)

// RecordLine is one line of the applied record read as text: its
// identity and policy, and its images as written, which a look at every
// target compares as they are (kind.Matcher) and decodes only for the
// few it cannot tell so (Record).
type RecordLine struct {
	ID     stepfmt.ID
	Policy string
	// Origin and Wrote are the images' text, valid until the next line.
	Origin, Wrote []byte
	line          []byte
}

// Record parses the whole line, as Get's record.
func (l *RecordLine) Record() (*kind.Record, error) { return parseRecord(string(l.line)) }

// readRecordLine reads line (without its newline) into l, checking it as
// parseRecord does (five fields, a known kind, a target of it, a policy,
// two images) without decoding the images; a line that fails is given
// parseRecord's own error.
func readRecordLine(line []byte, l *RecordLine) error {
	return readRecordLineChecked(line, l, true)
}

// readRecordLineChecked is readRecordLine that, without check, reads the
// fields of a line a reader of the same file checked already: it checks
// neither the target nor the images.
func readRecordLineChecked(line []byte, l *RecordLine, check bool) error {
	var f [5][]byte
	rest := line
	ok := true
	for i := range f {
		var cut bool
		f[i], rest, cut = bytes.Cut(rest, []byte("\t"))
		ok = ok && cut == (i < 4)
	}
	k, known := knownKind(f[0])
	ok = ok && known
	var target string
	if ok && (!check && len(f[1]) > 0 && f[1][0] != '"' || stepfmt.IsBareValue(f[1])) {
		target = string(f[1])
	} else if ok {
		var tail string
		var err error
		target, tail, err = stepfmt.ReadValue(string(f[1]))
		ok = err == nil && tail == ""
	}
	if ok && check {
		_, err := stepfmt.CanonTarget(k, target)
		ok = err == nil
	}
	switch string(f[2]) {
	case kind.PolicyReport:
		l.Policy = kind.PolicyReport
	case kind.PolicyHeal:
		l.Policy = kind.PolicyHeal
	case kind.PolicyIgnore:
		l.Policy = kind.PolicyIgnore
	default:
		ok = false
	}
	if !ok || check && (!kind.CheckImageText(f[3]) || !kind.CheckImageText(f[4])) {
		if _, err := parseRecord(string(line)); err != nil {
			return err
		}
		return errors.New("the line does not read as a record")
	}
	l.ID = stepfmt.ID{Kind: k, Target: target}
	l.Origin, l.Wrote, l.line = f[3], f[4], line
	return nil
}

// kindNames are the kinds of the step language, for knownKind.
var kindNames = stepfmt.Kinds()

// knownKind returns the kind named b, without making a string of it.
func knownKind(b []byte) (stepfmt.Kind, bool) {
	for _, k := range kindNames {
		if string(k) == string(b) {
			return k, true
		}
	}
	return "", false
}

// RecordReader reads the applied record line by line as text (RecordLine),
// so that a look at every target holds one line at a time and decodes
// only what it cannot compare as written.
type RecordReader struct {
	// Generation is the record's, from its header.
	Generation int
	file       string
	r          *bufio.Reader
	long       []byte
	n          int // the line number of the line read last
	line       RecordLine
	// Checked says a reader of the same file checked every line already
	// (the file is only ever replaced, by a rename): this one reads them
	// without checking the targets and images again.
	Checked bool
}

// OpenRecordText opens the applied record at file for reading line by
// line; nil and no error when there is none on a new host (as EachRecord).
// The caller closes c.
func OpenRecordText(file string) (rr *RecordReader, c io.Closer, err error) {
	f, err := openApplied(file)
	if f == nil {
		return nil, nil, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	head, err := r.ReadString('\n')
	n, ok := appliedGeneration(head)
	if err != nil && err != io.EOF || !ok {
		f.Close()
		return nil, nil, damagedRecord(fmt.Errorf("%s:1: not an applied record (want %q and a number)", file, AppliedHeader))
	}
	return &RecordReader{Generation: n, file: file, r: r, n: 1}, f, nil
}

// Next returns the next line, nil at the end; the line is valid until the
// next call. A line that does not check is the record's damage.
func (rr *RecordReader) Next() (*RecordLine, error) {
	line, err := rr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rr.long = append(rr.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = rr.r.ReadSlice('\n')
			rr.long = append(rr.long, line...)
		}
		line = rr.long
	}
	if err == io.EOF && len(line) == 0 {
		return nil, nil
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("state: %w", err)
	}
	rr.n++
	if err := readRecordLineChecked(bytes.TrimSuffix(line, []byte("\n")), &rr.line, !rr.Checked); err != nil {
		return nil, damagedRecord(fmt.Errorf("%s:%d: %w", rr.file, rr.n, err))
	}
	return &rr.line, nil
}

func damagedRecord(err error) error {
	return fmt.Errorf("state: the applied record is damaged: %w (restore the file from a backup; trail will not guess what it manages)", err)
}
