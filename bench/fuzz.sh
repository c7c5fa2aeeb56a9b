#!/usr/bin/env bash
# Runs every fuzz target of the module for a while, one after the other,
# and prints a line per target: its package, name, executions and result.
#
#   bench/fuzz.sh [DURATION]     (default 10m; PARALLEL=N workers, default 1)
#
# Failing inputs are written by go test under the package's
# testdata/fuzz/NAME/: commit them with the fix.
set -uo pipefail
cd "$(dirname "$0")/.."
time=${1:-10m}
par=${PARALLEL:-1}
status=0
while IFS=: read -r file _ decl; do
  pkg=$(dirname "$file")
  name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$decl")
  log=$(mktemp)
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$time" -fuzzminimizetime 2s -parallel "$par" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ $rc -eq 0 ]; then result=ok; else result=FAIL; status=1; fi
  printf '%-14s %-22s %-5s %12s execs in %s\n' "$pkg" "$name" "$result" "${execs:-?}" "$time"
  if [ $rc -ne 0 ]; then sed -n '1,40p' "$log"; fi
  rm -f "$log"
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
exit $status
