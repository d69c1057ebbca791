package state

import (
	"fmt"
	"testing"

	"trail/apply/kind"
	"trail/stepfmt"
)

// readRecordLine accepts exactly the lines parseRecord reads, with the
// same identity and policy, and images whose text parses to the record's.
func FuzzReadRecordLine(f *testing.F) {
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, s := range []string{"FILE\t/etc/x\treport\tabsent\tfile content=sha256:" + zeros + " mode=0644 uid=0 gid=0",
		"DIR\t\"/a b\"\theal\tdir mode=0755 uid=0 gid=0\tdir", "DIR\t/a\tx\ty\tz", "DIR\t/a/\treport\tabsent\tdir",
		"USER\talice\tignore\tabsent\tuser uid=1000", "NOPE\t/a\treport\tabsent\tabsent", "FILE\t/etc/x\treport\tabsent\tfile\textra",
		"FILE\t/etc/\u00e9\treport\tabsent\tabsent", "FILE\t\"/etc/x\"\treport\tabsent\tabsent"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseRecord(s)
		var l RecordLine
		lerr := readRecordLine([]byte(s), &l)
		if (err == nil) != (lerr == nil) {
			t.Fatalf("%q: parseRecord %v, readRecordLine %v", s, err, lerr)
		}
		if err != nil {
			if err.Error() != lerr.Error() {
				t.Fatalf("%q: errors differ: %v vs %v", s, err, lerr)
			}
			return
		}
		if l.ID != rec.ID || l.Policy != rec.Policy {
			t.Fatalf("%q: read %v %s, parsed %v %s", s, l.ID, l.Policy, rec.ID, rec.Policy)
		}
		for _, c := range []struct {
			text []byte
			img  kind.Image
		}{{l.Origin, rec.Origin}, {l.Wrote, rec.Wrote}} {
			if m, err := kind.ParseImage(string(c.text)); err != nil || !m.Equal(c.img) {
				t.Fatalf("%q: image %q reads %v (%v), parsed %v", s, c.text, m, err, c.img)
			}
		}
		if r, err := l.Record(); err != nil || r.ID != rec.ID {
			t.Fatalf("%q: Record gives %v, %v", s, r, err)
		}
	})
}

// eachBlobText lists the keys Image.Blobs does, of any image text.
func FuzzEachBlobText(f *testing.F) {
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, s := range []string{"absent", "file content=sha256:" + zeros + " mode=0644", "file content=sha256:" + zeros + " secret=age sealed=sha256:" + zeros,
		`file content="sha256:x y"`, "user home=sha256: x=sha256:" + zeros, "file secret=age content=sha256:" + zeros,
		"user shell=/bin/sh password=sha256:" + zeros + " password-sealed=sha256:" + zeros, "group gid=50 gshadow-line-sealed=sha256:" + zeros,
		"user shell=/bin/sh password=sha256:" + zeros, `user comment="a b" password=sha256:` + zeros} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := kind.ParseImage(s)
		if err != nil {
			return
		}
		var got []string
		eachBlobText([]byte(s), func(k []byte) { got = append(got, string(k)) })
		want := m.Blobs()
		if len(got) != len(want) {
			t.Fatalf("%q: keys %q, Blobs %q", s, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: keys %q, Blobs %q", s, got, want)
			}
		}
		got = nil
		eachBlobTextOf([]byte(s), stepfmt.KindUser, func(k []byte) { got = append(got, string(k)) })
		if want := m.WroteBlobs(stepfmt.KindUser); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: keys of what trail wrote %q, WroteBlobs %q", s, got, want)
		}
	})
}
