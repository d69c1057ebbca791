package main

import (
	"html"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRenderPage draws the shipped dashboard from fixed query results:
// every panel is on the page under its title, each kind of panel shows
// its data, and the page fetches nothing.
func TestRenderPage(t *testing.T) {
	d, _, err := loadDashboard(filepath.Join("..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	const fix, old = "16fab8f5fd57aa00112233445566778899aabbcc", "0baf8607b766aa00112233445566778899aabbcc"
	hosts := map[string]string{"127.0.0.1:9101": "h01", "127.0.0.1:9102": "h02"}
	one := func(v string, labels ...string) sample {
		m := map[string]string{"job": "trail"}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		return sample{Metric: m, Value: [2]any{1765000000.0, v}}
	}
	res := map[string]result{}
	panels := flatPanels(d.Panels)
	for _, p := range panels {
		for _, tg := range p.Targets {
			var x result
			switch {
			case tg.Range:
				for inst := range hosts {
					x.Series = append(x.Series, series{Metric: map[string]string{"instance": inst},
						Values: [][2]any{{1765000000.0, "0"}, {1765000001.0, "2.5"}, {1765000002.0, "NaN"}}})
				}
				x.Series = append(x.Series, series{Metric: map[string]string{"instance": "127.0.0.1:9103", "host": "h03"},
					Values: [][2]any{{1765000000.0, "1"}}})
			case p.Type == "stat":
				x.Samples = []sample{one("12")}
			case p.Type == "piechart":
				x.Samples = []sample{one("0.9166666666666666", "commit", fix), one("0.08333333333333333", "commit", old)}
			case strings.Contains(tg.Expr, "trail_pinned"):
				x.Samples = []sample{one("1", "host", "h03", "commit", old, "instance", "127.0.0.1:9103")}
			case strings.HasPrefix(tg.Expr, "count by (branch, commit)"):
				x.Samples = []sample{one("11", "branch", "main", "commit", fix), one("1", "commit", old)}
			}
			res[resultKey(p.Title, tg.RefID)] = x
		}
	}
	res[resultKey("Last apply failed", "A")] = result{Err: `bad_data: parse error`}
	page := renderPage(d, res, hosts, time.Unix(1765000003, 0))

	if len(panels) < 10 {
		t.Fatalf("the dashboard has %d panels, want its 10 at least", len(panels))
	}
	if n := strings.Count(page, `<div class="panel"`); n != len(panels) {
		t.Errorf("the page has %d panels, the dashboard %d", n, len(panels))
	}
	for _, p := range panels {
		if h := "<h2>" + html.EscapeString(p.Title) + "</h2>"; strings.Count(page, h) != 1 {
			t.Errorf("the page does not hold %s once", h)
		}
	}
	for _, want := range []string{
		"<title>trail fleet</title>",
		"grid-column:1 / span 12;grid-row:1 / span 8", // Hosts per commit, where Grafana puts it
		"<td>16fab8f5fd57</td>",                       // a commit, cut to 12 digits
		"<td>11</td>",                                 // its hosts
		"<td>h03</td>",                                // the pinned host
		"16fab8f5fd57: 92 %",                          // its share
		"<b>12</b>reporting",                          // a stat
		"bad_data: parse error",                       // a query's error, in its panel
		"<polyline",                                   // a chart
		`>h01</span>`,                                 // its legend, by host
		`>h03</span>`,                                 // by a series' own host label
		"2.50 s",                                      // its axis, in the panel's unit
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{fix, "127.0.0.1:9101</span>", "127.0.0.1:9103</span>", "<script", "http://", "https://", "src=", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}
