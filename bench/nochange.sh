#!/usr/bin/env bash
# edge-drop no-change sync benchmark (issue 17): the cost of checking each
# file's identity against its delivery record. The task built from this
# tree and from BASE (default: main) each sync N untouched 64-byte objects
# into their own directory, then run the same no-change sync ROUNDS times,
# taking turns (who goes first alternates), on the same server. Then, for this tree only: one file
# touched (mtime), one file with a byte flipped and its mtime put back
# (touch -r): how many files each next sync re-verifies, downloads and
# keeps as conflict copies. Prints a Markdown table.
#
#   bash bench/nochange.sh                  # N=10000 ROUNDS=7 BASE=main DEST=/dev/shm
#
# Needs: go, git, /usr/bin/time (GNU).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9125}
EP=http://127.0.0.1:$PORT
N=${N:-10000}
ROUNDS=${ROUNDS:-7}
BASE=${BASE:-main}
DEST_BASE=${DEST:-/dev/shm}

mkdir -p "$OUT" "$DEST_BASE"
DEST=$(mktemp -d "$DEST_BASE/edge-drop-nochange.XXXXXX")
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DEST" "$OUT/base-src"' EXIT

source "$ROOT/bench/lib.sh"
echo "== building this tree and $BASE" >&2
export GOFLAGS=-buildvcs=false GOWORK=off # each module with its own go.mod's versions
(cd "$ROOT/task" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/edge-drop-task" .)
(cd "$ROOT/bench/bench-s3" && go build -o "$OUT/bench-s3" .)
build_base
HEAD_REV=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- task contract s3fake || echo -dirty)
start_server -big-mib 16 -sync-many "$N"

# syncrun BIN DIR: one sync; prints "wall_seconds cpu_seconds" and leaves
# its log in $OUT/sync.out.
syncrun() {
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$OUT/time.txt" "$1" sync -bucket bench -prefix sync-many/ -dir "$2" > "$OUT/sync.out" 2>&1 ||
    { tail -3 "$OUT/sync.out" >&2; exit 1; }
  t1=$(date +%s%N)
  read -r u s < <(tail -1 "$OUT/time.txt")
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" 'BEGIN{printf "%.4f %.2f", w/1e9, u+s}'
}
field() { grep '"msg":"sync complete"' "$OUT/sync.out" | sed -E "s/.*\"$1\":([0-9]+).*/\1/"; }

declare -A DIR=([base]="$DEST/base" [head]="$DEST/head") BIN=([base]="$OUT/edge-drop-task-base" [head]="$OUT/edge-drop-task")
declare -A WALLS=() CPUS=()
for v in base head; do
  mkdir -p "${DIR[$v]}"
  syncrun "${BIN[$v]}" "${DIR[$v]}" > /dev/null
  [[ $(field downloaded) == "$N" ]] || { echo "bench: $v fresh sync did not deliver $N files" >&2; exit 1; }
done
echo "== $ROUNDS no-change rounds, $N files" >&2
for ((r = 0; r < ROUNDS; r++)); do
  order="base head"
  ((r % 2)) && order="head base" # who goes first alternates: the server's own GC after a listing hits both alike
  for v in $order; do
    sync
    read -r w c < <(syncrun "${BIN[$v]}" "${DIR[$v]}"; echo)
    [[ $(field downloaded) == 0 && $(field up_to_date) == "$N" ]] || { echo "bench: $v no-change sync changed something" >&2; cat "$OUT/sync.out" >&2; exit 1; }
    WALLS[$v]+="$w"$'\n'
    CPUS[$v]+="$c"$'\n'
    echo "  $v: $w s wall, $c s CPU" >&2
  done
done
stats() { printf '%s' "$1" | sort -n | awk '{a[NR]=$1} END{printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)], a[1], a[NR]}'; }
read -r bmed bmin bmax < <(stats "${WALLS[base]}")
read -r hmed hmin hmax < <(stats "${WALLS[head]}")
read -r bcpu _ _ < <(stats "${CPUS[base]}")
read -r hcpu _ _ < <(stats "${CPUS[head]}")

# One file touched (mtime only), then one flipped with its mtime put back.
H=${DIR[head]}
f1=$(find "$H/sync-many" -type f | sort | sed -n 10p)
f2=$(find "$H/sync-many" -type f | sort | sed -n 20p)
touch "$f1"
read -r tw _ < <(syncrun "${BIN[head]}" "$H"; echo)
touched="$(field reverified) $(field downloaded) $(field conflicts) $(field up_to_date)"
cp -p "$f2" "$OUT/ref" && printf 'X' | dd of="$f2" bs=1 seek=0 conv=notrunc status=none && touch -r "$OUT/ref" "$f2"
read -r fw _ < <(syncrun "${BIN[head]}" "$H"; echo)
flipped="$(field reverified) $(field downloaded) $(field conflicts) $(field up_to_date)"
copies=$(find "$H" -name '*.edge-drop-conflict-*' | wc -l)

echo
echo "No-change sync of $N untouched files, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), dest $DEST_BASE ($(stat -f -c %T "$DEST")), $ROUNDS rounds taking turns; median (min–max) wall."
echo
echo "| task | no-change wall s | min–max s | wall vs $BASE | CPU s (user+sys) | CPU vs $BASE |"
echo "|---|---:|---:|---:|---:|---:|"
printf '| %s (`%s`) | %.3f | %.3f–%.3f | 1.00 | %.2f | 1.00 |\n' "$BASE" "$BASE_REV" "$bmed" "$bmin" "$bmax" "$bcpu"
printf '| this tree (`%s`) | %.3f | %.3f–%.3f | %.2f | %.2f | %.2f |\n' "$HEAD_REV" "$hmed" "$hmin" "$hmax" \
  "$(awk -v a="$hmed" -v b="$bmed" 'BEGIN{print a/b}')" "$hcpu" "$(awk -v a="$hcpu" -v b="$bcpu" 'BEGIN{if(b>0)print a/b; else print "–"}')"
echo
echo "| this tree, after | wall s | re-verified | downloaded | conflicts | up to date |"
echo "|---|---:|---:|---:|---:|---:|"
read -r a b c d <<< "$touched"
printf '| one file touched (mtime) | %.3f | %s | %s | %s | %s |\n' "$tw" "$a" "$b" "$c" "$d"
read -r a b c d <<< "$flipped"
printf '| one byte flipped, mtime put back | %.3f | %s | %s | %s | %s (conflict copies on disk: %s) |\n' "$fw" "$a" "$b" "$c" "$d" "$copies"
