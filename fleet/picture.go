package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// picture renders the shipped dashboard's panels from the live
// Prometheus into an HTML page (renderPage) and screenshots it with
// headless chromium into out: a picture of the fleet view where there is
// no Grafana. Only make fleet-picture asks for it; CI does not.
func (r *rig) picture(ctx context.Context, out string) error {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium not found on PATH: apt-get install -y chromium (it takes the picture): %w", err)
	}
	d, _, err := loadDashboard(filepath.Join(r.top, "docs", "grafana-dashboard.json"))
	if err != nil {
		return err
	}
	end := time.Now()
	res := map[string]result{}
	for _, p := range flatPanels(d.Panels) {
		for _, t := range p.Targets {
			var x result
			if t.Range {
				x.Series, err = r.queryRange(ctx, t.Expr, r.promStart, end)
			} else {
				x.Samples, err = r.query(ctx, t.Expr)
			}
			if err != nil {
				return fmt.Errorf("panel %q: %w", p.Title, err)
			}
			res[resultKey(p.Title, t.RefID)] = x
		}
	}
	page := filepath.Join(r.dir, "dashboard.html")
	hosts := map[string]string{}
	for _, h := range r.hosts {
		hosts[fmt.Sprintf("127.0.0.1:%d", h.port)] = h.name
	}
	if err := os.WriteFile(page, []byte(renderPage(d, res, hosts, end)), 0o644); err != nil {
		return err
	}
	profile, err := os.MkdirTemp(r.dir, "chromium.")
	if err != nil {
		return err
	}
	shot := filepath.Join(r.dir, "dashboard.png")
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := r.sh(ctx, r.dir, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+profile, "--screenshot="+shot, "--window-size=1400,1600",
		"file://"+page); err != nil {
		return err
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		return fmt.Errorf("chromium wrote no screenshot: %w", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		return fmt.Errorf("%s is not a PNG", shot)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return err
	}
	say("the dashboard's panels, rendered from Prometheus: %s (%d KiB)", out, len(png)/1024)
	return nil
}

// queryRange runs a range PromQL query from start to end, about 200
// points, on the rig's Prometheus.
func (r *rig) queryRange(ctx context.Context, q string, start, end time.Time) ([]series, error) {
	step := max(end.Sub(start)/200, time.Second)
	v := url.Values{"query": {q},
		"start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix()+1, 10)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	code, body, err := get(ctx, r.prom+"/api/v1/query_range?"+v.Encode())
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string   `json:"resultType"`
			Result     []series `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("range query %q: HTTP %d: %w: %s", q, code, err, body)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("range query %q: %s", q, resp.Error)
	}
	if resp.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("range query %q: result is a %s, want a matrix", q, resp.Data.ResultType)
	}
	return resp.Data.Result, nil
}
