#!/usr/bin/env bash
# edge-drop sync benchmark: `edge-drop-task sync` vs `s5cmd sync` vs
# `aws s3 sync`, all against the same local S3 server (bench-s3, its own
# process) in the same run. For each set of objects every tool syncs into
# a fresh directory (timed, then verified against the sources' SHA-256
# outside the timing), then syncs again with nothing to do (the no-change
# run). Tools take turns in every round, so load from other work on the
# machine hits them alike. Prints a Markdown table.
#
#   make bench-sync                   # or: bash bench/sync.sh
#   ROUNDS=3 SMALL_N=1000 BIG_N=10 BIG_MIB=100 MANY_N=10000 DEST=/dev/shm bash bench/sync.sh
#
# Needs: go, /usr/bin/time (GNU), /usr/bin/aws (Debian awscli).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9124}
EP=http://127.0.0.1:$PORT
ROUNDS=${ROUNDS:-3}        # rounds per set (median reported)
SMALL_N=${SMALL_N:-1000}   # 4 KiB objects
BIG_N=${BIG_N:-10}         # objects of BIG_MIB MiB
BIG_MIB=${BIG_MIB:-100}
MANY_N=${MANY_N:-10000}    # 64-byte objects: the memory bound (task and s5cmd, one round)
DEST_BASE=${DEST:-/dev/shm}
AWS=${AWS:-/usr/bin/aws}
TIME=/usr/bin/time

for t in go "$TIME" "$AWS" sha256sum; do
  command -v "$t" >/dev/null || { echo "bench: $t not found (apt-get install -y awscli time)" >&2; exit 2; }
done
mkdir -p "$OUT" "$DEST_BASE"
DEST=$(mktemp -d "$DEST_BASE/edge-drop-sync-bench.XXXXXX")
trap 'rm -rf "$DEST"' EXIT

source "$ROOT/bench/lib.sh"
build_tools
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DEST"' EXIT
start_server -big-mib 16 -sync-small "$SMALL_N" -sync-big "$BIG_N" -sync-big-mib "$BIG_MIB" -sync-many "$MANY_N"

AWSV=$("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)

# timed OUTFILE CMD...: runs CMD under GNU time; prints "wall cpu rssMiB".
timed() {
  local t0 t1
  t0=$(date +%s%N)
  if ! "$TIME" -f '%U %S %M' -o "$OUT/time.txt" "$@" > "$OUT/cmd.out" 2> "$OUT/cmd.err"; then
    echo "bench: $* failed:" >&2; tail -5 "$OUT/cmd.err" "$OUT/cmd.out" >&2; exit 1
  fi
  t1=$(date +%s%N)
  read -r u s m < <(tail -1 "$OUT/time.txt")
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" 'BEGIN{printf "%.4f %.2f %.1f", w/1e9, u+s, m/1024}'
}

# verify SET DIR STRIP: every object of SET is in DIR (at its key, or at
# the key without "SET/" when STRIP=1) with its SHA-256.
verify() {
  local set=$1 dir=$2 strip=$3
  awk -v p="$set/" -v d="$dir" -v s="$strip" 'index($2, p) == 1 { k = $2; if (s) k = substr(k, length(p) + 1); print $1 "  " d "/" k }' \
    "$OUT/objects.sha256" > "$OUT/verify.sha256"
  sha256sum -c --quiet "$OUT/verify.sha256" > /dev/null || { echo "bench: verification of $set in $dir failed" >&2; exit 1; }
}

declare -A RES   # "tool|set" -> lines "fresh_wall cpu rss again_wall again_rss"
# once TOOL SET: one fresh sync and one no-change sync by TOOL into a new dir.
once() {
  local tool=$1 set=$2 dir cmd strip=1
  dir=$(mktemp -d "$DEST/run.XXXXXX")
  case $tool in
    task) cmd=("$OUT/edge-drop-task" sync -bucket bench -prefix "$set/" -dir "$dir"); strip=0 ;;
    s5cmd) cmd=("$OUT/s5cmd" --endpoint-url "$EP" sync "s3://bench/$set/*" "$dir/") ;;
    aws) cmd=("$AWS" --endpoint-url "$EP" s3 sync --only-show-errors --no-progress "s3://bench/$set/" "$dir/") ;;
  esac
  sync
  local fresh again
  fresh=$(timed "${cmd[@]}")
  verify "$set" "$dir" "$strip"
  if [[ $tool == task ]] && ! grep -q '"downloaded":[1-9]' "$OUT/cmd.out"; then
    echo "bench: task summary says nothing was downloaded" >&2; exit 1
  fi
  again=$(timed "${cmd[@]}")
  if [[ $tool == task ]] && ! grep -q '"downloaded":0,' "$OUT/cmd.out"; then
    echo "bench: the no-change task run downloaded something" >&2; cat "$OUT/cmd.out" >&2; exit 1
  fi
  read -r aw _ ar <<< "$again"
  RES[$tool|$set]+="$fresh $aw $ar"$'\n'
  echo "  $tool $set: fresh $fresh | no-change $again" >&2
  rm -rf "$dir"
}

echo "== measuring ($ROUNDS rounds; dest $DEST)" >&2
for ((r = 0; r < ROUNDS; r++)); do
  for set in sync-small sync-big; do
    for tool in task s5cmd aws; do once "$tool" "$set"; done
  done
done
for tool in task s5cmd; do once "$tool" sync-many; done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A N=([sync-small]=$SMALL_N [sync-big]=$BIG_N [sync-many]=$MANY_N)
declare -A WHAT=([sync-small]="$SMALL_N × 4 KiB" [sync-big]="$BIG_N × $BIG_MIB MiB" [sync-many]="$MANY_N × 64 B")
declare -A LABEL=([task]="edge-drop-task sync (4 objects × 4 parts)" [s5cmd]="s5cmd v2.3.0 sync (defaults)" [aws]="aws s3 sync (awscli $AWSV)")
echo
echo "Sync benchmark started $STARTED, $(nproc) cores, load average $LOAD_START at the start and $LOAD_END at the end, $(go version | cut -d' ' -f3), task $VERSION, dest $DEST_BASE ($(stat -f -c %T "$DEST")); fresh = into an empty dir, no-change = the same sync again; median of the rounds by fresh wall time, peak RSS = max over the rounds."
echo
echo "| tool | objects | fresh wall s | files/s | CPU s (user+sys) | peak RSS MiB | no-change wall s | no-change peak RSS MiB | files/s vs s5cmd | rounds |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for set in sync-small sync-big sync-many; do
  declare -A FPS=()
  for tool in s5cmd task aws; do
    lines=${RES[$tool|$set]:-}
    [[ -n $lines ]] || continue
    # columns: fresh_wall cpu rss again_wall again_rss
    read -r fw cpu _ aw _ < <(printf '%s' "$lines" | sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
    rss=$(printf '%s' "$lines" | awk '$3>m{m=$3} END{print m}')
    arss=$(printf '%s' "$lines" | awk '$5>m{m=$5} END{print m}')
    rounds=$(printf '%s' "$lines" | wc -l)
    FPS[$tool]=$(awk -v n="${N[$set]}" -v w="$fw" 'BEGIN{printf "%.0f", n/w}')
    ratio=$(awk -v a="${FPS[$tool]}" -v b="${FPS[s5cmd]:-0}" 'BEGIN{if(b>0)printf "%.2f", a/b; else print "–"}')
    printf '| %s | %s (`%s/`) | %.3f | %s | %.2f | %.1f | %.3f | %.1f | %s | %s |\n' "${LABEL[$tool]}" "${WHAT[$set]}" "$set" "$fw" "${FPS[$tool]}" "$cpu" "$rss" "$aw" "$arss" "$ratio" "$rounds"
  done
done
