package report

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// logfmtReserved are the keys the core fields take in a logfmt line.
var logfmtReserved = []string{
	"time", "level", "event", "msg", "commit", "branch", "generation",
	"step", "source", "result", "truncated", "message", "priority",
	"syslog_identifier", "journal_error",
}

// Logfmt writes each record as one logfmt line: the stand-in for journald
// on hosts without it (containers, chroots, image builds).
type Logfmt struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewLogfmt writes records to w, normally os.Stderr.
func NewLogfmt(w io.Writer) *Logfmt {
	return &Logfmt{w: w, now: time.Now}
}

// Send writes r as one line. Lines of concurrent calls do not interleave.
func (l *Logfmt) Send(r Record) error {
	return l.send(r, "")
}

// send writes r, with journalErr appended when the journal refused it.
func (l *Logfmt) send(r Record, journalErr string) error {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	line, err := AppendLogfmt(nil, r)
	if err != nil {
		return err
	}
	if journalErr != "" {
		line = appendPair(line[:len(line)-1], "journal_error", journalErr)
		line = append(line, '\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(line); err != nil {
		return fmt.Errorf("report: write log line: %w", err)
	}
	return nil
}

// AppendLogfmt appends r to dst as one logfmt line ending in "\n":
// time, level, event and msg first, then the fields in journald order,
// named in lower case without the TRAIL_ prefix. A zero Time is left out.
func AppendLogfmt(dst []byte, r Record) ([]byte, error) {
	fs, err := r.Fields()
	if err != nil {
		return dst, err
	}
	start := len(dst)
	if !r.Time.IsZero() {
		dst = appendPair(dst, "time", r.Time.Format(time.RFC3339Nano))
	}
	dst = appendPair(dst, "level", r.Level().String())
	dst = appendPair(dst, "event", string(r.Event))
	dst = appendPair(dst, "msg", r.Message)
	for _, f := range fs {
		switch f.Name {
		case "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "TRAIL_EVENT":
			continue
		}
		dst = appendPair(dst, logfmtKey(f.Name), f.Value)
	}
	dst = append(dst[:start], dst[start+1:]...) // the first pair's space
	return append(dst, '\n'), nil
}

// appendPair appends " key=value", quoting value when it needs it.
func appendPair(dst []byte, key, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	if bare(value) {
		return append(dst, value...)
	}
	return strconv.AppendQuote(dst, value)
}

// bare reports whether v can stand unquoted: non-empty printable ASCII
// without space, quote, backslash or '='.
func bare(v string) bool {
	if v == "" || !utf8.ValidString(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\' {
			return false
		}
	}
	return true
}
