#!/usr/bin/env bash
# edge-drop resume benchmark (issue 21): a task killed with SIGKILL at ~60%
# of a 512 MiB object, then the same delivery again. Bytes are counted at
# the server (bench-s3's GET /__bytes, which also stops sending at the
# kill point, so it lands there exactly): the second run should fetch at
# most 45% of the object, and the file must verify (the task's own check, then
# SHA-256 here). The object is a composite CRC32 upload in 8 MiB parts (what
# `aws s3 cp` makes), so the resume goes by the upload's parts. Each round
# runs on tmpfs and on the disk (DISK_DEST), and a full download without a
# kill is timed beside it for reference. Prints a Markdown table.
#
#   make bench-resume                 # or: bash bench/resume.sh
#   ROUNDS=3 MIB=512 KILL_AT=60 DISK_DEST=/work/tmp bash bench/resume.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9125}
EP=http://127.0.0.1:$PORT
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-512}
KILL_AT=${KILL_AT:-60}          # percent of the object served when the task is killed
MEM_DEST=${MEM_DEST:-/dev/shm}
DISK_DEST=${DISK_DEST:-$OUT}    # a directory on a disk, not tmpfs

for t in go curl sha256sum; do
  command -v "$t" >/dev/null || { echo "bench: $t not found" >&2; exit 2; }
done
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"
build_tools
WORK=()
SERVER=
cleanup() { kill $SERVER 2>/dev/null || true; for w in "${WORK[@]}"; do rm -rf "$w"; done; }
trap cleanup EXIT
for d in "$MEM_DEST" "$DISK_DEST"; do
  mkdir -p "$d"
  WORK+=("$(mktemp -d "$d/edge-drop-resume-bench.XXXXXX")")
done
start_server -big-mib 16 -resume-mib "$MIB"
SIZE=$((MIB << 20))
WANT=$(awk '$2=="resume.bin"{print $1}' "$OUT/objects.sha256")
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

served() { curl -s "$EP/__bytes"; }
reset() { curl -s -X POST "$EP/__bytes" > /dev/null; }
task() { "$OUT/edge-drop-task" -bucket bench -key resume.bin -dir "$1"; }

# kill_at DIR: start a delivery, let the server stop sending once KILL_AT%
# is served, and SIGKILL the task as soon as it has; prints the bytes
# served by then.
kill_at() {
  local limit=$((SIZE * KILL_AT / 100))
  curl -s -X POST "$EP/__bytes?pause=$limit" > /dev/null
  "$OUT/edge-drop-task" -bucket bench -key resume.bin -dir "$1" > "$OUT/resume-first.out" 2>&1 &
  local pid=$!
  while kill -0 $pid 2>/dev/null && (($(served) < limit)); do sleep 0.01; done
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  grep -q '"msg":"download complete"' "$OUT/resume-first.out" && { echo "bench: the first run finished before the kill" >&2; exit 1; }
  served
  reset # lifts the pause
}

ROWS=()
for ((r = 1; r <= ROUNDS; r++)); do
  i=0
  for w in "${WORK[@]}"; do
    kind=$([[ $(stat -f -c %T "$w") == tmpfs ]] && echo tmpfs || echo "disk ($(stat -f -c %T "$w"))")
    dir=$w/r$r; rm -rf "$dir"; mkdir -p "$dir"
    sync
    first=$(kill_at "$dir")
    [[ -e $dir/resume.bin ]] && { echo "bench: a file is at the path after the kill" >&2; exit 1; }
    reset
    t0=$(date +%s%N)
    task "$dir" > "$OUT/resume-second.out" 2> "$OUT/resume-second.err" || { cat "$OUT/resume-second.err" >&2; exit 1; }
    t1=$(date +%s%N)
    second=$(served)
    [[ $(sha256sum < "$dir/resume.bin" | cut -d' ' -f1) == "$WANT" ]] || { echo "bench: resumed file differs" >&2; exit 1; }
    kept=$(grep -o '"kept_bytes":[0-9]*' "$OUT/resume-second.out" | cut -d: -f2)
    check=$(grep -o '"verified":"[^"]*"' "$OUT/resume-second.out" | cut -d'"' -f4)
    # The same delivery from nothing, for reference.
    full=$w/full$r; rm -rf "$full"; mkdir -p "$full"; sync
    t2=$(date +%s%N); task "$full" > /dev/null; t3=$(date +%s%N)
    ROWS+=("$(awk -v k="$kind" -v r="$r" -v s="$SIZE" -v f="$first" -v sc="$second" -v kp="${kept:-0}" -v c="$check" -v w=$((t1 - t0)) -v fw=$((t3 - t2)) \
      'BEGIN{printf "| %s | %d | %.1f%% | %.1f%% | %.1f%% | %s | %.3f | %.3f |", k, r, 100*f/s, 100*sc/s, 100*kp/s, c, w/1e9, fw/1e9}')")
    echo "  ${ROWS[-1]}" >&2
    rm -rf "$dir" "$full"
    i=$((i + 1))
  done
done

echo
echo "Resume benchmark started $STARTED, $(nproc) cores, load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(go version | cut -d' ' -f3), task $VERSION; object resume.bin, $MIB MiB, composite CRC32 in 8 MiB parts; the server stops sending at $KILL_AT% and the task is SIGKILLed as soon as it has (polled every 10 ms); bytes counted at the server."
echo
echo "| dest | round | served before the kill | second run fetched | kept (checked again) | check | second run wall s | full download wall s |"
echo "|---|---:|---:|---:|---:|---|---:|---:|"
printf '%s\n' "${ROWS[@]}"
