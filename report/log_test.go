package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenUsesJournalWhenSocketExists(t *testing.T) {
	conn, path := listen(t, "j.sock")
	var stderr bytes.Buffer
	l := Open(path, &stderr)
	defer l.Close()
	if l.Journal() == nil {
		t.Fatalf("Open(%s) did not pick the journal", path)
	}
	if err := l.Send(fullRecord()); err != nil {
		t.Fatal(err)
	}
	got, err := parseNative(receive(t, conn).data)
	if err != nil || got[0] != (Field{"MESSAGE", fullRecord().Message}) {
		t.Fatalf("journal got %q, %v", got, err)
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr got %q, want nothing while journald takes records", stderr.String())
	}
}

func TestOpenFallsBackToLogfmt(t *testing.T) {
	tests := map[string]func(t *testing.T) string{
		"no socket": func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.sock") },
		"a plain file": func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		},
	}
	for name, socket := range tests {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			l := Open(socket(t), &stderr)
			defer l.Close()
			if l.Journal() != nil {
				t.Fatal("picked the journal without a socket")
			}
			r := fullRecord()
			r.Time = stamp
			if err := l.Send(r); err != nil {
				t.Fatal(err)
			}
			want, _ := AppendLogfmt(nil, r)
			if stderr.String() != string(want) {
				t.Fatalf("stderr %q\nwant %q", stderr.String(), want)
			}
		})
	}
}

// TestLogKeepsRecordWhenJournalGoes: journald stops after Open; the record
// still reaches stderr, with the reason.
func TestLogKeepsRecordWhenJournalGoes(t *testing.T) {
	conn, path := listen(t, "j.sock")
	var stderr bytes.Buffer
	l := Open(path, &stderr)
	defer l.Close()
	conn.Close()
	os.Remove(path)
	r := fullRecord()
	r.Time = stamp
	if err := l.Send(r); err != nil {
		t.Fatalf("Send: %v", err)
	}
	fields, err := parseLogfmt(stderr.String())
	if err != nil {
		t.Fatalf("%v: %q", err, stderr.String())
	}
	last := fields[len(fields)-1]
	if last[0] != "journal_error" || !strings.Contains(last[1], path) {
		t.Fatalf("last pair %q, want journal_error naming %s", last, path)
	}
	if fields[3] != [2]string{"msg", r.Message} {
		t.Fatalf("message lost: %q", fields)
	}
}

func TestLogRefusesBadRecordEverywhere(t *testing.T) {
	_, path := listen(t, "j.sock")
	var stderr bytes.Buffer
	l := Open(path, &stderr)
	defer l.Close()
	if err := l.Send(Record{Event: EventApply}); err == nil || stderr.Len() != 0 {
		t.Fatalf("error %v, stderr %q: want an error and nothing written", err, stderr.String())
	}
}

func TestLevels(t *testing.T) {
	tests := map[string]struct {
		rec  Record
		want Priority
	}{
		"apply ok":           {Record{Event: EventApply, Result: ResultOK}, PriorityInfo},
		"step ok":            {Record{Event: EventStep, Result: ResultOK}, PriorityInfo},
		"step skipped":       {Record{Event: EventStep, Result: ResultSkipped}, PriorityInfo},
		"step failed":        {Record{Event: EventStep, Result: ResultFailed}, PriorityErr},
		"apply failed":       {Record{Event: EventApply, Result: ResultFailed}, PriorityErr},
		"check failed":       {Record{Event: EventCheck, Result: ResultFailed}, PriorityErr},
		"failure":            {Record{Event: EventFailure}, PriorityErr},
		"refusal":            {Record{Event: EventRefusal}, PriorityErr},
		"drift":              {Record{Event: EventDrift}, PriorityWarning},
		"heal":               {Record{Event: EventHeal, Result: ResultOK}, PriorityWarning},
		"rollback":           {Record{Event: EventRollback, Result: ResultOK}, PriorityWarning},
		"unknown event":      {Record{Event: "custom"}, PriorityInfo},
		"explicit overrides": {Record{Event: EventDrift, Priority: PriorityDebug}, PriorityDebug},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.rec.Level(); got != tc.want {
				t.Fatalf("Level() = %s, want %s", got, tc.want)
			}
		})
	}
	if PriorityErr.Syslog() != 3 || PriorityInfo.Syslog() != 6 || PriorityEmerg.Syslog() != 0 {
		t.Fatal("syslog numbers do not match syslog(3)")
	}
}
