# trail — build, test and demo. Every target runs from a clean checkout.
GO       ?= go
BIN      := bin/trail
CACHE    ?= $(CURDIR)/.cache
FUZZTIME ?= 10s

.PHONY: all build deps test e2e bench demo fuzz install clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/trail

# The Debian packages and Go modules the tests use, installed when missing.
deps:
	./.ci/deps

test: deps
	$(GO) vet ./...
	$(GO) test ./...

# Boots a real Debian under systemd-nspawn; see e2e/README.md. Needs root.
# SCENARIOS=smoke picks scenarios by name; all of e2e/scenarios by default.
e2e: build
	CACHE=$(CACHE) TRAIL_BIN=$(CURDIR)/$(BIN) ./e2e/run.sh $(SCENARIOS)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	TRAIL=$(BIN) ./scripts/bench-noop.sh

demo: build
	@TRAIL=$(BIN) ./examples/demo.sh

# Every fuzz target of the module, FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)/usr/local/bin/trail

clean:
	rm -rf bin
