#!/usr/bin/env bash
# Starts a sync (the <stackPrefix>-Sync state machine): every board of the
# target, or one with BOARD=<name>; prints the execution ARN, follows it to
# the end and prints each board's outcome. Exits 0 only when it SUCCEEDED.
#   make sync [BOARD=shop-1]
# Against the running local demo when .demo/stepfunctions.json exists and
# neither STACK nor AWS_PROFILE is set; else against the deployed stack.
set -euo pipefail
board="${BOARD:-}"
poll="${POLL:-5}"
demo_file="${DEMO_FILE:-.demo/stepfunctions.json}"

# contract.NamePattern and contract.NameRule (sync_script_test.go keeps them
# equal): the name goes into the execution's input and a cluster query.
name_re='^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'
name_rule="1-63 letters, digits, '-' or '_', starting with a letter or digit"

fail() { echo "sync: $*" >&2; exit 2; }
[[ -z "$board" || "$board" =~ $name_re ]] || fail "board name \"$board\" is not valid: use $name_rule"
[[ "$poll" =~ ^[0-9]+$ ]] || fail "POLL=$poll must be whole seconds"
command -v aws >/dev/null || fail "the AWS CLI is needed (apt-get install awscli)"

# json_field FILE KEY: a string field of a flat JSON object (no jq needed).
json_field() { tr -d '\n' <"$1" | sed -n 's/.*"'"$2"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'; }

sfn=(aws stepfunctions)
if [[ -f "$demo_file" && -z "${STACK:-}" && -z "${AWS_PROFILE:-}" ]]; then
  endpoint=$(json_field "$demo_file" endpoint)
  arn=$(json_field "$demo_file" syncStateMachineArn)
  key=$(json_field "$demo_file" accessKeyId)
  secret=$(json_field "$demo_file" secretAccessKey)
  region=$(json_field "$demo_file" region)
  [[ -n "$endpoint" && -n "$arn" && -n "$key" && -n "$secret" && -n "$region" ]] ||
    fail "$demo_file lacks endpoint, syncStateMachineArn or the demo's credentials: restart the demo (or STACK=<name> for AWS)"
  # The demo's own credentials (it signs nothing else in).
  export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=$region AWS_REGION=$region
  unset AWS_SESSION_TOKEN
  sfn=(aws --endpoint-url "$endpoint" stepfunctions)
  echo "# the local demo at $endpoint"
else
  # shellcheck source=scripts/aws-check.sh
  source "$(dirname "$0")/aws-check.sh"
  aws_region # a missing region is said as such, not as a missing stack
  stack="${STACK:-EdgeDrop-Pipeline}"
  errs=$(mktemp)
  trap 'rm -f "$errs"' EXIT
  if ! arn=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='SyncStateMachineArn'].OutputValue" --output text 2>"$errs"); then
    grep -q 'does not exist' "$errs" &&
      fail "stack $stack not found in $AWS_DEFAULT_REGION: run 'make deploy' first (or STACK=<name>, or AWS_DEFAULT_REGION=<the stack's region>)"
    fail "cannot read stack $stack: $(aws_why "$errs")"
  fi
  [[ -n "$arn" && "$arn" != "None" ]] ||
    fail "stack $stack has no sync: deploy with syncEvery set or -c mirrorDeletes=true (both off: no sync at all)"
fi

input='{}'
[[ -z "$board" ]] || input="{\"board\":\"$board\"}"
execution=$("${sfn[@]}" start-execution --state-machine-arn "$arn" --input "$input" --query executionArn --output text)
echo "$execution"

while :; do
  status=$("${sfn[@]}" describe-execution --execution-arn "$execution" --query status --output text)
  [[ "$status" == RUNNING || "$status" == PENDING_REDRIVE ]] || break
  sleep "$poll"
done
echo "$status"

if [[ "$status" == SUCCEEDED ]]; then
  # The output is the list of outcomes, one board's a line.
  "${sfn[@]}" describe-execution --execution-arn "$execution" --query output --output text | sed 's/},{/},\n{/g'
  exit 0
fi
# The cause names the boards that are offline or failed.
"${sfn[@]}" describe-execution --execution-arn "$execution" --query '[error, cause]' --output text >&2 || true
# Every board's outcome (exit code in words, RunTask's failures) is
# TallyOutcomes' output (the demo's endpoint keeps the top-level state exits
# of its history for this; an endpoint without a history prints nothing).
tally=$("${sfn[@]}" get-execution-history --execution-arn "$execution" --reverse-order \
  --query "events[?type=='PassStateExited' && stateExitedEventDetails.name=='TallyOutcomes'] | [0].stateExitedEventDetails.output" \
  --output text 2>/dev/null) || tally=""
[[ -z "$tally" || "$tally" == None ]] || echo "outcomes: $tally" >&2
exit 1
