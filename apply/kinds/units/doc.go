// Package units is the UNIT step kind: a systemd unit enabled, masked or
// running as the step says, through systemctl (tool.go); under a root
// other than "/", systemctl --root, where only enable, disable, mask and
// unmask apply and start, stop and restart are reported as not
// applicable, never faked. A UNIT is a Restarter: restarted or reloaded
// once per apply when a path under its restart-on or reload-on changed.
package units
