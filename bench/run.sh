#!/usr/bin/env bash
# edge-drop benchmark: edge-drop-task vs aws-cli vs s5cmd vs a plain SDK
# manager.Downloader, all against the same local S3 server (bench-s3, its
# own process) on this machine. Prints a Markdown table; every download is
# verified against the source's SHA-256 (outside the timed part).
#
#   make bench-task                 # or: bash bench/run.sh
#   REPS=5 SMALL_REPS=21 DEST=/dev/shm DISK_DEST=/var/tmp bash bench/run.sh
#   (downloads go to fresh mktemp directories under DEST / DISK_DEST)
#
# Needs: go, /usr/bin/time (GNU), /usr/bin/aws (Debian awscli).
#   apt-get install -y awscli time
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9123}
EP=http://127.0.0.1:$PORT
BIG_MIB=${BIG_MIB:-1024}   # size of the big objects (smoke runs: BIG_MIB=64)
BIG=$([[ $BIG_MIB == 1024 ]] && echo "1 GiB" || echo "$BIG_MIB MiB")
REPS=${REPS:-5}             # 1 GiB / 10 MiB runs per tool (median reported)
SMALL_REPS=${SMALL_REPS:-21} # 6-byte runs per tool
DEST_BASE=${DEST:-/dev/shm}              # tmpfs: measures the tools, not the disk
DISK_BASE=${DISK_DEST:-$OUT}             # one extra row on the real disk
AWS=${AWS:-/usr/bin/aws}
TIME=/usr/bin/time

for t in go "$TIME" "$AWS" sha256sum; do
  command -v "$t" >/dev/null || { echo "bench: $t not found (apt-get install -y awscli time)" >&2; exit 2; }
done
mkdir -p "$OUT" "$DEST_BASE" "$DISK_BASE"
# Fresh private directories: the script only ever deletes what it created.
DEST=$(mktemp -d "$DEST_BASE/edge-drop-bench.XXXXXX")
DISK_DEST=$(mktemp -d "$DISK_BASE/edge-drop-bench-disk.XXXXXX")
trap 'rm -rf "$DEST" "$DISK_DEST"' EXIT

source "$ROOT/bench/lib.sh"
build_tools
(cd "$ROOT/bench/managerdl" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/managerdl" .)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DEST" "$DISK_DEST"' EXIT
start_server -big-mib "$BIG_MIB"

sum_of() { awk -v k="$1" '$2==k{print $1}' "$OUT/objects.sha256"; }

STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
ROWS=()
declare -A BASE_WALL BASE_CPU
# measure LABEL SIZE KEY REPS DESTDIR -- CMD... ({OUT} in CMD = target file)
measure() {
  local label=$1 size=$2 key=$3 reps=$4 dir=$5; shift 6
  local want; want=$(sum_of "$key")
  local target=$dir/$key res=()
  for ((i = 0; i < reps; i++)); do
    rm -f "$target"; sync
    local cmd=("${@//\{OUT\}/$target}")
    local t0 t1
    t0=$(date +%s%N)
    if ! "$TIME" -f '%U %S %M' -o "$OUT/time.txt" "${cmd[@]}" > "$OUT/cmd.out" 2> "$OUT/cmd.err"; then
      echo "bench: $label failed:" >&2; cat "$OUT/cmd.err" "$OUT/cmd.out" >&2; exit 1
    fi
    t1=$(date +%s%N)
    local got; got=$(sha256sum "$target" | cut -d' ' -f1)
    [[ $got == "$want" ]] || { echo "bench: $label: checksum mismatch for $target" >&2; exit 1; }
    read -r u s m < <(tail -1 "$OUT/time.txt")
    res+=("$(awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" 'BEGIN{printf "%.4f %.2f %.1f", w/1e9, u+s, m/1024}')")
  done
  # median by wall time
  local med; med=$(printf '%s\n' "${res[@]}" | sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
  local maxrss; maxrss=$(printf '%s\n' "${res[@]}" | awk '$3>m{m=$3} END{print m}')
  read -r wall cpu rss <<< "$med"
  [[ $label == s5cmd* ]] && { BASE_WALL[$size]=$wall; BASE_CPU[$size]=$cpu; }
  ROWS+=("$label|$size|$key|$wall|$cpu|$maxrss|$reps")
  echo "  $label $size: wall ${wall}s cpu ${cpu}s rss ${maxrss}MiB" >&2
}

TASK=("$OUT/edge-drop-task" -bucket bench -dir)
echo "== measuring (REPS=$REPS, SMALL_REPS=$SMALL_REPS, dest $DEST)" >&2
for size in "$BIG:big.bin:$REPS" "6 B:small.txt:$SMALL_REPS"; do
  IFS=: read -r sz key reps <<< "$size"
  measure "s5cmd v2.3.0" "$sz" "$key" "$reps" "$DEST" -- "$OUT/s5cmd" --endpoint-url "$EP" cp "s3://bench/$key" "{OUT}"
  measure "edge-drop-task" "$sz" "$key" "$reps" "$DEST" -- "${TASK[@]}" "$DEST" -key "$key"
  measure "aws s3 cp (awscli $("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2))" "$sz" "$key" "$reps" "$DEST" -- "$AWS" --endpoint-url "$EP" s3 cp --only-show-errors --no-progress "s3://bench/$key" "{OUT}"
  measure "manager.Downloader (SDK defaults)" "$sz" "$key" "$reps" "$DEST" -- "$OUT/managerdl" bench "$key" "{OUT}"
done
measure "edge-drop-task" "10 MiB" mid.bin "$REPS" "$DEST" -- "${TASK[@]}" "$DEST" -key mid.bin
measure "edge-drop-task, CRC64NVME-only object" "$BIG" big-crc64nvme.bin "$REPS" "$DEST" -- "${TASK[@]}" "$DEST" -key big-crc64nvme.bin
measure "edge-drop-task, MD5-ETag-only object" "$BIG" big-md5.bin "$REPS" "$DEST" -- "${TASK[@]}" "$DEST" -key big-md5.bin
measure "edge-drop-task, to disk (fsync)" "$BIG" big.bin "$REPS" "$DISK_DEST" -- "${TASK[@]}" "$DISK_DEST" -key big.bin
measure "s5cmd v2.3.0, to disk (no fsync)" "$BIG (disk)" big.bin "$REPS" "$DISK_DEST" -- "$OUT/s5cmd" --endpoint-url "$EP" cp "s3://bench/big.bin" "{OUT}"

echo
echo "Benchmark started $STARTED, $(nproc) cores, $(go version | cut -d' ' -f3), task $VERSION, dest $DEST ($(stat -f -c %T "$DEST")) unless the row says to disk ($DISK_BASE, $(stat -f -c %T "$DISK_DEST")); median of runs by wall time, peak RSS = max over runs."
echo
echo "| tool | object | wall s | CPU s (user+sys) | peak RSS MiB | wall / s5cmd | CPU / s5cmd | runs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for r in "${ROWS[@]}"; do
  IFS='|' read -r label size key wall cpu rss reps <<< "$r"
  # ratios against s5cmd on the same object and destination
  base=$size
  [[ $label == *"to disk"* ]] && base="$BIG (disk)"
  bw=${BASE_WALL[$base]:-}; bc=${BASE_CPU[$base]:-}
  rw=$(awk -v a="$wall" -v b="$bw" 'BEGIN{if(b>0)printf "%.2f", a/b; else print "–"}')
  rc=$(awk -v a="$cpu" -v b="$bc" 'BEGIN{if(b>0)printf "%.2f", a/b; else print "–"}')
  printf '| %s | %s (`%s`) | %.3f | %.2f | %.1f | %s | %s | %s |\n' "$label" "${size% (disk)}" "$key" "$wall" "$cpu" "$rss" "$rw" "$rc" "$reps"
done
