// Package dist holds the systemd units trail ships, for installers to
// copy to /etc/systemd/system (or /usr/lib/systemd/system in a package):
//
//	trail-watch.service  Type=notify drift watcher with a watchdog
//	trail-pull.service   one pull-and-apply, the backstop for git hooks
//	trail-pull.timer     starts trail-pull.service every 15 minutes
//
// The units run /usr/local/bin/trail (make install's; the Debian package
// ships them in /lib/systemd/system running /usr/bin/trail) in the
// checkout /var/lib/trail/repo; a drop-in setting WorkingDirectory= points
// them at another one. Each file's comments say why it is set up as it is.
package dist

import "embed"

// Units holds the unit files by name, e.g. "trail-watch.service".
//
//go:embed trail-watch.service trail-pull.service trail-pull.timer
var Units embed.FS

// Names lists the unit files in Units, services before the timer that
// starts one.
var Names = []string{"trail-watch.service", "trail-pull.service", "trail-pull.timer"}
