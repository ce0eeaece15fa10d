#!/usr/bin/env bash
# edge-drop benchmark: edge-drop-task vs s5cmd vs aws-cli (and a plain SDK
# manager.Downloader on one object kind), against two S3 servers on
# 127.0.0.1, each its own process:
#   bench-s3   bench/bench-s3: gofakes3 in memory plus the
#              s3fake fix-ups (If-Match, parts with their own checksums, as
#              S3 serves them); objects preloaded
#   versitygw  github.com/versity/versitygw v1.8.0 (built from the Go module
#              proxy), posix backend on tmpfs; objects uploaded with the SDK
#              (bench/upload)
# Object kinds per server: composite (multipart, 8 MiB parts, COMPOSITE CRC32
# "-N" + multipart ETag: what `aws s3 cp` of current CLIs makes), single
# (one PUT, MD5 ETag; versitygw adds a full-object CRC64NVME as S3 does),
# full (FULL_OBJECT CRC64NVME), and on bench-s3 mpetag (multipart ETag only).
# Per kind a 1 GiB and a 6-byte object. The tools run interleaved (one run of
# each in turn, REPS rounds); every download is checked against the source's
# SHA-256 outside the timed part. Prints Markdown tables.
#
# The servers run one at a time (bench-s3 holds its objects in memory;
# stopping it before versitygw starts keeps the second server's runs from
# paying for the first one's gigabytes).
#
#   make bench-task                 # or: bash bench/run.sh
#   REPS=3 SMALL_REPS=7 BIG_MIB=1024 DEST=/dev/shm bash bench/run.sh
#   ONLY='versitygw full' REPS=7 bash bench/run.sh   # groups whose "server kind size" matches
#
# Needs: go, /usr/bin/time (GNU), /usr/bin/aws (Debian awscli).
#   apt-get install -y awscli time
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9123}
VGW_PORT=${VGW_PORT:-9124}
BIG_MIB=${BIG_MIB:-1024}     # size of the big objects (smoke runs: BIG_MIB=64)
BIG=$([[ $BIG_MIB == 1024 ]] && echo "1 GiB" || echo "$BIG_MIB MiB")
REPS=${REPS:-3}              # rounds for the big objects (median reported)
SMALL_REPS=${SMALL_REPS:-7}  # rounds for the 6-byte objects
DEST_BASE=${DEST:-/dev/shm}  # tmpfs: measures the tools, not the disk
ONLY=${ONLY:-}               # run only the groups whose "server kind size" contains this
AWS=${AWS:-/usr/bin/aws}
TIME=/usr/bin/time
VGW_VERSION=v1.8.0

for t in go "$TIME" "$AWS" sha256sum; do
  command -v "$t" >/dev/null || { echo "bench: $t not found (apt-get install -y awscli time)" >&2; exit 2; }
done
mkdir -p "$OUT" "$DEST_BASE"
# Fresh private directories: the script only ever deletes what it created.
WORK=$(mktemp -d "$DEST_BASE/edge-drop-bench.XXXXXX")
DEST=$WORK/dl
VGW_ROOT=$WORK/vgw
mkdir -p "$DEST" "$VGW_ROOT/bench"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/bench/lib.sh"
build_tools
(cd "$ROOT/bench/managerdl" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/managerdl" .)
(cd "$ROOT/bench/upload" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/upload" .)
if [[ ! -x $OUT/gobin/versitygw ]]; then
  GOBIN=$OUT/gobin CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION"
fi

export HOME=$OUT/home AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME"

# wait_for LOGFILE PID PATTERN
wait_for() {
  for _ in $(seq 600); do
    grep -q "$3" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: server did not start ($1)" >&2; exit 1
}

start_bench_s3() {
  echo "== starting bench-s3 on 127.0.0.1:$PORT" >&2
  "$OUT/bench-s3" -big-mib "$BIG_MIB" -addr "127.0.0.1:$PORT" -sums "$OUT/bench-s3.sha256" > "$OUT/bench-s3.log" 2>&1 &
  PIDS+=($!)
  wait_for "$OUT/bench-s3.log" "${PIDS[-1]}" ready
}

# stop_server: the last server started, and its memory, are gone after this.
stop_server() {
  kill "${PIDS[-1]}" 2>/dev/null || true
  wait "${PIDS[-1]}" 2>/dev/null || true
  unset 'PIDS[-1]'
}

start_versitygw() {
  echo "== starting versitygw $VGW_VERSION on 127.0.0.1:$VGW_PORT (posix, $VGW_ROOT)" >&2
  "$OUT/gobin/versitygw" --port "127.0.0.1:$VGW_PORT" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
    --keep-alive --quiet posix "$VGW_ROOT" > "$OUT/versitygw.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$VGW_PORT") 2>/dev/null && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$OUT/versitygw.log" >&2; exit 1; }
    sleep 0.1
  done

  echo "== uploading to versitygw" >&2
  head -c $((BIG_MIB << 20)) /dev/urandom > "$WORK/big.src"
  printf 'hello\n' > "$WORK/small.src"
  : > "$OUT/versitygw.sha256"
  for kind in composite single full; do
    for s in big small; do
      key=$s-$kind.$([[ $s == big ]] && echo bin || echo txt)
      AWS_ENDPOINT_URL_S3=http://127.0.0.1:$VGW_PORT "$OUT/upload" "$kind" bench "$key" "$WORK/$s.src"
      echo "$(sha256sum < "$WORK/$s.src" | cut -d' ' -f1)  $key" >> "$OUT/versitygw.sha256"
    done
  done
  rm -f "$WORK/big.src" "$WORK/small.src"
}

STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
AWSV=$("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2)
ROWS=()

# one TOOL EP KEY: run one download, print "wall cpu rss check".
one() {
  local tool=$1 ep=$2 key=$3 target=$DEST/$3 cmd
  case $tool in
    s5cmd) cmd=("$OUT/s5cmd" --endpoint-url "$ep" cp "s3://bench/$key" "$target") ;;
    task) cmd=("$OUT/edge-drop-task" -bucket bench -dir "$DEST" -key "$key") ;;
    aws) cmd=("$AWS" --endpoint-url "$ep" s3 cp --only-show-errors --no-progress "s3://bench/$key" "$target") ;;
    managerdl) cmd=("$OUT/managerdl" bench "$key" "$target") ;;
  esac
  rm -f "$target"; sync
  local t0 t1
  t0=$(date +%s%N)
  if ! AWS_ENDPOINT_URL_S3=$ep "$TIME" -f '%U %S %M' -o "$OUT/time.txt" "${cmd[@]}" > "$OUT/cmd.out" 2> "$OUT/cmd.err"; then
    echo "bench: $tool $ep $key failed:" >&2; cat "$OUT/cmd.err" "$OUT/cmd.out" >&2; exit 1
  fi
  t1=$(date +%s%N)
  local got; got=$(sha256sum "$target" | cut -d' ' -f1)
  [[ $got == "$(awk -v k="$key" '$2==k{print $1}' "$SUMS")" ]] || { echo "bench: $tool: checksum mismatch for $key" >&2; exit 1; }
  local check=–
  [[ $tool == task ]] && check=$(grep -o '"verified":"[^"]*"' "$OUT/cmd.out" | cut -d'"' -f4)
  read -r u s m < <(tail -1 "$OUT/time.txt")
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" -v c="${check:-none}" 'BEGIN{printf "%.4f %.2f %.1f %s\n", w/1e9, u+s, m/1024, c}'
}

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# group SERVER EP KIND SIZE KEY REPS TOOL...: interleaved rounds, one row per tool.
group() {
  local server=$1 ep=$2 kind=$3 size=$4 key=$5 reps=$6; shift 6
  [[ -z $ONLY || "$server $kind $size" == *"$ONLY"* ]] || return 0
  local tools=("$@") t i
  declare -A res=()
  for ((i = 0; i < reps; i++)); do
    for t in "${tools[@]}"; do res[$t]+="$(one "$t" "$ep" "$key")"$'\n'; done
  done
  declare -A wall=() cpu=() rss=() chk=()
  for t in "${tools[@]}"; do
    wall[$t]=$(printf '%s' "${res[$t]}" | awk '{print $1}' | median)
    cpu[$t]=$(printf '%s' "${res[$t]}" | awk '{print $2}' | median)
    rss[$t]=$(printf '%s' "${res[$t]}" | awk '$3>m{m=$3} END{print m}')
    chk[$t]=$(printf '%s' "${res[$t]}" | awk '{print $4}' | sort -u | paste -sd/)
  done
  for t in "${tools[@]}"; do
    local label
    case $t in
      s5cmd) label="s5cmd v2.3.0" ;; task) label="edge-drop-task" ;; aws) label="aws s3 cp ($AWSV)" ;;
      managerdl) label="manager.Downloader" ;;
    esac
    ROWS+=("$(awk -v sv="$server" -v k="$kind" -v sz="$size" -v key="$key" -v l="$label" -v c="${chk[$t]}" \
      -v w="${wall[$t]}" -v cp="${cpu[$t]}" -v r="${rss[$t]}" -v sw="${wall[s5cmd]}" -v sc="${cpu[s5cmd]}" -v aw="${wall[aws]}" -v n="$reps" \
      'BEGIN{rc = sc > 0 ? sprintf("%.2f", cp/sc) : "–"; printf "| %s | %s | %s (`%s`) | %s | %s | %.3f | %.2f | %.1f | %.2f | %s | %.2f | %d |", sv, k, sz, key, l, c, w, cp, r, w/sw, rc, w/aw, n}')")
    echo "  ${ROWS[-1]}" >&2
  done
}

echo "== measuring (REPS=$REPS, SMALL_REPS=$SMALL_REPS, dest $DEST)" >&2
# want SERVER: whether ONLY lets any of SERVER's groups run (then it is started).
want() { [[ -z $ONLY || ($ONLY != bench-s3* && $ONLY != versitygw*) || $ONLY == "$1"* ]]; }
if want bench-s3; then
  start_bench_s3
  SUMS=$OUT/bench-s3.sha256
  EP=http://127.0.0.1:$PORT
  group bench-s3 "$EP" composite "$BIG" big-composite.bin "$REPS" s5cmd task aws
  group bench-s3 "$EP" full "$BIG" big-crc64nvme.bin "$REPS" s5cmd task aws managerdl
  group bench-s3 "$EP" single "$BIG" big-md5.bin "$REPS" s5cmd task aws
  group bench-s3 "$EP" mpetag "$BIG" big-mpetag.bin "$REPS" s5cmd task aws
  group bench-s3 "$EP" full "10 MiB" mid.bin "$REPS" s5cmd task aws
  for k in composite:small-composite.txt full:small.txt single:small-md5.txt mpetag:small-mpetag.txt; do
    group bench-s3 "$EP" "${k%%:*}" "6 B" "${k#*:}" "$SMALL_REPS" s5cmd task aws
  done
  stop_server
fi
if want versitygw; then
  start_versitygw
  SUMS=$OUT/versitygw.sha256
  EP=http://127.0.0.1:$VGW_PORT
  for kind in composite full single; do
    group versitygw "$EP" "$kind" "$BIG" "big-$kind.bin" "$REPS" s5cmd task aws
  done
  for kind in composite full single; do
    group versitygw "$EP" "$kind" "6 B" "small-$kind.txt" "$SMALL_REPS" s5cmd task aws
  done
  stop_server
fi

echo
echo "Benchmark started $STARTED, $(nproc) cores, load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(go version | cut -d' ' -f3), task $VERSION, dest $DEST_BASE ($(stat -f -c %T "$DEST")); tools interleaved; wall and CPU = medians, peak RSS = max over runs; ratios against s5cmd / aws-cli in the same group."
echo
echo "| server | kind | object | tool | check | wall s | CPU s | peak RSS MiB | wall / s5cmd | CPU / s5cmd | wall / aws-cli | runs |"
echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
