package main

import (
	"io"

	"trail/host"
)

func runInit(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("init", "", stderr)
	dir := hostFlags(fs)
	o := host.InitOptions{Settings: map[string]string{}}
	for _, k := range []struct{ key, help string }{
		{"root", "the directory every target lives under (default /)"},
		{"state", "trail's state directory (default /var/lib/trail)"},
		{"metrics", "the node_exporter textfile to write, or off"},
		{"journal", "the journald socket, off, or stderr (logfmt)"},
		{"hostname", "compile for this host name instead of the machine's"},
	} {
		fs.Func(k.key, k.help, func(v string) error { o.Settings[k.key] = v; return nil })
	}
	fs.StringVar(&o.Systemd, "systemd", "", "also install and enable the systemd units: watch (drift watcher) or timer (pull every 15 minutes)")
	fs.BoolVar(&o.NoApply, "no-apply", false, "install only; do not apply HEAD now")
	if fs.Parse(args) != nil || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	if _, err := host.Init(ctx, *dir, o, stdout, stderr); err != nil {
		printErr(stderr, err)
		return 1
	}
	return 0
}
