package report

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var stamp = time.Date(2025, 3, 14, 9, 26, 53, 589000000, time.UTC)

func TestLogfmtGolden(t *testing.T) {
	tests := map[string]Record{
		"step":     fullRecord(),
		"apply":    {Event: EventApply, Message: "applied 3f2a9c1 (generation 7)", Commit: "3f2a9c1", Branch: "main", Generation: 7, Result: ResultOK},
		"failure":  {Event: EventFailure, Message: "compile failed:\nhosts/web.hcl:3:7: unknown variable", Commit: "abc", Result: ResultFailed},
		"quoting":  {Event: EventStep, Message: `say "hi" = \o/`, Step: "FILE /srv/a b", Extra: map[string]string{"TRAIL_EMPTY": "", "TRAIL_TAB": "a\tb", "TRAIL_UTF8": "naïve"}},
		"override": {Event: EventDrift, Message: "drift ignored by policy", Priority: PriorityNotice},
		"rollback": {Event: EventRollback, Message: "check web failed; back to generation 6", Generation: 6},
	}
	got := map[string]string{}
	for name, r := range tests {
		r.Time = stamp
		var buf bytes.Buffer
		if err := NewLogfmt(&buf).Send(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = buf.String()
		if n := strings.Count(got[name], "\n"); n != 1 || !strings.HasSuffix(got[name], "\n") {
			t.Errorf("%s: %d newlines, want exactly one line", name, n)
		}
	}
	golden(t, "logfmt", "One logfmt line per record; go test -update rewrites.", got)
}

// TestLogfmtParsesBack reads a line back key by key.
func TestLogfmtParsesBack(t *testing.T) {
	r := fullRecord()
	r.Message = "multi\nline \"quoted\" msg"
	r.Time = stamp
	line, err := AppendLogfmt(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseLogfmt(string(line))
	if err != nil {
		t.Fatalf("%v\n%s", err, line)
	}
	want := [][2]string{
		{"time", "2025-03-14T09:26:53.589Z"}, {"level", "info"}, {"event", "step"},
		{"msg", r.Message}, {"commit", r.Commit}, {"branch", "main"}, {"generation", "42"},
		{"step", "FILE /etc/motd"}, {"source", "hosts/web.hcl:12"}, {"result", "ok"},
		{"op", "modify"}, {"target", "/etc/motd"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parsed back:\n got %q\nwant %q", got, want)
	}
}

func TestLogfmtStampsTime(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogfmt(&buf)
	l.now = func() time.Time { return stamp }
	if err := l.Send(Record{Event: EventWatch, Message: "watching 12 paths"}); err != nil {
		t.Fatal(err)
	}
	if want := "time=2025-03-14T09:26:53.589Z level=info event=watch msg=\"watching 12 paths\"\n"; buf.String() != want {
		t.Fatalf("got %q\nwant %q", buf.String(), want)
	}
}

func TestLogfmtRefusesBadRecord(t *testing.T) {
	var buf bytes.Buffer
	err := NewLogfmt(&buf).Send(Record{Event: EventApply})
	if err == nil || buf.Len() != 0 {
		t.Fatalf("bad record: error %v, wrote %q; want an error and nothing written", err, buf.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestLogfmtWriteError(t *testing.T) {
	err := NewLogfmt(failWriter{}).Send(Record{Event: EventApply, Message: "x"})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the writer's", err)
	}
}

// TestLogfmtConcurrentLinesStayWhole checks that lines never interleave.
func TestLogfmtConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogfmt(&buf)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				l.Send(Record{Event: EventStep, Message: strings.Repeat("x", 100*i+j+1), Time: stamp})
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines, want 400", len(lines))
	}
	for _, line := range lines {
		if _, err := parseLogfmt(line + "\n"); err != nil {
			t.Fatalf("torn line %q: %v", line, err)
		}
	}
}

// parseLogfmt reads key=value pairs: bare values, or Go-quoted ones.
func parseLogfmt(line string) ([][2]string, error) {
	rest, ok := strings.CutSuffix(line, "\n")
	if !ok || strings.Contains(rest, "\n") {
		return nil, errors.New("not exactly one line")
	}
	var out [][2]string
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("bad key at %q", rest)
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			end := 1
			for end < len(after) && after[end] != '"' {
				if after[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(after) {
				return nil, fmt.Errorf("%s: unterminated quote", key)
			}
			v, err := strconv.Unquote(after[:end+1])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			value, after = v, after[end+1:]
		} else {
			value, after, _ = strings.Cut(after, " ")
			after = " " + after
			if after == " " {
				after = ""
			}
		}
		out = append(out, [2]string{key, value})
		if after != "" {
			if after[0] != ' ' {
				return nil, fmt.Errorf("%s: no space after value", key)
			}
			after = after[1:]
		}
		rest = after
	}
	return out, nil
}
