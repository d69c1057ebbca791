package report

import (
	"io"
	"io/fs"
	"os"
)

// Sink takes records. Journal, Logfmt and Log are sinks.
type Sink interface {
	Send(Record) error
}

// Log sends records to journald when it runs and as logfmt otherwise; it
// is what the CLI reports through.
type Log struct {
	journal  *Journal // nil without journald
	fallback *Logfmt
}

// Open reports to the journald socket at socket (DefaultJournalSocket when
// empty) if a socket is there, and as logfmt to fallback (normally
// os.Stderr) if not.
func Open(socket string, fallback io.Writer) *Log {
	l := &Log{fallback: NewLogfmt(fallback)}
	j := NewJournal(socket)
	if fi, err := os.Stat(j.Socket()); err == nil && fi.Mode().Type() == fs.ModeSocket {
		l.journal = j
	}
	return l
}

// Journal is the journal records go to, or nil when they go to logfmt.
func (l *Log) Journal() *Journal { return l.journal }

// Send reports r. An invalid record is refused with an error and reported
// nowhere. A valid record the journal does not take (journald stopped, a
// full buffer) is written as logfmt instead, with the journal's error in
// journal_error, so it is never lost; Send then fails only if that write
// fails too.
func (l *Log) Send(r Record) error {
	if l.journal == nil {
		return l.fallback.Send(r)
	}
	if _, err := r.Fields(); err != nil {
		return err
	}
	if err := l.journal.Send(r); err != nil {
		return l.fallback.send(r, err.Error())
	}
	return nil
}

// Close releases the journal socket.
func (l *Log) Close() error {
	if l.journal == nil {
		return nil
	}
	return l.journal.Close()
}
