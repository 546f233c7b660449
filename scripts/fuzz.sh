#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 30s).
# The targets are found by asking each package's test binary for them
# (go test -list), not written down, so a new fuzzer runs the day it lands.
# Any failure stops the run; the failing input is left in testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
count=0
for pkg in $($GO list ./...); do
  for target in $($GO test -run '^$' -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    printf 'fuzz: %s %s for %s\n' "$pkg" "$target" "$FUZZTIME" >&2
    $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
    count=$((count + 1))
  done
done
printf 'fuzz: %d targets, all passed\n' "$count" >&2
[ "$count" -gt 0 ] || { echo 'fuzz: no targets found' >&2; exit 1; }
