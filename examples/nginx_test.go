package examples

import (
	"os"
	"strings"
	"testing"

	"trail/compile"
)

// TestNginxExample compiles examples/nginx, which the e2e scenario deploys
// on a real machine, and holds the order that lets it apply in one commit
// on a host without nginx: the package first (owning what the site and the
// web root go into), the site, its link and the web root
// after it, the unit after the files it reloads on, the checks last.
func TestNginxExample(t *testing.T) {
	res, diags := compile.Compile(os.DirFS("nginx"), compile.Facts{Hostname: "web1", FQDN: "web1"}, compile.Options{})
	if diags.HasErrors() {
		t.Fatalf("examples/nginx does not compile: %s", diags.Error())
	}
	var got []string
	for _, s := range res.List.Steps {
		got = append(got, string(s.Kind)+" "+s.Target)
	}
	want := []string{
		"PKG nginx",
		"PKG curl",
		"FILE /etc/nginx/sites-available/example",
		"LINK /etc/nginx/sites-enabled/example",
		"DIR /var/www/example",
		"FILE /var/www/example/index.html",
		"UNIT nginx.service",
		"CHECK nginx_config",
		"CHECK http",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	pkg := res.List.Steps[0]
	for _, dir := range []string{"/etc/nginx", "/var/www"} {
		if !strings.Contains(","+pkg.Value("owns")+",", ","+dir+",") {
			t.Errorf("PKG nginx does not own %s: owns=%s", dir, pkg.Value("owns"))
		}
	}
	unit := res.List.Steps[6]
	if unit.Value("reload-on") != "/etc/nginx/sites-available/example,/etc/nginx/sites-enabled/example" {
		t.Errorf("the unit does not reload on its site: %s", unit.Attrs)
	}
}
