package report

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// WriteMetrics replaces the node_exporter textfile at path
// (DefaultMetricsPath when empty) with m. It does not create the
// directory: a missing one means node_exporter is not installed or looks
// elsewhere, and the error (matching fs.ErrNotExist) says so.
func WriteMetrics(path string, m Metrics) error {
	if path == "" {
		path = DefaultMetricsPath
	}
	reg, err := m.Registry()
	if err != nil {
		return err
	}
	return WriteTextfile(path, reg)
}

// WriteTextfile writes what g gathers to path in the Prometheus text
// format, atomically and durably. It is prometheus.WriteToTextfile plus
// the fsyncs that one leaves out: without them a power cut after the
// rename can leave an empty file.
func WriteTextfile(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("report: gather metrics: %w", err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report: metrics directory %s does not exist: install prometheus-node-exporter or choose another path: %w", dir, err)
		}
		return fmt.Errorf("report: metrics directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("report: metrics directory %s is not a directory", dir)
	}
	// The temp name must not end in ".prom": node_exporter reads those.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("report: metrics temp file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return fmt.Errorf("report: write %s: %w", tmp.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("report: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("report: chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("report: fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: replace %s: %w", path, err)
	}
	done = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("report: open %s for fsync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("report: fsync %s: %w", dir, err)
	}
	return nil
}
