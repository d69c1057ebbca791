package report

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func fullRecord() Record {
	return Record{
		Event:      EventStep,
		Message:    "FILE /etc/motd: content changed",
		Commit:     "3f2a9c1e5b7d8f00112233445566778899aabbcc",
		Branch:     "main",
		Generation: 42,
		Step:       "FILE /etc/motd",
		Source:     "hosts/web.hcl:12",
		Result:     ResultOK,
		Extra:      map[string]string{"TRAIL_TARGET": "/etc/motd", "TRAIL_OP": "modify"},
	}
}

func TestJournalSendsEveryField(t *testing.T) {
	tests := map[string]struct {
		rec  Record
		want []Field
	}{
		"step with every field": {
			rec: fullRecord(),
			want: []Field{
				{"MESSAGE", "FILE /etc/motd: content changed"},
				{"PRIORITY", "6"},
				{"SYSLOG_IDENTIFIER", "trail"},
				{"TRAIL_EVENT", "step"},
				{"TRAIL_COMMIT", "3f2a9c1e5b7d8f00112233445566778899aabbcc"},
				{"TRAIL_BRANCH", "main"},
				{"TRAIL_GENERATION", "42"},
				{"TRAIL_STEP", "FILE /etc/motd"},
				{"TRAIL_SOURCE", "hosts/web.hcl:12"},
				{"TRAIL_RESULT", "ok"},
				{"TRAIL_OP", "modify"},
				{"TRAIL_TARGET", "/etc/motd"},
			},
		},
		"multi-line failure": {
			rec: Record{
				Event:   EventFailure,
				Message: "compile failed:\nhosts/web.hcl:3:7: unknown variable\n\n  x = var.nope\n",
				Commit:  "abc123",
				Extra:   map[string]string{"TRAIL_OUTPUT": "line one\nline two"},
			},
			want: []Field{
				{"MESSAGE", "compile failed:\nhosts/web.hcl:3:7: unknown variable\n\n  x = var.nope\n"},
				{"PRIORITY", "3"},
				{"SYSLOG_IDENTIFIER", "trail"},
				{"TRAIL_EVENT", "failure"},
				{"TRAIL_COMMIT", "abc123"},
				{"TRAIL_OUTPUT", "line one\nline two"},
			},
		},
		"drift is a warning": {
			rec: Record{Event: EventDrift, Message: "drifted", Step: "DIR /srv", Source: "hosts/a.hcl:1"},
			want: []Field{
				{"MESSAGE", "drifted"},
				{"PRIORITY", "4"},
				{"SYSLOG_IDENTIFIER", "trail"},
				{"TRAIL_EVENT", "drift"},
				{"TRAIL_STEP", "DIR /srv"},
				{"TRAIL_SOURCE", "hosts/a.hcl:1"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conn, path := listen(t, "j.sock")
			j := NewJournal(path)
			defer j.Close()
			if err := j.Send(tc.rec); err != nil {
				t.Fatalf("Send: %v", err)
			}
			d := receive(t, conn)
			if d.viaFD {
				t.Fatalf("a small entry came through a file descriptor")
			}
			got, err := parseNative(d.data)
			if err != nil {
				t.Fatalf("not the native protocol: %v\n%q", err, d.data)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("fields:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestJournalWireFormat pins the bytes: journald takes nothing else.
func TestJournalWireFormat(t *testing.T) {
	conn, path := listen(t, "j.sock")
	j := NewJournal(path)
	defer j.Close()
	if err := j.Send(Record{Event: EventApply, Message: "a\nb", Result: ResultOK}); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.WriteString("MESSAGE\n")
	binary.Write(&want, binary.LittleEndian, uint64(3))
	want.WriteString("a\nb\nPRIORITY=6\nSYSLOG_IDENTIFIER=trail\nTRAIL_EVENT=apply\nTRAIL_RESULT=ok\n")
	if got := receive(t, conn).data; !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("wire bytes:\n got %q\nwant %q", got, want.Bytes())
	}
}

// TestJournalLargeEntryViaMemfd sends an entry larger than the socket's
// send buffer, which a datagram cannot carry.
func TestJournalLargeEntryViaMemfd(t *testing.T) {
	size := 1 << 20
	if b, err := os.ReadFile("/proc/sys/net/core/wmem_default"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n+(64<<10) > size {
			size = n + 64<<10
		}
	}
	big := strings.Repeat("0123456789abcde\n", size/16)
	conn, path := listen(t, "j.sock")
	j := NewJournal(path)
	j.MaxValue = 2 * size
	defer j.Close()
	if err := j.Send(Record{Event: EventCheck, Message: "check output", Extra: map[string]string{"TRAIL_OUTPUT": big}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	d := receive(t, conn)
	if !d.viaFD {
		t.Fatalf("an entry of %d bytes came as a datagram, want a memfd", len(d.data))
	}
	want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if d.seals&want != want {
		t.Errorf("memfd seals %#x, want at least %#x: journald maps it only when sealed", d.seals, want)
	}
	got, err := parseNative(d.data)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(got, func(f Field) bool { return f.Name == "TRAIL_OUTPUT" })
	if i < 0 || got[i].Value != big {
		t.Fatalf("TRAIL_OUTPUT did not arrive whole")
	}
	if got[0] != (Field{"MESSAGE", "check output"}) {
		t.Fatalf("first field %q", got[0])
	}
}

func TestJournalCutsLongValues(t *testing.T) {
	conn, path := listen(t, "j.sock")
	j := NewJournal(path)
	j.MaxValue = 10
	defer j.Close()
	rec := Record{Event: EventStep, Message: "short", Extra: map[string]string{"TRAIL_OUTPUT": "ééééééééé"}}
	if err := j.Send(rec); err != nil {
		t.Fatal(err)
	}
	got, err := parseNative(receive(t, conn).data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{"MESSAGE", "short"},
		{"PRIORITY", "6"},
		{"SYSLOG_IDENTIFIER", "trail"},
		{"TRAIL_EVENT", "step"},
		{"TRAIL_OUTPUT", "ééééé… [8 bytes cut]"},
		{"TRAIL_TRUNCATED", "TRAIL_OUTPUT"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("fields:\n got %q\nwant %q", got, want)
	}
	if rec.Extra["TRAIL_OUTPUT"] != "ééééééééé" {
		t.Fatalf("Send changed the caller's record")
	}
}

func TestJournalRefusesBadRecords(t *testing.T) {
	tests := map[string]struct {
		rec  Record
		want string
	}{
		"no event":        {Record{Message: "x"}, "no event"},
		"no message":      {Record{Event: EventApply}, "no message"},
		"lower-case name": {Record{Event: EventApply, Message: "x", Extra: map[string]string{"trail_x": "1"}}, `"trail_x"`},
		"leading _":       {Record{Event: EventApply, Message: "x", Extra: map[string]string{"_PID": "1"}}, `"_PID"`},
		"leading digit":   {Record{Event: EventApply, Message: "x", Extra: map[string]string{"1X": "1"}}, `"1X"`},
		"too long":        {Record{Event: EventApply, Message: "x", Extra: map[string]string{strings.Repeat("A", 65): "1"}}, "longer than 64"},
		"shadows core":    {Record{Event: EventApply, Message: "x", Extra: map[string]string{"TRAIL_COMMIT": "1"}}, `"TRAIL_COMMIT"`},
		"logfmt clash":    {Record{Event: EventApply, Message: "x", Extra: map[string]string{"MSG": "1"}}, `"msg"`},
		"two same keys":   {Record{Event: EventApply, Message: "x", Extra: map[string]string{"FOO": "1", "TRAIL_FOO": "2"}}, `"foo"`},
		"bad priority":    {Record{Event: EventApply, Message: "x", Priority: 42}, "priority 42"},
	}
	conn, path := listen(t, "j.sock")
	j := NewJournal(path)
	defer j.Close()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := j.Send(tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Send error %v, want one mentioning %s", err, tc.want)
			}
		})
	}
	// Nothing was sent: the next datagram is the good record.
	if err := j.Send(Record{Event: EventApply, Message: "good"}); err != nil {
		t.Fatal(err)
	}
	got, err := parseNative(receive(t, conn).data)
	if err != nil || got[0].Value != "good" {
		t.Fatalf("first datagram after the refusals: %q, %v", got, err)
	}
}

func TestJournalWithoutSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	j := NewJournal(path)
	defer j.Close()
	err := j.Send(Record{Event: EventApply, Message: "x"})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Send to a missing socket: %v, want an error naming %s", err, path)
	}
}

func TestNewJournalDefault(t *testing.T) {
	if got := NewJournal("").Socket(); got != "/run/systemd/journal/socket" {
		t.Fatalf("default socket %q", got)
	}
}
