// Command fleet is the fleet rig behind make fleet: twelve hosts as light
// sandboxes on this machine, each a git checkout of one bare origin with
// its own --root, state directory and metrics textfile, served by a real
// prometheus-node-exporter on its own 127.0.0.1 port, and a real
// Prometheus scraping them with trail's alert rules (docs/alerts.yml)
// loaded. It plays a rollout: a canary branch on two hosts gets a commit
// whose check fails, those hosts roll back and TrailApplyFailed fires;
// the fix merged to main reaches all twelve hosts, which one PromQL query
// shows; a pinned host shows as pinned. Every query of the Grafana
// dashboard (docs/grafana-dashboard.json) is run against the result.
//
//	go run ./fleet [-trail bin/trail] [-hosts 12] [-keep] [-picture FILE.png]
//
// -picture (make fleet-picture; not part of CI) ends the run by drawing
// every panel of the dashboard from the live Prometheus into an HTML page
// of its own (no script, nothing fetched) and screenshotting it with
// headless chromium into FILE.png: docs/fleet-dashboard.png is one.
//
// It prints PASS or FAIL per check and "N passed, N failed" last. Where
// this machine cannot run it (not root, no Prometheus programs: run
// .ci/deps) it prints "fleet: SKIP: why" and exits 0 (FLEET_STRICT=1: 1).
// Everything listens on 127.0.0.1 only, every wait has a deadline, and
// every process and file it made is gone when it exits.
package main
