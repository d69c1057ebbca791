package compile

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// docFixtures are the repository files the examples of docs/language.md
// refer to.
var docFixtures = map[string]string{
	"files/issue.net":          "Authorized use only.\n",
	"files/nginx.conf":         "events {}\n",
	"templates/nginx.conf.tpl": "worker_processes ${workers};\n%{ for a in host.addresses ~}\nlisten ${a};\n%{ endfor ~}\n",
	"modules/vhost/vhost.tpl":  "server_name ${domain};\nlisten ${port};\n",
	"www/index.html":           "<h1>hi</h1>\n",
	"www/drafts/x.html":        "draft\n",
	"roles/web.hcl":            "package \"web-role\" {}\n",
	"common/base.hcl":          "package \"base-role\" {}\n",
	"conf.d/a.conf":            "a\n",
	"conf.d/sub/b.conf":        "b\n",
	"sites/default":            "server {}\n",
	"keys/vendor.asc":          "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0000BYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n",
	"secrets/db.pass.age":      "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n",
}

// TestDocExamples compiles every ```hcl block of docs/language.md as the
// only root file of a repository, so the documentation cannot drift from
// the language. A block whose fence names a path (```hcl modules/x.hcl) is
// a repository file the other examples may use.
func TestDocExamples(t *testing.T) {
	f, err := os.Open("../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsys := fstest.MapFS{}
	for name, data := range docFixtures {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	type example struct {
		line int
		file string
		text string
	}
	var examples []example
	var cur *example
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(text, "```hcl"):
			cur = &example{line: line, file: strings.TrimSpace(strings.TrimPrefix(text, "```hcl"))}
		case cur != nil && text == "```":
			if cur.file != "" {
				fsys[cur.file] = &fstest.MapFile{Data: []byte(cur.text)}
			} else {
				examples = append(examples, *cur)
			}
			cur = nil
		case cur != nil:
			cur.text += text + "\n"
		}
	}
	for _, ex := range examples {
		repo := fstest.MapFS{"main.hcl": &fstest.MapFile{Data: []byte(ex.text)}}
		for k, v := range fsys {
			repo[k] = v
		}
		res, diags := Compile(repo, testFacts(), Options{})
		checkInvariants(t, res, diags)
		if diags.HasErrors() {
			t.Errorf("example at docs/language.md:%d does not compile:\n%s", ex.line, strings.Join(Lines(diags), "\n"))
		} else if len(res.List.Steps) == 0 {
			t.Errorf("example at docs/language.md:%d makes no steps", ex.line)
		}
	}
	n := len(examples)
	if n < 15 {
		t.Errorf("found only %d examples in docs/language.md", n)
	}
}
