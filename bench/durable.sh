#!/usr/bin/env bash
# edge-drop durability benchmark (issue 21): what making files durable
# costs, on a disk and on tmpfs, against s5cmd on the same server in the
# same run, and against the task built from BASE (default main).
#
#  1. sync of SMALL_N x 4 KiB objects into an empty directory:
#     - on a disk (DISK_DEST, not tmpfs): this tree, BASE, and `s5cmd sync`
#       followed by `sync -f DIR` (syncfs: s5cmd itself makes nothing
#       durable); ratio against the s5cmd pair;
#     - on tmpfs: this tree, BASE, s5cmd (nothing to flush there);
#  2. strace -f -c of a STRACE_N-object sync on the disk, this tree and
#     BASE: fsync-family calls (fsync, fdatasync, syncfs, sync_file_range)
#     per 100 files, renameat and openat per file;
#  3. one BIG_MIB object (composite CRC32, 8 MiB parts): on tmpfs, this
#     tree against s5cmd; on the disk, durable: this tree against s5cmd
#     followed by `sync FILE` (fsync), and BASE; peak RSS.
#
# Tools take turns in every round (the order rotates); medians. Prints
# Markdown tables.
#
#   make bench-durable                 # or: bash bench/durable.sh
#   ROUNDS=5 SMALL_N=1000 BIG_MIB=1024 DISK_DEST=/work/tmp BASE=main bash bench/durable.sh
#   ONLY='sync 1000 × 4 KiB, disk' bash bench/durable.sh   # groups whose label contains this (and no strace)
#
# Needs: go, git, /usr/bin/time (GNU), strace.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
PORT=${PORT:-9126}
EP=http://127.0.0.1:$PORT
ROUNDS=${ROUNDS:-5}
SMALL_N=${SMALL_N:-1000}
STRACE_N=${STRACE_N:-200}
BIG_MIB=${BIG_MIB:-1024}
BASE=${BASE:-main}
MEM_DEST=${MEM_DEST:-/dev/shm}
DISK_DEST=${DISK_DEST:-$OUT}
ONLY=${ONLY:-}
TIME=/usr/bin/time

for t in go git strace sha256sum "$TIME"; do
  command -v "$t" >/dev/null || { echo "bench: $t not found (apt-get install -y strace time)" >&2; exit 2; }
done
mkdir -p "$OUT" "$MEM_DEST" "$DISK_DEST"
source "$ROOT/bench/lib.sh"
build_tools
build_base

MEM=$(mktemp -d "$MEM_DEST/edge-drop-durable.XXXXXX")
DISK=$(mktemp -d "$DISK_DEST/edge-drop-durable.XXXXXX")
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$MEM" "$DISK" "$OUT/base-src"' EXIT
[[ $(stat -f -c %T "$DISK") != tmpfs ]] || { echo "bench: DISK_DEST is tmpfs; give a directory on a disk" >&2; exit 2; }
start_server -big-mib 16 -resume-mib "$BIG_MIB" -sync-small "$SMALL_N" -sync-strace "$STRACE_N"
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# timed CMD...: wall, CPU and peak RSS of CMD: "wall cpu rssMiB".
timed() {
  local t0 t1
  t0=$(date +%s%N)
  "$TIME" -f '%U %S %M' -o "$OUT/time.txt" "$@" > "$OUT/cmd.out" 2> "$OUT/cmd.err" ||
    { echo "bench: $* failed" >&2; tail -3 "$OUT/cmd.err" "$OUT/cmd.out" >&2; exit 1; }
  t1=$(date +%s%N)
  read -r u s m < <(tail -1 "$OUT/time.txt")
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" 'BEGIN{printf "%.4f %.2f %.1f", w/1e9, u+s, m/1024}'
}

# one TOOL WHAT DEST: one run into a fresh directory; prints "wall cpu rss".
one() {
  local tool=$1 what=$2 dir
  dir=$(mktemp -d "$3/run.XXXXXX")
  sync
  local r
  case $tool:$what in
    task:small) r=$(timed "$OUT/edge-drop-task" sync -bucket bench -prefix sync-small/ -dir "$dir") ;;
    base:small) r=$(timed "$OUT/edge-drop-task-base" sync -bucket bench -prefix sync-small/ -dir "$dir") ;;
    s5cmd:small) r=$(timed "$OUT/s5cmd" --endpoint-url "$EP" sync "s3://bench/sync-small/*" "$dir/sync-small/") ;;
    s5cmd+sync:small) r=$(timed bash -c '"$1" --endpoint-url "$2" sync "s3://bench/sync-small/*" "$3/sync-small/" && sync -f "$3"' _ "$OUT/s5cmd" "$EP" "$dir") ;;
    task:big) r=$(timed "$OUT/edge-drop-task" -bucket bench -key resume.bin -dir "$dir") ;;
    base:big) r=$(timed "$OUT/edge-drop-task-base" -bucket bench -key resume.bin -dir "$dir") ;;
    s5cmd:big) r=$(timed "$OUT/s5cmd" --endpoint-url "$EP" cp s3://bench/resume.bin "$dir/resume.bin") ;;
    s5cmd+sync:big) r=$(timed bash -c '"$1" --endpoint-url "$2" cp s3://bench/resume.bin "$3/resume.bin" && sync "$3/resume.bin"' _ "$OUT/s5cmd" "$EP" "$dir") ;;
  esac
  if [[ $what == big ]]; then
    [[ $(sha256sum < "$dir/resume.bin" | cut -d' ' -f1) == "$(awk '$2=="resume.bin"{print $1}' "$OUT/objects.sha256")" ]] ||
      { echo "bench: $tool: resume.bin differs" >&2; exit 1; }
  elif [[ $(find "$dir/sync-small" -type f | wc -l) != "$SMALL_N" ]]; then
    echo "bench: $tool: not every object synced" >&2; exit 1
  fi
  rm -rf "$dir"
  echo "$r"
}

median() { sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}'; }
ROWS=()
# group LABEL WHAT DEST REF TOOLS...: ROUNDS rounds, the order rotating;
# one row per tool, ratio against REF.
group() {
  local label=$1 what=$2 dest=$3 ref=$4; shift 4
  [[ -z $ONLY || $label == *"$ONLY"* ]] || return 0
  local tools=("$@") r i t
  declare -A res=()
  for ((r = 0; r < ROUNDS; r++)); do
    for ((i = 0; i < ${#tools[@]}; i++)); do
      t=${tools[$(((i + r) % ${#tools[@]}))]}
      res[$t]+="$(one "$t" "$what" "$dest")"$'\n'
    done
  done
  local refw
  refw=$(printf '%s' "${res[$ref]}" | awk '{print $1}' | median)
  for t in "${tools[@]}"; do
    local w c m name
    w=$(printf '%s' "${res[$t]}" | awk '{print $1}' | median)
    c=$(printf '%s' "${res[$t]}" | awk '{print $2}' | median)
    m=$(printf '%s' "${res[$t]}" | awk '$3>m{m=$3} END{print m}')
    case $t in
      task) name="edge-drop-task (this tree)" ;; base) name="edge-drop-task ($BASE $BASE_REV)" ;;
      s5cmd) name="s5cmd v2.3.0" ;; s5cmd+sync) name=$([[ $what == big ]] && echo "s5cmd v2.3.0, then sync FILE (fsync)" || echo "s5cmd v2.3.0, then sync -f (syncfs)") ;;
    esac
    ROWS+=("$(awk -v l="$label" -v n="$name" -v w="$w" -v c="$c" -v m="$m" -v rw="$refw" -v k="$ROUNDS" \
      'BEGIN{printf "| %s | %s | %.3f | %.2f | %.1f | %.2f | %d |", l, n, w, c, m, w/rw, k}')")
    echo "  ${ROWS[-1]}" >&2
  done
}

DISKFS=$(stat -f -c %T "$DISK")
echo "== sync of $SMALL_N x 4 KiB, disk ($DISKFS) and tmpfs" >&2
group "sync $SMALL_N × 4 KiB, disk ($DISKFS)" small "$DISK" s5cmd+sync task base s5cmd+sync
group "sync $SMALL_N × 4 KiB, tmpfs" small "$MEM" s5cmd task base s5cmd
echo "== $BIG_MIB MiB, tmpfs and disk (durable)" >&2
group "$BIG_MIB MiB, tmpfs" big "$MEM" s5cmd task base s5cmd
group "$BIG_MIB MiB, disk ($DISKFS), durable" big "$DISK" s5cmd+sync task base s5cmd+sync

echo "== strace of a $STRACE_N-object sync (disk)" >&2
SROWS=()
STRACE=(task base)
[[ -z $ONLY ]] || STRACE=()
for t in "${STRACE[@]}"; do
  bin=$OUT/edge-drop-task; [[ $t == base ]] && bin=$OUT/edge-drop-task-base
  dir=$(mktemp -d "$DISK/strace.XXXXXX")
  strace -f -c -o "$OUT/strace-$t.txt" "$bin" sync -bucket bench -prefix sync-strace/ -dir "$dir" > "$OUT/strace-$t.out" 2>&1 ||
    { tail -3 "$OUT/strace-$t.out" >&2; exit 1; }
  n=$(find "$dir/sync-strace" -type f | wc -l)
  rm -rf "$dir"
  calls() { awk -v s="$1" '$NF==s{print ($4 ~ /^[0-9]+$/ ? $4 : $5)}' "$OUT/strace-$t.txt" | head -1; }
  fs=0; for s in fsync fdatasync syncfs sync_file_range; do fs=$((fs + $(calls $s || true) + 0)); done 2>/dev/null
  name=$([[ $t == task ]] && echo "this tree" || echo "$BASE $BASE_REV")
  SROWS+=("$(awk -v nm="$name" -v n="$n" -v f="$fs" -v r="$(calls renameat)" -v o="$(calls openat)" -v c="$(calls close)" \
    'BEGIN{printf "| %s | %d | %d | %.1f | %.2f | %.1f | %.1f |", nm, n, f, 100*f/n, r/n, o/n, c/n}')")
  echo "  ${SROWS[-1]}" >&2
done

echo
echo "Durability benchmark started $STARTED, $(nproc) cores, load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(go version | cut -d' ' -f3), task $VERSION, disk $DISK ($DISKFS), tmpfs $MEM; $ROUNDS rounds, tools taking turns (the order rotates), medians; peak RSS the maximum."
echo
echo "| what | tool | wall s | CPU s | peak RSS MiB | wall / reference | rounds |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Reference: the first tool of each group (s5cmd, with its flush where the group is durable)."
echo
echo "| task | files | fsync-family calls | per 100 files | renameat per file | openat per file | close per file |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${SROWS[@]}"
