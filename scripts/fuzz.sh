#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 10s).
# Inputs that crash are kept by go test under the package's
# testdata/fuzz/FuzzName, where they become seed corpus for `make test`.
set -eu
fuzztime=${FUZZTIME:-10s}
grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . | sort | while read -r file; do
	pkg=./$(dirname "${file#./}")
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | while read -r fn; do
		echo "fuzz: $pkg $fn ($fuzztime)"
		go test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" "$pkg"
	done
done
