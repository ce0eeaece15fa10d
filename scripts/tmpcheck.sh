#!/usr/bin/env bash
# Runs a command (make test runs its targets so) with TMPDIR set to a new
# directory of its own, then fails if anything is left in it but a cache a
# tool keeps on purpose: what the tests, and the tools they start (go, node,
# the CDK CLI, jsii, the scripts), put in the temp dir and did not remove is
# named, with its size. Then the directory goes, so the system temp dir is
# as it was.
#
# A directory of its own rather than a before/after listing of /tmp: other
# people's processes write to /tmp at the same time (a shared machine, CI
# runners), which a listing would blame on the tests, while everything that
# honours TMPDIR lands here and nowhere else. A path spelt /tmp/... bypasses
# TMPDIR: no test writes one (the board's install command, which does, is
# rewritten to the test's directory by its test).
#   bash scripts/tmpcheck.sh make test-all
set -uo pipefail
dir=$(mktemp -d "${TMPDIR:-/tmp}/edt.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
TMPDIR=$dir "$@"
status=$?

# Caches a tool keeps in the temp dir by design, to be reused by its next
# run (none today: Go, npm and jsii keep theirs under ~/.cache and ~/.npm).
caches='^$'
left=$(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | grep -Ev "$caches" | sort)
if [[ -n $left ]]; then
  echo "tmpcheck: the tests left this in the temp dir (each test writes under t.TempDir() and closes what it starts):" >&2
  while read -r name; do
    echo "  $name ($(du -sh "$dir/$name" 2>/dev/null | cut -f1))" >&2
  done <<<"$left"
  ((status != 0)) || status=1
fi
exit "$status"
