package host

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"
)

// The applied line states the process's time, start-up and compile
// included, for the first apply of a process, and each later apply's own.
func TestAppliedLineCountsFromProcessStart(t *testing.T) {
	dir := testCheckout(t, "file \"/etc/motd\" {\n  content = \"hi\\n\"\n}\n")
	saved := processStart
	t.Cleanup(func() { processStart = saved })
	processStart = time.Now().Add(-time.Hour)
	processStartTaken.Store(false)

	took := func() time.Duration {
		t.Helper()
		var out bytes.Buffer
		h, err := Open(dir, &out, &out)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if _, err := h.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`as generation \d+ in (\S+):`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no applied line in:\n%s", out.String())
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := took(); d < time.Hour {
		t.Errorf("first apply of the process states %v: want its time from the process's start (an hour ago here)", d)
	}
	commitSite(t, dir, "file \"/etc/motd\" {\n  content = \"hello\\n\"\n}\n", "second")
	if d := took(); d >= time.Hour {
		t.Errorf("second apply of the process states %v: want its own time, not the process's", d)
	}
}
