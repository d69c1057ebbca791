package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// panel is what the rig and its test read of a Grafana panel.
type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"` // a row's panels
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []target `json:"targets"`
}

// target is one query of a panel; Range asks for a time series.
type target struct {
	RefID        string `json:"refId"`
	Expr         string `json:"expr"`
	Range        bool   `json:"range"`
	LegendFormat string `json:"legendFormat"`
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

// query is one PromQL expression of the dashboard and where it is.
type query struct{ panel, expr string }

// loadDashboard reads a dashboard and returns every panel's queries, rows
// included; a panel without a query is an error, as is invalid JSON.
func loadDashboard(path string) (dashboard, []query, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return dashboard{}, nil, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return d, nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		return d, nil, fmt.Errorf("%s: a dashboard needs a title, a uid and panels", path)
	}
	var qs []query
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if p.Type == "row" {
				if err := walk(p.Panels); err != nil {
					return err
				}
				continue
			}
			if len(p.Targets) == 0 {
				return fmt.Errorf("%s: panel %q has no query", path, p.Title)
			}
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("%s: panel %q, query %s is empty", path, p.Title, t.RefID)
				}
				qs = append(qs, query{p.Title, t.Expr})
			}
		}
		return nil
	}
	return d, qs, walk(d.Panels)
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promLabels   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promCall     = regexp.MustCompile(`\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(`)
	promIdent    = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*\b`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"e": true, "Inf": true, "NaN": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects: what
// is left once strings, label matchers and lists, ranges, function names
// and keywords are taken out. It reads the simple PromQL a dashboard
// holds; it is not a parser.
func metricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, " ")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promLabels.ReplaceAllString(s, " ")
	s = promCall.ReplaceAllString(s, " (")
	var names []string
	for _, id := range promIdent.FindAllString(s, -1) {
		if !promKeywords[id] {
			names = append(names, id)
		}
	}
	return names
}
