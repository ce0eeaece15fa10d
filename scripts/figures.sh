#!/usr/bin/env bash
# make figures: run the benchmarks and keep their tables with the machine
# they came from, in bench/out/figures-<UTC time>.md. Figures in docs/ name
# such a file's machine line; a figure without one is not quoted.
# Usage: scripts/figures.sh [make target ...] (default: every benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bench-task bench-sync bench-nochange bench-durable bench-resume bench-budget bench-demo bench-ui)
mkdir -p bench/out
out="bench/out/figures-$(date -u +%Y%m%dT%H%M%SZ).md"

machine() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
  [ -n "$cpu" ] || cpu=$(uname -m)
  mem=$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo "? GiB")
  printf '%s, %s cores, %s, Linux %s, %s, load %s' "$cpu" "$(nproc)" "$mem" "$(uname -r)" \
    "$(go env GOVERSION)" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?)"
}

{
  echo "# Figures, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(machine)"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- targets: ${targets[*]}"
} | tee "$out"
for t in "${targets[@]}"; do
  printf '\n## make %s\n\n```\n' "$t" | tee -a "$out"
  # Each benchmark prints its own table; a failed one is recorded, not hidden.
  if ! make --no-print-directory "$t" 2>&1 | tee -a "$out"; then
    echo "make $t FAILED" | tee -a "$out"
  fi
  printf '```\n' | tee -a "$out"
done
echo "figures: $out" >&2
