package report

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkJournalSend sends a step record to a real socket, drained by a
// reader as journald would.
func BenchmarkJournalSend(b *testing.B) {
	conn, path := listen(b, "j.sock")
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	j := NewJournal(path)
	defer j.Close()
	r := fullRecord()
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Send(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogfmtSend(b *testing.B) {
	l := NewLogfmt(io.Discard)
	r := fullRecord()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Send(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteMetrics is dominated by the two fsyncs, which are the
// point of the atomic write.
func BenchmarkWriteMetrics(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trail.prom")
	m := metricCases["applied"]
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteMetrics(path, m); err != nil {
			b.Fatal(err)
		}
	}
}
