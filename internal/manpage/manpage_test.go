package manpage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	md := "# title\n\nIntro with `--flag` and **bold `x` here**.\n\n## Usage\n\n- one\n  continued\n- two\n\n```\n.dot line\n\\back\n```\n\n| a | b |\n|---|---|\n| `k` | v – w |\n\n### Sub\n\n    indented code\n"
	got, err := Render(Page{Name: "x", Section: "1", Date: "2026-01-02", Source: "x 1", Manual: "m", Summary: "does x"}, []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`.TH "X" "1" "2026\-01\-02" "x 1" "m"`,
		".SH NAME\nx \\- does x\n",
		".SH DESCRIPTION\n.PP\nIntro with \\fB\\-\\-flag\\fP and \\fBbold \\fBx\\fP here\\fR.\n",
		".SH \"USAGE\"\n",
		".IP \\(bu 4\none continued\n",
		".nf\n\\&.dot line\n\\eback\n.fi\n",
		".TP\n\\fBk\\fP\nv \\[u2013] w\n",
		".SS \"Sub\"\n",
		".nf\nindented code\n.fi",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "title") {
		t.Errorf("the document title should give way to NAME:\n%s", got)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render(Page{Name: "x", Section: "1"}, nil); err == nil {
		t.Error("no Summary: want an error")
	}
	_, err := Render(Page{Name: "x", Section: "1", Summary: "s"}, []byte("```\nopen"))
	if err == nil || !strings.Contains(err.Error(), "never closed") {
		t.Errorf("unclosed fence: got %v", err)
	}
}

// TestPagesFormat renders the shipped pages and has man(1) check them the
// way lintian does: any warning from groff fails.
func TestPagesFormat(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("SKIP: man not found, so groff did not check the pages: apt-get install man-db groff-base")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/manpage/mkman", "-version", "test", dir)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkman: %v\n%s", err, out)
	}
	for _, name := range []string{"trail.1", "trail-config.5"} {
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", filepath.Join(dir, name))
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: man --warnings: %v\n%s", name, err, stderr.String())
		}
	}
}
