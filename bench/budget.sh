#!/usr/bin/env bash
# edge-drop bandwidth budget benchmark (issue 21): how closely
# EDGE_DROP_MAX_RATE (and a timetable, EDGE_DROP_RATE_SCHEDULE) holds, for
# one download and for a sync whose workers share it, and that without a
# limit the speed is what it was (this tree against BASE, default main,
# and s5cmd on the same server). Tools take turns in every round; medians.
# Prints a Markdown table.
#
#   make bench-budget                 # or: bash bench/budget.sh
#   ROUNDS=5 MIB=64 RATE=16MiB DEST=/dev/shm BASE=main bash bench/budget.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9127}
EP=http://127.0.0.1:$PORT
ROUNDS=${ROUNDS:-5}
MIB=${MIB:-64}
RATE=${RATE:-16MiB}
BASE=${BASE:-main}
DEST_BASE=${DEST:-/dev/shm}
TIME=/usr/bin/time

for t in go git sha256sum "$TIME"; do
  command -v "$t" >/dev/null || { echo "bench: $t not found" >&2; exit 2; }
done
mkdir -p "$OUT" "$DEST_BASE"
source "$ROOT/bench/lib.sh"
build_tools
build_base
WORK=$(mktemp -d "$DEST_BASE/edge-drop-budget.XXXXXX")
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK" "$OUT/base-src"' EXIT
# The sync set: 16 objects whose sizes add up to the single object's.
start_server -big-mib 16 -budget-mib "$MIB" -sync-big 16 -sync-big-mib $((MIB / 16))
RATE_B=$(cd "$ROOT/contract" && printf 'package main\nimport ("fmt";"os";"github.com/edge-drop/edge-drop/contract")\nfunc main(){n,err:=contract.ParseRate(os.Args[1]);if err!=nil{panic(err)};fmt.Println(n)}\n' > "$OUT/rate.go" && go run "$OUT/rate.go" "$RATE")
rm -f "$OUT/rate.go"
EXPECT=$(awk -v m="$MIB" -v r="$RATE_B" 'BEGIN{printf "%.3f", m*1048576/r}')
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# A timetable whose entry in force now is RATE (every day from 00:00), to
# show the schedule path gives the same rate.
TABLE="00:00,$RATE"

# one CASE: one run into a fresh directory; prints "wall cpu rss".
one() {
  local dir t0 t1
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  local cmd
  case $1 in
    limited) cmd=(env EDGE_DROP_MAX_RATE="$RATE" "$OUT/edge-drop-task" -bucket bench -key budget.bin -dir "$dir") ;;
    timetable) cmd=(env EDGE_DROP_RATE_SCHEDULE="$TABLE" "$OUT/edge-drop-task" -bucket bench -key budget.bin -dir "$dir") ;;
    sync-limited) cmd=(env EDGE_DROP_MAX_RATE="$RATE" "$OUT/edge-drop-task" sync -bucket bench -prefix sync-big/ -dir "$dir") ;;
    task) cmd=("$OUT/edge-drop-task" -bucket bench -key budget.bin -dir "$dir") ;;
    base) cmd=("$OUT/edge-drop-task-base" -bucket bench -key budget.bin -dir "$dir") ;;
    s5cmd) cmd=("$OUT/s5cmd" --endpoint-url "$EP" cp s3://bench/budget.bin "$dir/budget.bin") ;;
  esac
  t0=$(date +%s%N)
  "$TIME" -f '%U %S %M' -o "$OUT/time.txt" "${cmd[@]}" > "$OUT/cmd.out" 2> "$OUT/cmd.err" || { echo "bench: $1 failed" >&2; tail -3 "$OUT/cmd.err" >&2; exit 1; }
  t1=$(date +%s%N)
  if [[ $1 == sync-limited ]]; then
    [[ $(find "$dir/sync-big" -type f | wc -l) == 16 ]] || { echo "bench: sync incomplete" >&2; exit 1; }
  else
    [[ $(sha256sum < "$dir/budget.bin" | cut -d' ' -f1) == "$(awk '$2=="budget.bin"{print $1}' "$OUT/objects.sha256")" ]] || { echo "bench: $1: content differs" >&2; exit 1; }
  fi
  rm -rf "$dir"
  read -r u s m < <(tail -1 "$OUT/time.txt")
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" 'BEGIN{printf "%.4f %.2f %.1f", w/1e9, u+s, m/1024}'
}

cases=(limited timetable sync-limited task base s5cmd)
declare -A RES=()
for ((r = 0; r < ROUNDS; r++)); do
  for ((i = 0; i < ${#cases[@]}; i++)); do
    c=${cases[$(((i + r) % ${#cases[@]}))]}
    RES[$c]+="$(one "$c")"$'\n'
    echo "  round $((r + 1)) $c: $(printf '%s' "${RES[$c]}" | tail -1)" >&2
  done
done
median() { sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}'; }
col() { printf '%s' "${RES[$1]}" | awk -v c="$2" '{print $c}' | median; }
maxcol() { printf '%s' "${RES[$1]}" | awk -v c="$2" '$c>m{m=$c} END{print m}'; }
TASKW=$(col task 1)

echo
echo "Bandwidth benchmark started $STARTED, $(nproc) cores, load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(go version | cut -d' ' -f3), task $VERSION, dest $DEST_BASE ($(stat -f -c %T "$WORK")); $MIB MiB (budget.bin, full-object CRC64NVME; the sync: 16 objects of $((MIB / 16)) MiB), $ROUNDS rounds, cases taking turns; medians (min–max); peak RSS the maximum."
echo
echo "| case | wall s (median) | min–max s | expected s | wall / expected | CPU s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  case $c in
    limited) label="edge-drop-task, EDGE_DROP_MAX_RATE=$RATE"; exp=$EXPECT ;;
    timetable) label="edge-drop-task, EDGE_DROP_RATE_SCHEDULE=\"$TABLE\""; exp=$EXPECT ;;
    sync-limited) label="edge-drop-task sync (4 objects at once), EDGE_DROP_MAX_RATE=$RATE"; exp=$EXPECT ;;
    task) label="edge-drop-task, no limit (this tree)"; exp=$TASKW ;;
    base) label="edge-drop-task, no limit ($BASE $BASE_REV)"; exp=$TASKW ;;
    s5cmd) label="s5cmd v2.3.0"; exp=$TASKW ;;
  esac
  lo=$(printf '%s' "${RES[$c]}" | awk '{print $1}' | sort -n | head -1)
  hi=$(printf '%s' "${RES[$c]}" | awk '{print $1}' | sort -n | tail -1)
  awk -v l="$label" -v w="$(col "$c" 1)" -v lo="$lo" -v hi="$hi" -v e="$exp" -v cpu="$(col "$c" 2)" -v m="$(maxcol "$c" 3)" \
    'BEGIN{printf "| %s | %.3f | %.3f–%.3f | %.3f | %.2f | %.2f | %.1f |\n", l, w, lo, hi, e, w/e, cpu, m}'
done
echo
echo "Expected: $MIB MiB at $RATE for the limited cases; for the others, this tree's own median without a limit (so their ratio compares them with it)."
