package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"trail/internal/atomicfile"
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
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report: metrics directory %s does not exist: install prometheus-node-exporter or choose another path: %w", dir, err)
		}
		return fmt.Errorf("report: metrics directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("report: metrics directory %s is not a directory", dir)
	}
	// The temporary name is hidden and ends in ".tmp": node_exporter
	// reads only *.prom.
	err = atomicfile.WriteWith(path, 0o644, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("report: write metrics: %w", err)
	}
	return nil
}
