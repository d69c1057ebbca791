package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"trail/apply/kind"
	"trail/internal/atomicfile"
	"trail/stepfmt"
)

// Applied is the applied record: the current generation and a Record for
// every target it manages, in the order of its step list.
type Applied struct {
	Generation int
	Records    []*kind.Record
	// sorted holds the places of Records sorted by identity, made on
	// Get's first miss of next, the place after the record it found
	// last: a list's steps are mostly asked for in its order, and a map
	// of 100,000 identities would take 6 MB.
	sorted []int32
	next   int
}

// Get returns the record of the target with identity id, nil for none
// (the last, should two records have it).
func (a *Applied) Get(id stepfmt.ID) *kind.Record {
	rs := a.Records
	if n := a.next; n < len(rs) && rs[n].ID == id && (n+1 == len(rs) || rs[n+1].ID != id) {
		a.next++
		return rs[n]
	}
	if len(a.sorted) != len(rs) {
		a.sort()
	}
	i, ok := slices.BinarySearchFunc(a.sorted, id, func(j int32, id stepfmt.ID) int { return compareID(rs[j].ID, id) })
	if !ok {
		return nil
	}
	for i+1 < len(a.sorted) && rs[a.sorted[i+1]].ID == id {
		i++
	}
	a.next = int(a.sorted[i]) + 1
	return rs[a.sorted[i]]
}

// sort makes sorted: the places of Records by identity, in record order
// among equal ones.
func (a *Applied) sort() {
	rs := a.Records
	a.sorted = make([]int32, len(rs))
	for i := range a.sorted {
		a.sorted[i] = int32(i)
	}
	slices.SortStableFunc(a.sorted, func(i, j int32) int { return compareID(rs[i].ID, rs[j].ID) })
}

func compareID(a, b stepfmt.ID) int {
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return strings.Compare(a.Target, b.Target)
}

const AppliedHeader = "TRAIL-APPLIED v1 generation="

// Format renders the record: a header, then one line per target with tab
// separated fields: kind, target, drift policy, origin image, wrote image.
func (a *Applied) Format() []byte {
	var b bytes.Buffer
	b.Grow(160 * (len(a.Records) + 1))
	a.write(&b)
	return b.Bytes()
}

// SaveApplied replaces the applied record file with a, durably. It writes
// the record line by line: the record of 100,000 targets is 20 MB of text.
func SaveApplied(file string, a *Applied) error {
	err := atomicfile.WriteWith(file, stateFileMode, func(w io.Writer) error {
		return a.write(bufio.NewWriter(w))
	})
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// write writes Format's text to w, which buffers it.
func (a *Applied) write(w interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}) error {
	w.WriteString(AppliedHeader)
	w.WriteString(strconv.Itoa(a.Generation))
	w.WriteByte('\n')
	for _, r := range a.Records {
		w.WriteString(string(r.ID.Kind))
		w.WriteByte('\t')
		w.WriteString(stepfmt.QuoteValue(r.ID.Target))
		w.WriteByte('\t')
		w.WriteString(r.Policy)
		w.WriteByte('\t')
		writeImage(w, r.Origin)
		w.WriteByte('\t')
		writeImage(w, r.Wrote)
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// writeImage writes m as m.String() renders it, without building it.
func writeImage(w io.StringWriter, m kind.Image) {
	if m.State == "" {
		w.WriteString(kind.StateAbsent)
	} else {
		w.WriteString(m.State)
	}
	for _, a := range m.Attrs {
		w.WriteString(" ")
		w.WriteString(a.Key)
		w.WriteString("=")
		w.WriteString(stepfmt.QuoteValue(a.Value))
	}
}

// ParseApplied reads the applied record; name is used in error positions.
func ParseApplied(name string, data []byte) (*Applied, error) {
	return parseApplied(name, string(data))
}

func parseApplied(name, text string) (*Applied, error) {
	head, text, _ := strings.Cut(text, "\n")
	g, ok := strings.CutPrefix(head, AppliedHeader)
	n, err := strconv.Atoi(g)
	if !ok || err != nil || n < 0 {
		return nil, fmt.Errorf("%s:1: not an applied record (want %q and a number)", name, AppliedHeader)
	}
	a := &Applied{Generation: n, Records: make([]*kind.Record, 0, strings.Count(text, "\n"))}
	for line := 2; text != ""; line++ {
		var l string
		l, text, _ = strings.Cut(text, "\n")
		r, err := parseRecord(l)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		a.Records = append(a.Records, r)
	}
	// A target recorded twice shows in Get's sorted places, as neighbours;
	// the first line that repeats one is named.
	a.sort()
	twice := -1
	for i := 1; i < len(a.sorted); i++ {
		if j := int(a.sorted[i]); a.Records[a.sorted[i-1]].ID == a.Records[j].ID && (twice < 0 || j < twice) {
			twice = j
		}
	}
	if twice >= 0 {
		return nil, fmt.Errorf("%s:%d: %s recorded twice", name, twice+2, a.Records[twice].ID)
	}
	return a, nil
}

func parseRecord(l string) (*kind.Record, error) {
	var f [5]string
	rest := l
	for i := range f {
		var ok bool
		f[i], rest, ok = strings.Cut(rest, "\t")
		if ok != (i < 4) {
			return nil, fmt.Errorf("want 5 tab-separated fields (kind, target, policy, origin, wrote)")
		}
	}
	k := stepfmt.Kind(f[0])
	if !stepfmt.KnownKind(k) {
		return nil, fmt.Errorf("unknown kind %q", f[0])
	}
	target, rest, err := stepfmt.ReadValue(f[1])
	if err != nil || rest != "" {
		return nil, fmt.Errorf("bad target %q", f[1])
	}
	if _, err := stepfmt.CanonTarget(k, target); err != nil {
		return nil, fmt.Errorf("%s %s: %w", k, target, err)
	}
	switch f[2] {
	case kind.PolicyReport, kind.PolicyHeal, kind.PolicyIgnore:
	default:
		return nil, fmt.Errorf("%s %s: drift policy %q is not report, heal or ignore", k, target, f[2])
	}
	r := &kind.Record{ID: stepfmt.ID{Kind: k, Target: target}, Policy: f[2]}
	if r.Origin, err = kind.ParseImage(f[3]); err != nil {
		return nil, fmt.Errorf("%s %s: origin: %w", k, target, err)
	}
	if r.Wrote, err = kind.ParseImage(f[4]); err != nil {
		return nil, fmt.Errorf("%s %s: wrote: %w", k, target, err)
	}
	return r, nil
}

// EachRecord calls fn with each record of the applied record in file, in
// order, reading it line by line, so that a look at every target (status,
// a drift check) need not hold the whole record: 100,000 targets parse
// to 30 MB. It checks each line as LoadApplied does, but not that no
// target is recorded twice (trail fsck does). It returns the generation.
func EachRecord(file string, fn func(*kind.Record) error) (int, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, missingApplied(file)
	}
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	damaged := func(err error) error {
		return fmt.Errorf("state: the applied record is damaged: %w (restore the file from a backup; trail will not guess what it manages)", err)
	}
	head, err := r.ReadString('\n')
	g, ok := strings.CutPrefix(strings.TrimSuffix(head, "\n"), AppliedHeader)
	n, aerr := strconv.Atoi(g)
	if err != nil && err != io.EOF || !ok || aerr != nil || n < 0 {
		return 0, damaged(fmt.Errorf("%s:1: not an applied record (want %q and a number)", file, AppliedHeader))
	}
	for line := 2; ; line++ {
		l, err := r.ReadString('\n')
		if err == io.EOF && l == "" {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("state: %w", err)
		}
		rec, perr := parseRecord(strings.TrimSuffix(l, "\n"))
		if perr != nil {
			return 0, damaged(fmt.Errorf("%s:%d: %w", file, line, perr))
		}
		if err := fn(rec); err != nil {
			return 0, err
		}
	}
}

// LoadApplied reads the applied record; none yet is generation 0.
func LoadApplied(file string) (*Applied, error) {
	text, err := ReadString(file)
	if errors.Is(err, fs.ErrNotExist) {
		return &Applied{}, missingApplied(file)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	a, err := parseApplied(file, text)
	if err != nil {
		return nil, fmt.Errorf("state: the applied record is damaged: %w (restore the file from a backup; trail will not guess what it manages)", err)
	}
	return a, nil
}

// readGeneration reads only the generation number of the applied record.
func ReadAppliedGeneration(file string) (int, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, missingApplied(file)
	}
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	head, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	g, ok := strings.CutPrefix(string(head), AppliedHeader)
	num, err := strconv.Atoi(g)
	if !ok || err != nil {
		return 0, fmt.Errorf("state: %s:1: not an applied record", file)
	}
	return num, nil
}
