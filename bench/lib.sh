# Shared by the bench scripts (sourced): builds the tools into
# $OUT and starts the local S3 server. Expects ROOT, OUT, PORT, EP set.

# build_tools: edge-drop-task (release flags), bench-s3, s5cmd v2.3.0.
build_tools() {
  echo "== building" >&2
  export GOFLAGS=-buildvcs=false GOWORK=off # each module with its own go.mod's versions
  VERSION=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)
  (cd "$ROOT/task" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$OUT/edge-drop-task" .)
  (cd "$ROOT/bench/bench-s3" && go build -o "$OUT/bench-s3" .)
  if [[ ! -x $OUT/s5cmd ]]; then
    # Throwaway module: `go install ...@v2.3.0` needs the proxy's version list,
    # which it refuses; an explicit require does not.
    mkdir -p "$OUT/s5cmd-build"
    (cd "$OUT/s5cmd-build" && printf 'module s5cmdbuild\n\ngo 1.24\n' > go.mod &&
      go get github.com/peak/s5cmd/v2@v2.3.0 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/s5cmd" github.com/peak/s5cmd/v2)
  fi
}

# start_server ARGS...: bench-s3 on $EP with the given object flags; sets
# SERVER (its pid) and the AWS_* environment every tool uses. The caller's
# EXIT trap must kill $SERVER.
start_server() {
  echo "== starting bench-s3 on $EP ($*)" >&2
  "$OUT/bench-s3" "$@" -addr "127.0.0.1:$PORT" -sums "$OUT/objects.sha256" > "$OUT/bench-s3.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1200); do
    grep -q ready "$OUT/bench-s3.log" 2>/dev/null && break
    kill -0 $SERVER 2>/dev/null || { cat "$OUT/bench-s3.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q ready "$OUT/bench-s3.log" || { echo "bench-s3 did not start" >&2; exit 1; }
  export HOME=$OUT/home AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_S3=$EP AWS_PAGER=""
  mkdir -p "$HOME"
}

# build_base: the task as BASE (a git revision) has it, into
# $OUT/edge-drop-task-base, from $OUT/base-src (the caller's EXIT trap
# removes it); sets BASE_REV.
build_base() {
  rm -rf "$OUT/base-src" && mkdir -p "$OUT/base-src"
  # The task module's sibling modules (its go.mod replaces them with ../...).
  local mods=(task contract)
  git -C "$ROOT" cat-file -e "$BASE:s3fake" 2>/dev/null && mods+=(s3fake)
  git -C "$ROOT" archive "$BASE" "${mods[@]}" | tar -x -C "$OUT/base-src"
  (cd "$OUT/base-src/task" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=base" -o "$OUT/edge-drop-task-base" .)
  BASE_REV=$(git -C "$ROOT" rev-parse --short "$BASE")
}
