package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() string {
	v, _ := s.Value[1].(string)
	return v
}

// freePort asks the kernel for a free port on 127.0.0.1. Another program
// could take it before ours binds it; start retries with a new one then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var client = &http.Client{Timeout: 5 * time.Second}

// get fetches a URL on 127.0.0.1.
func get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// query runs an instant PromQL query on the rig's Prometheus.
func (r *rig) query(ctx context.Context, q string) ([]sample, error) {
	code, body, err := get(ctx, r.prom+"/api/v1/query?query="+url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("query %q: HTTP %d: %w: %s", q, code, err, body)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, resp.Error)
	}
	if resp.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result is a %s, want a vector", q, resp.Data.ResultType)
	}
	var out []sample
	if err := json.Unmarshal(resp.Data.Result, &out); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	return out, nil
}

// await polls a query until want accepts its result, or the rig's
// deadline passes; the error then shows the last result. Prometheus sees a
// change only at its next scrape and rule evaluation, so every check of
// it waits for the state it expects rather than for a time.
func (r *rig) await(ctx context.Context, q string, want func([]sample) error) ([]sample, error) {
	ctx, cancel := context.WithTimeout(ctx, r.deadline)
	defer cancel()
	var last []sample
	var why error
	for {
		s, err := r.query(ctx, q)
		if err == nil {
			last = s
			if why = want(s); why == nil {
				return s, nil
			}
		} else {
			why = err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%s: after %s: %v (last result: %s)", q, r.deadline, why, show(last))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// show prints a result compactly: each series' labels and value.
func show(s []sample) string {
	var parts []string
	for _, x := range s {
		var labels []string
		for k, v := range x.Metric {
			if k != "job" {
				labels = append(labels, k+"="+v)
			}
		}
		sort.Strings(labels)
		parts = append(parts, "{"+strings.Join(labels, ",")+"} "+x.value())
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, "; ") + "]"
}

// hostsOf returns the sorted host labels of a result.
func hostsOf(s []sample) []string {
	var h []string
	for _, x := range s {
		h = append(h, x.Metric["host"])
	}
	sort.Strings(h)
	return h
}

// startExporter runs prometheus-node-exporter for one host: only its
// textfile collector, on its own port of 127.0.0.1, and waits until it
// serves the host's trail metrics.
func (r *rig) startExporter(ctx context.Context, h *host) error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		_, err = r.start(fmt.Sprintf("exporter-%s-%d", h.name, attempt), "prometheus-node-exporter",
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
			"--collector.disable-defaults", "--collector.textfile",
			"--collector.textfile.directory="+h.textfileDir)
		if err != nil {
			return err
		}
		lastErr = waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), "trail_applied_info")
		if lastErr == nil {
			h.port = port
			return nil
		}
	}
	return fmt.Errorf("node exporter of %s: %w", h.name, lastErr)
}

// waitHTTP waits until u answers 200 with a body holding want; 30 s at
// most (a program that failed to bind its port never answers).
func waitHTTP(ctx context.Context, u, want string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		code, body, err := get(ctx, u)
		if err == nil && code == http.StatusOK && strings.Contains(string(body), want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not serve %q within 30 s (last: %v, HTTP %d)", u, want, err, code)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startPrometheus writes a config scraping every host's exporter each
// second, with docs/alerts.yml as its rules evaluated each second, checks
// it with promtool, and runs Prometheus on 127.0.0.1 with a private data
// directory.
func (r *rig) startPrometheus(ctx context.Context) error {
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - %q\nscrape_configs:\n  - job_name: trail\n    static_configs:\n",
		filepath.Join(r.top, "docs", "alerts.yml"))
	for _, h := range r.hosts {
		fmt.Fprintf(&cfg, "      - targets: [\"127.0.0.1:%d\"]\n        labels: {host: %q, branch_tracked: %q}\n", h.port, h.name, h.branch)
	}
	path := filepath.Join(r.dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	if _, err := r.sh(ctx, r.dir, "promtool", "check", "config", path); err != nil {
		return err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		_, err = r.start(fmt.Sprintf("prometheus-%d", attempt), "prometheus",
			"--config.file="+path,
			"--storage.tsdb.path="+filepath.Join(r.dir, fmt.Sprintf("prometheus-data-%d", attempt)),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
			"--log.level=warn")
		if err != nil {
			return err
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if lastErr = waitHTTP(ctx, base+"/-/ready", "Ready"); lastErr == nil {
			r.prom, r.promStart = base, time.Now()
			return nil
		}
	}
	return fmt.Errorf("prometheus: %w (see its log in %s/log)", lastErr, r.dir)
}
