# trail — build, test and demo. Every target runs from a clean checkout.
GO       ?= go
BIN      := bin/trail
# The booted rig's Debian root and downloaded packages, kept outside the
# checkout so that a fresh clone (as CI makes) reuses them; keyed by their
# inputs inside (e2e/rootfs.sh, e2e/mirrordebs.sh).
CACHEDIR ?= $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)
CACHE    ?= $(CACHEDIR)/trail-e2e
# promtool, prometheus and prometheus-node-exporter, unpacked from their
# Debian packages by .ci/deps (not installed as services).
export TRAIL_TOOLS ?= $(CACHEDIR)/trail-tools
export PATH := $(TRAIL_TOOLS)/bin:$(PATH)
# Where make deb leaves the package.
DEB_OUT  ?= dist/out
# The version is the first entry's of debian/changelog (read without dpkg-dev,
# which a fresh machine lacks until .ci/deps ran).
DEB      := $(DEB_OUT)/trail_$(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)_$(shell dpkg --print-architecture 2>/dev/null).deb
# What the package is built from: rebuilt only when one of them changed.
DEB_SRC  := $(filter-out $(DEB_OUT)/%,$(wildcard $(shell git ls-files -co --exclude-standard 2>/dev/null)))
FUZZTIME ?= 10s

.PHONY: all build deps test e2e deb deb-test fleet fleet-picture bench demo fuzz install clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/trail

# The Debian packages and Go modules the tests use, installed when missing.
deps:
	./.ci/deps

test: deps
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) test ./...

# The Debian package, built by dpkg-buildpackage into DEB_OUT; deb-test
# checks its files, their modes and lintian (dist/deb_test.go).
deb: $(DEB)

$(DEB): $(DEB_SRC)
	./scripts/deb.sh $(DEB_OUT)

deb-test: deb
	TRAIL_DEB=$(CURDIR)/$(DEB) $(GO) test -count=1 -run '^TestDeb$$' ./dist

# Boots a real Debian under systemd-nspawn; see e2e/README.md. Needs root.
# SCENARIOS=smoke picks scenarios by name; all of e2e/scenarios by default.
# Every machine installs trail from the package (apt-get install ./trail_*.deb).
e2e: $(DEB)
	CACHE=$(CACHE) TRAIL_DEB=$(CURDIR)/$(DEB) ./e2e/run.sh $(SCENARIOS)

# Twelve sandboxed hosts, node exporters and a Prometheus on 127.0.0.1
# play a canary rollout; see fleet/doc.go. Skips loudly where it cannot run.
fleet: build
	$(GO) run ./fleet -trail $(BIN)

# make fleet, then the dashboard's panels rendered from its Prometheus and
# screenshot by headless chromium (apt-get install chromium) into PICTURE.
# Not part of CI.
PICTURE ?= docs/fleet-dashboard.png
fleet-picture: build
	$(GO) run ./fleet -trail $(BIN) -picture $(PICTURE)

# Go benchmarks, then whole-process timings against git, cp and rsync on a
# generated tree (FILES=100000 for the large case; RUNS runs each), and
# against the shadow tools on USERS users.
bench: build deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
	TRAIL=$(BIN) ./scripts/bench-noop.sh
	TRAIL=$(BIN) ./scripts/bench-paths.sh
	TRAIL=$(BIN) ./scripts/bench-users.sh

demo: build
	@TRAIL=$(BIN) ./examples/demo.sh

# Every fuzz target of the module, FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)/usr/local/bin/trail

clean:
	rm -rf bin $(DEB_OUT)
