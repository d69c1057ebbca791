package main

import (
	"cmp"
	"fmt"
	"html"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// result is what one query of a panel returned: an instant query's
// samples, a range query's series, or the error Prometheus gave.
type result struct {
	Samples []sample
	Series  []series
	Err     string
}

// series is one series of a range query's result.
type series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// resultKey names one query's result: its panel's title and its refId.
func resultKey(title, refID string) string { return title + "\x00" + refID }

// palette colours the series of a chart, in order.
var palette = []string{"#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2",
	"#b877d9", "#fade2a", "#96d98d", "#ffb357", "#ca95e5", "#c0d8ff"}

// renderPage draws a dashboard's panels from its queries' results as one
// self-contained HTML page (no script, nothing fetched), laid out on
// Grafana's 24-column grid: tables as tables, a stat as big numbers, a
// pie chart as bars of each share, a time series as an SVG line chart.
// It stands in for Grafana where there is none, to picture the panels.
// A chart's legend names an instance by its host (its host label, or
// hosts maps one to the other) where Grafana would show the address,
// which says less.
func renderPage(d dashboard, res map[string]result, hosts map[string]string, when time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title><style>
body{margin:0;padding:12px 16px;background:#111217;color:#ccccdc;font:13px "DejaVu Sans",sans-serif}
h1{font-size:18px;font-weight:500;margin:2px 0 10px;color:#fff}
h1 small{font-size:12px;color:#8e8e9a;margin-left:12px}
.grid{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:38px;gap:8px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;padding:6px 10px;overflow:hidden}
h2{font-size:13px;font-weight:500;margin:0 0 6px;color:#fff}
table{border-collapse:collapse;width:100%%}
th{text-align:left;color:#6e9fff;font-weight:500;font-size:12px;border-bottom:1px solid #2c3235;padding:3px 4px;white-space:nowrap}
td{border-bottom:1px solid #22252b;padding:3px 4px;font-family:"DejaVu Sans Mono",monospace;font-size:11px;white-space:nowrap}
.stats{display:flex;gap:10px;height:calc(100%% - 26px)}
.stat{flex:1;display:flex;flex-direction:column;justify-content:center;align-items:center;border-radius:3px;background:#1f2a20}
.stat b{font-size:44px;color:#73bf69}
.stat.warn{background:#2f2424}.stat.warn b{color:#f2495c}
.stat.pin{background:#2c2a1a}.stat.pin b{color:#f2cc0c}
.bar{margin:8px 0}.bar div{height:18px;border-radius:2px}
.legend{display:flex;flex-wrap:wrap;gap:2px 12px;font-size:11px}
.legend span::before{content:"";display:inline-block;width:10px;height:3px;margin:0 4px 3px 0;background:var(--c)}
.none{color:#8e8e9a;font-style:italic}.err{color:#f2495c}
</style></head><body>
<h1>%s<small>rendered from Prometheus at %s</small></h1>
<div class="grid">
`, esc(d.Title), esc(d.Title), when.UTC().Format("2006-01-02 15:04:05 UTC"))
	for _, p := range flatPanels(d.Panels) {
		g := p.GridPos
		fmt.Fprintf(&b, `<div class="panel" style="grid-column:%d / span %d;grid-row:%d / span %d"><h2>%s</h2>`,
			g.X+1, max(g.W, 1), g.Y+1, max(g.H, 1), esc(p.Title))
		switch p.Type {
		case "stat":
			renderStat(&b, p, res)
		case "piechart":
			renderShares(&b, p, res)
		case "timeseries":
			renderChart(&b, p, res, hosts)
		default:
			renderTable(&b, p, res)
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</div>\n</body></html>\n")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// flatPanels returns the panels of a dashboard, those of rows included,
// in reading order.
func flatPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		if p.Type == "row" {
			out = append(out, flatPanels(p.Panels)...)
			continue
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b panel) int {
		if a.GridPos.Y != b.GridPos.Y {
			return a.GridPos.Y - b.GridPos.Y
		}
		return a.GridPos.X - b.GridPos.X
	})
	return out
}

// failed writes a query's error into the panel and says whether there was one.
func failed(b *strings.Builder, r result) bool {
	if r.Err != "" {
		fmt.Fprintf(b, `<p class="err">%s</p>`, esc(r.Err))
		return true
	}
	return false
}

// shown is a label's value as a panel shows it: commits cut to 12 hex
// digits so that a table fits its panel.
func shown(label, v string) string {
	if label == "commit" && len(v) > 12 {
		return v[:12]
	}
	return v
}

// number formats a sample value: whole numbers as such, others to two
// decimals, with the panel's unit.
func number(v, unit string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return v
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		s = strconv.FormatFloat(f, 'f', 0, 64)
	}
	if unit == "s" {
		s += " s"
	}
	return s
}

var legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legend names a series as Grafana does from a legendFormat, or by its
// labels when there is none.
func legend(format string, m map[string]string) string {
	if format == "" {
		var parts []string
		for _, k := range labelKeys([]map[string]string{m}) {
			parts = append(parts, k+"="+shown(k, m[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return legendVar.ReplaceAllStringFunc(format, func(s string) string {
		k := legendVar.FindStringSubmatch(s)[1]
		return shown(k, m[k])
	})
}

// labelKeys returns the labels a table shows: host first, then the others
// sorted; not the metric name nor the scrape job, the same on every row.
func labelKeys(ms []map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range ms {
		for k := range m {
			if k != "__name__" && k != "job" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if (a == "host") != (b == "host") {
			if a == "host" {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

func renderTable(b *strings.Builder, p panel, res map[string]result) {
	var rows []sample
	for _, t := range p.Targets {
		r := res[resultKey(p.Title, t.RefID)]
		if failed(b, r) {
			return
		}
		rows = append(rows, r.Samples...)
	}
	if len(rows) == 0 {
		b.WriteString(`<p class="none">No data</p>`)
		return
	}
	var ms []map[string]string
	for _, s := range rows {
		ms = append(ms, s.Metric)
	}
	keys := labelKeys(ms)
	line := func(s sample) string {
		var cells []string
		for _, k := range keys {
			cells = append(cells, shown(k, s.Metric[k]))
		}
		return strings.Join(cells, "\x00")
	}
	slices.SortFunc(rows, func(a, b sample) int { return strings.Compare(line(a), line(b)) })
	b.WriteString("<table><tr>")
	for _, k := range keys {
		fmt.Fprintf(b, "<th>%s</th>", esc(k))
	}
	b.WriteString("<th>Value</th></tr>")
	for _, s := range rows {
		b.WriteString("<tr>")
		for _, k := range keys {
			fmt.Fprintf(b, "<td>%s</td>", esc(shown(k, s.Metric[k])))
		}
		fmt.Fprintf(b, "<td>%s</td></tr>", esc(number(s.value(), p.FieldConfig.Defaults.Unit)))
	}
	b.WriteString("</table>")
}

func renderStat(b *strings.Builder, p panel, res map[string]result) {
	b.WriteString(`<div class="stats">`)
	for _, t := range p.Targets {
		r := res[resultKey(p.Title, t.RefID)]
		v := "–"
		if r.Err != "" {
			v = "error"
		} else if len(r.Samples) > 0 {
			v = number(r.Samples[0].value(), p.FieldConfig.Defaults.Unit)
		}
		class := "stat"
		switch {
		case strings.Contains(t.LegendFormat, "fail") && v != "0":
			class += " warn"
		case strings.Contains(t.LegendFormat, "pin") && v != "0":
			class += " pin"
		}
		fmt.Fprintf(b, `<div class="%s"><b>%s</b>%s</div>`, class, esc(v), esc(t.LegendFormat))
	}
	b.WriteString("</div>")
}

// renderShares draws a pie chart's slices as bars of their share.
func renderShares(b *strings.Builder, p panel, res map[string]result) {
	for i, t := range p.Targets {
		r := res[resultKey(p.Title, t.RefID)]
		if failed(b, r) {
			return
		}
		for j, s := range r.Samples {
			f, _ := strconv.ParseFloat(s.value(), 64)
			f = math.Max(0, math.Min(1, f))
			fmt.Fprintf(b, `<div class="bar">%s: %.0f %%<div style="width:%.1f%%;background:%s"></div></div>`,
				esc(legend(t.LegendFormat, s.Metric)), f*100, f*100, palette[(i+j)%len(palette)])
		}
		if len(r.Samples) == 0 {
			b.WriteString(`<p class="none">No data</p>`)
		}
	}
}

// renderChart draws a time series panel's series as lines on one SVG
// chart, the value axis from zero (or the lowest value) to the highest.
func renderChart(b *strings.Builder, p panel, res map[string]result, hosts map[string]string) {
	type line struct {
		name string
		pts  [][2]float64
	}
	var lines []line
	t0, t1 := math.Inf(1), math.Inf(-1)
	v0, v1 := 0.0, math.Inf(-1)
	for _, t := range p.Targets {
		r := res[resultKey(p.Title, t.RefID)]
		if failed(b, r) {
			return
		}
		for _, s := range r.Series {
			m := s.Metric
			if h := cmp.Or(m["host"], hosts[m["instance"]]); h != "" && m["instance"] != "" {
				m = maps.Clone(m)
				m["instance"] = h
			}
			l := line{name: legend(t.LegendFormat, m)}
			for _, tv := range s.Values {
				ts, ok := tv[0].(float64)
				str, _ := tv[1].(string)
				v, err := strconv.ParseFloat(str, 64)
				if !ok || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				l.pts = append(l.pts, [2]float64{ts, v})
				t0, t1 = math.Min(t0, ts), math.Max(t1, ts)
				v0, v1 = math.Min(v0, v), math.Max(v1, v)
			}
			if len(l.pts) > 0 {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		b.WriteString(`<p class="none">No data</p>`)
		return
	}
	slices.SortFunc(lines, func(a, b line) int { return strings.Compare(a.name, b.name) })
	if v1 <= v0 {
		v1 = v0 + 1
	}
	if t1 <= t0 {
		t1 = t0 + 1
	}
	const w, h, left, bottom = 640.0, 230.0, 56.0, 18.0
	x := func(t float64) float64 { return left + (t-t0)/(t1-t0)*(w-left-4) }
	y := func(v float64) float64 { return 4 + (v1-v)/(v1-v0)*(h-bottom-8) }
	unit := p.FieldConfig.Defaults.Unit
	fmt.Fprintf(b, `<svg viewBox="0 0 %g %g" width="100%%" style="display:block">`, w, h)
	for _, v := range []float64{v0, (v0 + v1) / 2, v1} {
		fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#2c3235"/>`, left, w-4, y(v), y(v))
		fmt.Fprintf(b, `<text x="%g" y="%.1f" fill="#8e8e9a" font-size="11" text-anchor="end">%s</text>`,
			left-6, y(v)+4, esc(number(strconv.FormatFloat(v, 'f', -1, 64), unit)))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" fill="#8e8e9a" font-size="11">%s</text>`, left, h-2,
		time.Unix(int64(t0), 0).UTC().Format("15:04:05"))
	fmt.Fprintf(b, `<text x="%g" y="%g" fill="#8e8e9a" font-size="11" text-anchor="end">%s</text>`, w-4, h-2,
		time.Unix(int64(t1), 0).UTC().Format("15:04:05"))
	for i, l := range lines {
		var pts []string
		for _, pt := range l.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(pt[0]), y(pt[1])))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`,
			palette[i%len(palette)], strings.Join(pts, " "))
	}
	b.WriteString(`</svg><div class="legend">`)
	for i, l := range lines {
		fmt.Fprintf(b, `<span style="--c:%s">%s</span>`, palette[i%len(palette)], esc(l.name))
	}
	b.WriteString("</div>")
}
