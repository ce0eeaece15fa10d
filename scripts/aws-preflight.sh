#!/usr/bin/env bash
# Before cdk deploy, diff and destroy: the AWS region and credentials, so
# that a missing one is named with its fix instead of CDK's generic "Unable
# to resolve AWS account to use". Checked with the AWS CLI when it is
# installed (one sts get-caller-identity call); without it CDK says what it
# says.
#   bash scripts/aws-preflight.sh deploy
set -euo pipefail
what=${1:-deploy}
fail() { echo "make $what: $*" >&2; exit 2; }
command -v aws >/dev/null || exit 0
# shellcheck source=scripts/aws-check.sh
source "$(dirname "$0")/aws-check.sh"
aws_region
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
aws sts get-caller-identity --query Account --output text >/dev/null 2>"$errs" || fail "$(aws_why "$errs")"
