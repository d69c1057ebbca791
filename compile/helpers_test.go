package compile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/tools/txtar"

	"trail/gitrepo"
	"trail/stepfmt"
)

// testFacts are the facts every test compiles with unless it says otherwise.
func testFacts() Facts {
	return Facts{
		Hostname: "web1", FQDN: "web1.example.org",
		DebianVersion: "12.5", DebianMajor: 12, DebianCodename: "bookworm",
		Arch: "amd64", Addresses: []string{"10.0.0.5", "2001:db8::5"}, MemoryMB: 2048,
		CPUs: 2, Packages: map[string]string{"nginx": "1.22.1-9+deb12u1", "openssh-server": "1:9.2p1-2+deb12u3"},
		Units: []string{"nginx.service", "ssh.service"}, DefaultInterface: "eth0", DefaultGateway: "10.0.0.1",
		Virtualization: "kvm", Container: "none",
	}
}

// repoFS is archiveFS, except that an archive with symlinks (a section
// named "NAME -> TARGET") is written to a directory and read with
// gitrepo.DirFS, by the rules a commit is read by.
func repoFS(t testing.TB, a *txtar.Archive) fs.FS {
	links := false
	for _, f := range a.Files {
		links = links || strings.Contains(f.Name, " -> ")
	}
	if !links {
		return archiveFS(a)
	}
	dir := t.TempDir()
	for _, f := range a.Files {
		name, to, link := strings.Cut(f.Name, " -> ")
		if strings.HasPrefix(name, "want.") || !fs.ValidPath(name) || name == "." || strings.ContainsRune(to, 0) {
			continue
		}
		p := filepath.Join(dir, name)
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
			continue
		}
		if link {
			os.Symlink(to, p)
		} else {
			os.WriteFile(p, f.Data, 0o644)
		}
	}
	return gitrepo.DirFS(dir)
}

// archiveFS turns the files of an archive, minus want.* sections, into an
// fs.FS.
func archiveFS(a *txtar.Archive) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range a.Files {
		if strings.HasPrefix(f.Name, "want.") || !fs.ValidPath(f.Name) || f.Name == "." {
			continue
		}
		fsys[f.Name] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	return fsys
}

// checkInvariants asserts what every compile must hold: errors mean no
// steps; otherwise the list validates, prints and parses back to itself,
// every step has a source and an origin, and every FILE's content is in
// Blobs under its true hash.
func checkInvariants(t testing.TB, res *Result, diags hcl.Diagnostics) {
	t.Helper()
	if res == nil {
		t.Fatal("Compile returned a nil Result")
	}
	if diags.HasErrors() {
		if res.List != nil || res.Blobs != nil || res.Origins != nil {
			t.Fatalf("a compile with errors returned steps:\n%s", diags.Error())
		}
		for _, d := range diags {
			if d.Summary == "" {
				t.Errorf("diagnostic without a summary: %#v", d)
			}
		}
		return
	}
	if res.List == nil {
		t.Fatal("a compile without errors returned no list")
	}
	if errs := stepfmt.Validate(res.List); len(errs) > 0 {
		t.Fatalf("compiled list does not validate:\n%v", errs)
	}
	if len(res.Origins) != len(res.List.Steps) {
		t.Fatalf("%d origins for %d steps", len(res.Origins), len(res.List.Steps))
	}
	text := stepfmt.Format(res.List)
	back, errs := stepfmt.Parse("compiled", text)
	if len(errs) > 0 {
		t.Fatalf("printed list does not parse:\n%v\n%s", errs, text)
	}
	if !bytes.Equal(stepfmt.Format(back), text) {
		t.Fatalf("printed list does not round-trip:\n%s\nvs\n%s", text, stepfmt.Format(back))
	}
	for i, st := range res.List.Steps {
		if st.Src.IsZero() {
			t.Errorf("step %s has no source", st.ID())
		}
		if !back.Steps[i].Equal(st) || back.Steps[i].Src != st.Src {
			t.Errorf("step %d reads back as %s, was %s", i, back.Steps[i], st)
		}
		if res.Origins[i].Resource == "" || res.Origins[i].Range.Filename != st.Src.File {
			t.Errorf("step %s: origin %+v does not match source %s", st.ID(), res.Origins[i], st.Src)
		}
		if st.Kind != stepfmt.KindFile || st.Absent() {
			continue
		}
		h := st.Value("content")
		data, ok := res.Blobs[h]
		sum := sha256.Sum256(data)
		if !ok || "sha256:"+hex.EncodeToString(sum[:]) != h {
			t.Errorf("step %s: content %s missing from Blobs or hashed wrong", st.ID(), h)
		}
	}
}
