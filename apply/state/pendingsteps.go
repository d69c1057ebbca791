package state

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"trail/internal/atomicfile"
)

// PendingSteps is a step list written before the number of the
// generation that applies it is known: the engine prints the list once,
// comparing it with the applied one as it goes, and keeps the text for
// the generation. It is a temporary file of the generations directory
// until Save makes it the generation's step list, durably, as SaveList
// does; one a crash leaves is swept as every temporary file there is.
type PendingSteps struct {
	f    *os.File
	w    *bufio.Writer
	size int64
}

// NewPendingSteps makes an empty pending list in the generations
// directory dir.
func NewPendingSteps(dir string) (*PendingSteps, error) {
	f, err := os.CreateTemp(dir, ".steps.*"+TempSuffix)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &PendingSteps{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write appends p.
func (p *PendingSteps) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.size += int64(n)
	return n, err
}

// CopyRange appends n bytes of src from off, as they are (the file
// system may share or copy them without reading them through trail).
func (p *PendingSteps) CopyRange(src *os.File, off, n int64) error {
	if err := p.w.Flush(); err != nil {
		return err
	}
	if _, err := src.Seek(off, io.SeekStart); err != nil {
		return err
	}
	m, err := io.Copy(p.f, io.LimitReader(src, n))
	p.size += m
	if err == nil && m != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Save makes the list generation n's step list in dir: synced, renamed
// into place, the directory synced. It returns the list's size.
func (p *PendingSteps) Save(dir string, n int) (int64, error) {
	err := p.w.Flush()
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p.f.Name(), StepsFile(dir, n))
	}
	if err == nil {
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		os.Remove(p.f.Name())
		return 0, fmt.Errorf("state: %w", err)
	}
	p.f = nil
	return p.size, nil
}

// Discard removes a list not saved; after Save it does nothing.
func (p *PendingSteps) Discard() {
	if p == nil || p.f == nil {
		return
	}
	p.f.Close()
	os.Remove(p.f.Name())
	p.f = nil
}
