#!/usr/bin/env bash
# Says why the first `make demo` is quiet for minutes: `go run` compiles the
# AWS CDK Go bindings (jsii bindings of all of aws-cdk-lib) before the demo
# prints anything. One line, only when the build cache lacks them; later runs
# say nothing and start in seconds.
#
#   bash scripts/first-run-note.sh ./cmd/demo
set -euo pipefail
pkg=${1:?usage: first-run-note.sh <package>}

# `go list` only hashes sources (well under a second with a warm cache, a few
# seconds on an empty one); a CDK package marked Stale is one the build cache
# lacks, so `go run` will compile it.
# (Read the whole list first: grep -q exiting early would SIGPIPE go list.)
stale=$(go list -deps -f '{{if .Stale}}{{.ImportPath}}{{end}}' "$pkg" 2>/dev/null || true)
if grep -q '^github.com/aws/aws-cdk-go/' <<<"$stale"; then
  echo "first run: compiling the AWS CDK Go bindings for the in-process synth (several minutes, once; later runs start in seconds)"
fi
