package packages_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"trail/apply"
	"trail/apply/internal/sandbox"
	"trail/apply/internal/sandbox/engine"
	"trail/apply/kinds/packages"
	"trail/compile"
)

// signedRepo builds debs into a flat repository signed with a key made
// for the test and returns the repository and the key, armored.
func signedRepo(t *testing.T, debs ...sandbox.Deb) (dir, key string) {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg is not installed")
	}
	dir = t.TempDir()
	os.Chmod(dir, 0o755)
	var index strings.Builder
	for _, d := range debs {
		deb := sandbox.BuildDeb(t, dir, d)
		control, err := exec.Command("dpkg-deb", "-f", deb).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f: %v", err)
		}
		data, err := os.ReadFile(deb)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&index, "%sFilename: ./%s\nSize: %d\nSHA256: %x\n\n", control, filepath.Base(deb), len(data), sha256.Sum256(data))
	}
	packagesIdx := []byte(index.String())
	if err := os.WriteFile(filepath.Join(dir, "Packages"), packagesIdx, 0o644); err != nil {
		t.Fatal(err)
	}
	release := fmt.Sprintf("Origin: trail-test\nLabel: trail-test\nSuite: test\nCodename: test\nDate: %s\nSHA256:\n %x %d Packages\n",
		time.Now().UTC().Format(time.RFC1123Z), sha256.Sum256(packagesIdx), len(packagesIdx))
	if err := os.WriteFile(filepath.Join(dir, "Release"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	gpg := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("gpg", append([]string{"--batch", "--quiet", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return string(out)
	}
	gpg("--quick-gen-key", "trail test <trail@localhost>", "ed25519", "sign", "never")
	gpg("--clearsign", "--output", filepath.Join(dir, "InRelease"), filepath.Join(dir, "Release"))
	os.Chmod(filepath.Join(dir, "InRelease"), 0o644)
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	return dir, gpg("--armor", "--export")
}

// sourcesFile is a deb822 source of a flat repository with its key
// embedded, as apt_source writes it.
func sourcesFile(dir, key string) string {
	var b strings.Builder
	b.WriteString("Types: deb\nURIs: file:" + dir + "\nSuites: ./\nSigned-By:\n")
	for _, line := range strings.Split(strings.TrimSpace(key), "\n") {
		if line == "" {
			line = "."
		}
		b.WriteString(" " + line + "\n")
	}
	return b.String()
}

// listsOf names the files of apt's lists in the root that come from dir.
func listsOf(t *testing.T, sb *engine.Sandbox, dir string) []string {
	t.Helper()
	all, err := os.ReadDir(sb.Host("/var/lib/apt/lists"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	mangled := strings.ReplaceAll(strings.TrimPrefix(dir, "/"), "/", "_")
	for _, e := range all {
		if strings.Contains(e.Name(), mangled) {
			out = append(out, e.Name())
		}
	}
	return out
}

// One list adds a signed repository and a package only it has: the plan
// accepts the package, to be resolved after apt-get update; the apply
// updates apt's lists once the source is written and installs the
// package; the reverse removes the source, updates the lists again so
// they forget the repository, and purges the package.
func TestAptSourceAndItsPackageInOneList(t *testing.T) {
	sb := engine.NewDeb(t)
	dir, key := signedRepo(t, sandbox.Deb{Name: "trail-vendor", Version: "1.5"})
	list := "FILE /etc/apt/sources.list.d/vendor.sources {" + sourcesFile(dir, key) + "} mode=0644 owner=root group=root\nPKG trail-vendor\n"

	if _, err := sb.E.Plan(sb.List("PKG trail-vendor")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a plan of the package without its source: %v, want it unknown", err)
	}
	p, err := sb.E.Plan(sb.List(list))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var notes []string
	for i, c := range p.Changes {
		if c.Step.Target == "trail-vendor" {
			notes = p.Work[i].Notes
		}
	}
	if !strings.Contains(strings.Join(notes, "; "), "resolved after apt-get update") {
		t.Fatalf("the plan's notes of the package: %q, want it resolved after apt-get update", notes)
	}
	if got := listsOf(t, sb, dir); len(got) != 0 {
		t.Fatalf("the plan updated apt's lists: %v", got)
	}

	ev := sb.Record()
	sb.Apply(list, "c1")
	if got := sb.PkgState("trail-vendor"); got != "installed 1.5" {
		t.Fatalf("after the apply: %s, want the repository's package installed", got)
	}
	if got := listsOf(t, sb, dir); len(got) == 0 {
		t.Fatal("apt's lists do not have the repository")
	}
	updates := 0
	for _, e := range *ev {
		updates += strings.Count(e.Detail, "apt-get update")
	}
	if updates != 1 {
		t.Fatalf("%d apt-get updates reported, want one", updates)
	}

	sb.Apply("", "c0")
	if got := sb.PkgState("trail-vendor"); got != "absent" {
		t.Fatalf("after the reverse: %s, want absent", got)
	}
	if sb.Exists("/etc/apt/sources.list.d/vendor.sources") {
		t.Fatal("the reverse left the source")
	}
	if got := listsOf(t, sb, dir); len(got) != 0 {
		t.Fatalf("apt's lists still have the repository: %v", got)
	}
}

func TestIsSourcePath(t *testing.T) {
	for p, want := range map[string]bool{"/etc/apt/sources.list.d/x.sources": true, "/etc/apt/keyrings/x.asc": true,
		"/etc/apt/sources.list": true, "/etc/apt/sources.listx": false, "/etc/apt/apt.conf.d/x": false} {
		if got := packages.IsSourcePath(p); got != want {
			t.Errorf("IsSourcePath(%s) = %v, want %v", p, got, want)
		}
	}
}

// The apt_source block itself, with the repository's key exported as a
// binary keyring (gpg --export), compiles to a source apt trusts: the
// key is armored and embedded, so it holds under a --root too, where
// apt would read a Signed-By path from this machine, not the root.
func TestAptSourceBlockWithABinaryKey(t *testing.T) {
	sb := engine.NewDeb(t)
	dir, armored := signedRepo(t, sandbox.Deb{Name: "trail-vendor", Version: "2.0"})
	cmd := exec.Command("gpg", "--dearmor")
	cmd.Stdin = strings.NewReader(armored)
	key, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg --dearmor: %v", err)
	}
	repo := fstest.MapFS{
		"keys/vendor.gpg": &fstest.MapFile{Data: key},
		"main.hcl": &fstest.MapFile{Data: []byte(`package "trail-vendor" {}

apt_source "vendor" {
  uris   = ["file:` + dir + `"]
  suites = ["./"]
  key    = "keys/vendor.gpg"
}
`)},
	}
	res, diags := compile.Compile(repo, compile.Facts{Hostname: "h"}, compile.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for k, data := range res.Blobs {
		if got, err := sb.E.Store().Put(data); err != nil || got != k {
			t.Fatalf("store %s: %s, %v", k, got, err)
		}
	}
	if _, err := sb.E.Apply(context.Background(), res.List, apply.Meta{Commit: "c1"}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := sb.PkgState("trail-vendor"); got != "installed 2.0" {
		t.Fatalf("after the apply: %s", got)
	}
	if src := sb.Read("/etc/apt/sources.list.d/vendor.sources"); !strings.Contains(src, "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----") {
		t.Fatalf("the source does not embed the key:\n%s", src)
	}
}

// A package the new source does not have after all passes the plan,
// which cannot know, and fails the apply at its step, after the update;
// the apply is undone, the source is gone again, and apt-get update runs
// once more so that apt's lists forget the repository, as they were.
func TestAptSourceWithoutThePackageFailsTheApply(t *testing.T) {
	sb := engine.NewDeb(t)
	dir, key := signedRepo(t, sandbox.Deb{Name: "trail-vendor", Version: "1.5"})
	list := "FILE /etc/apt/sources.list.d/vendor.sources {" + sourcesFile(dir, key) + "} mode=0644 owner=root group=root\nPKG trail-vendr\n"
	if _, err := sb.E.Plan(sb.List(list)); err != nil {
		t.Fatalf("plan: %v", err)
	}
	ev := sb.Record()
	_, err := sb.ApplyErr(list, "c1")
	if err == nil || !strings.Contains(err.Error(), "PKG trail-vendr") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("apply: %v, want the package's step named and the package unknown", err)
	}
	if sb.Exists("/etc/apt/sources.list.d/vendor.sources") {
		t.Fatal("the undo left the source")
	}
	if got := sb.PkgState("trail-vendr"); got != "absent" {
		t.Fatalf("the package: %s", got)
	}
	if got := listsOf(t, sb, dir); len(got) != 0 {
		t.Fatalf("after the undo apt's lists still have the repository: %v", got)
	}
	var said bool
	for _, e := range ev.Of(apply.EventRollback) {
		said = said || strings.Contains(e.Detail, "apt-get update: apt's sources were put back")
	}
	if !said {
		t.Fatal("the rollback does not say it updated apt's lists")
	}
}

// An apply that wrote a source but failed before it updated apt's lists
// leaves them alone when it is undone: they are as they were.
func TestAptSourceUndoneBeforeAnUpdate(t *testing.T) {
	sb := engine.NewDeb(t)
	dir, key := signedRepo(t, sandbox.Deb{Name: "trail-vendor", Version: "1.5"})
	before, _ := os.ReadDir(sb.Host("/var/lib/apt/lists"))
	ev := sb.Record()
	_, err := sb.ApplyErr("FILE /etc/apt/sources.list.d/vendor.sources {"+sourcesFile(dir, key)+"} mode=0644 owner=root group=root\nCHECK no run=false timeout=5s\n", "c1")
	if err == nil {
		t.Fatal("an apply whose check fails succeeded")
	}
	after, _ := os.ReadDir(sb.Host("/var/lib/apt/lists"))
	if len(after) != len(before) || len(listsOf(t, sb, dir)) != 0 {
		t.Fatalf("apt's lists changed: %d entries before, %d after", len(before), len(after))
	}
	for _, e := range ev.Of(apply.EventRollback) {
		if strings.Contains(e.Detail, "apt-get update") {
			t.Fatalf("the undo updated apt's lists: %s", e.Detail)
		}
	}
}

// Recovery has no account of what the interrupted apply did: an undo
// that put back a source path updates apt's lists (the apply may have
// fetched them), one that did not leaves them alone.
func TestAptListsRefreshedAtRecovery(t *testing.T) {
	sb := engine.NewDeb(t)
	dir, key := signedRepo(t, sandbox.Deb{Name: "trail-vendor", Version: "1.5"})
	sb.Write("/etc/apt/sources.list.d/vendor.sources", sourcesFile(dir, key), 0o644)
	other := sb.List("FILE /srv/x {x}\nPKG trail-vendor\n").Steps
	if done, err := (packages.Package{}).Refresh(sb.Exec(), other); err != nil || done != "" || len(listsOf(t, sb, dir)) != 0 {
		t.Fatalf("an undo of no source path: %q %v, lists %v", done, err, listsOf(t, sb, dir))
	}
	src := sb.List("FILE /etc/apt/sources.list.d/vendor.sources {x}\n").Steps
	done, err := (packages.Package{}).Refresh(sb.Exec(), src)
	if err != nil || done != "apt-get update: apt's sources were put back" {
		t.Fatalf("an undo of a source path: %q %v", done, err)
	}
	if len(listsOf(t, sb, dir)) == 0 {
		t.Fatal("apt's lists were not updated from the sources put back")
	}
}
