package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stanzas splits a Packages file into its paragraphs as field maps.
func stanzas(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur, last = map[string]string{}, ""
		case line[0] == ' ':
			cur[last] += "\n" + line
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("Packages: line %q is not a field", line)
			}
			last = k
			cur[k] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// TestRepo builds the local repository and checks that every package dir
// became a .deb that the Packages index describes truly, that Release
// hashes the index, and that modes were normalised.
func TestRepo(t *testing.T) {
	need(t, "dpkg-deb")
	out := t.TempDir()
	if b, err := exec.Command("./repo.sh", out).CombinedOutput(); err != nil {
		t.Fatalf("repo.sh: %v\n%s", err, b)
	}
	dirs, _ := filepath.Glob("debs/*_*")
	pk, err := os.ReadFile(filepath.Join(out, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	got := stanzas(t, pk)
	if len(got) != len(dirs) || len(dirs) == 0 {
		t.Fatalf("Packages has %d entries for %d package dirs", len(got), len(dirs))
	}
	for _, st := range got {
		name := st["Package"] + "_" + st["Version"]
		if _, err := os.Stat(filepath.Join("debs", name, "DEBIAN/control")); err != nil {
			t.Errorf("%s: no such package dir: %v", name, err)
		}
		deb, err := os.ReadFile(filepath.Join(out, st["Filename"]))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st["Size"] != strconv.Itoa(len(deb)) || st["SHA256"] != sha(deb) {
			t.Errorf("%s: index says size %s sha256 %s, file has %d %s", name, st["Size"], st["SHA256"], len(deb), sha(deb))
		}
	}
	rel, err := os.ReadFile(filepath.Join(out, "Release"))
	if err != nil {
		t.Fatal(err)
	}
	want := " " + sha(pk) + " " + strconv.Itoa(len(pk)) + " Packages\n"
	if !strings.Contains(string(rel), want) {
		t.Errorf("Release does not hash Packages as %q:\n%s", want, rel)
	}
	list, err := exec.Command("dpkg-deb", "-c", filepath.Join(out, "trail-e2e-hello_1.0_all.deb")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(list), "-rwxr-xr-x root/root") || !strings.Contains(string(list), "./usr/bin/trail-e2e-hello") {
		t.Errorf("trail-e2e-hello is not an executable owned by root:\n%s", list)
	}
}

// TestRepoWithApt points a private apt at the repository: no host apt
// configuration, state or cache is read or written. apt must accept the
// unsigned flat repository, pick the newest version as candidate and
// resolve trail-e2e-svc's dependency.
func TestRepoWithApt(t *testing.T) {
	need(t, "dpkg-deb", "apt-get", "apt-cache")
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if b, err := exec.Command("./repo.sh", repo).CombinedOutput(); err != nil {
		t.Fatalf("repo.sh: %v\n%s", err, b)
	}
	for _, d := range []string{"parts", "preferences", "state/lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sources := filepath.Join(dir, "sources.list")
	if err := os.WriteFile(sources, []byte("deb [trusted=yes] file:"+repo+" ./\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(dir, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// APT_CONFIG is read before apt.conf.d, so pointing Dir::Etc::Parts
	// away here keeps every host setting (and its hooks) out.
	conf := filepath.Join(dir, "apt.conf")
	settings := map[string]string{
		"Dir::Etc::Main":             "/dev/null",
		"Dir::Etc::Parts":            filepath.Join(dir, "parts"),
		"Dir::Etc::SourceList":       sources,
		"Dir::Etc::SourceParts":      filepath.Join(dir, "parts"),
		"Dir::Etc::Preferences":      filepath.Join(dir, "preferences/none"),
		"Dir::Etc::PreferencesParts": filepath.Join(dir, "preferences"),
		"Dir::State":                 filepath.Join(dir, "state"),
		"Dir::State::status":         status,
		"Dir::Cache":                 filepath.Join(dir, "cache"),
		"Debug::NoLocking":           "1",
		"APT::Sandbox::User":         "root",
	}
	var cb strings.Builder
	for k, v := range settings {
		fmt.Fprintf(&cb, "%s %q;\n", k, v)
	}
	if err := os.WriteFile(conf, []byte(cb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	apt := func(tool string, args ...string) string {
		t.Helper()
		cmd := exec.Command(tool, args...)
		cmd.Env = append(os.Environ(), "APT_CONFIG="+conf, "LC_ALL=C")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if dump := apt("apt-config", "dump"); strings.Contains(dump, "Post-Invoke") || !strings.Contains(dump, sources) {
		t.Fatalf("the private apt configuration leaks host settings:\n%s", dump)
	}
	apt("apt-get", "update")
	if pol := apt("apt-cache", "policy", "trail-e2e-hello"); !strings.Contains(pol, "Candidate: 2.0") {
		t.Errorf("want candidate 2.0 of trail-e2e-hello:\n%s", pol)
	}
	sim := apt("apt-get", "install", "--simulate", "trail-e2e-svc")
	for _, want := range []string{"Inst trail-e2e-hello (2.0", "Inst trail-e2e-svc (1.0"} {
		if !strings.Contains(sim, want) {
			t.Errorf("simulated install lacks %q:\n%s", want, sim)
		}
	}
}

// TestRepoAddsReadyDebs gives repo.sh a directory of ready .debs, as
// mirrordebs.sh makes them: each is copied as it is and indexed with its
// own control fields, next to the packages built from debs/.
func TestRepoAddsReadyDebs(t *testing.T) {
	need(t, "dpkg-deb")
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: real-thing\nVersion: 1.2-3+deb12u1\nArchitecture: all\nMaintainer: e2e <e2e@localhost>\nDepends: trail-e2e-lib\nDescription: a ready package\n"
	if err := os.WriteFile(filepath.Join(tree, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ready, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(ready, "real-thing_1.2-3+deb12u1_all.deb")
	if b, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", tree, src).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, b)
	}
	out := filepath.Join(dir, "repo")
	if b, err := exec.Command("./repo.sh", out, ready).CombinedOutput(); err != nil {
		t.Fatalf("repo.sh: %v\n%s", err, b)
	}
	pk, err := os.ReadFile(filepath.Join(out, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("debs/*_*")
	got := stanzas(t, pk)
	if len(got) != len(dirs)+1 {
		t.Fatalf("Packages has %d entries, want %d built and 1 ready", len(got), len(dirs))
	}
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range got {
		if st["Package"] != "real-thing" {
			continue
		}
		if st["Version"] != "1.2-3+deb12u1" || st["Depends"] != "trail-e2e-lib" || st["Filename"] != "./real-thing_1.2-3+deb12u1_all.deb" {
			t.Errorf("the ready package's stanza lost its control fields: %v", st)
		}
		deb, err := os.ReadFile(filepath.Join(out, st["Filename"]))
		if err != nil {
			t.Fatal(err)
		}
		if sha(deb) != sha(want) || st["SHA256"] != sha(want) {
			t.Errorf("the ready package was not copied as it is")
		}
		return
	}
	t.Errorf("no stanza for the ready package:\n%s", pk)
}

// TestRepoRefusesEmptyDebDir: a directory meant to hold .debs but holding
// none is a mistake upstream, not an empty addition.
func TestRepoRefusesEmptyDebDir(t *testing.T) {
	need(t, "dpkg-deb")
	dir := t.TempDir()
	b, err := exec.Command("./repo.sh", filepath.Join(dir, "repo"), dir).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "no .deb files to add") {
		t.Errorf("repo.sh with an empty deb dir: %v\n%s", err, b)
	}
}
