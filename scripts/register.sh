#!/usr/bin/env bash
# Prints the exact commands that register a NanoPi (or any arm64/amd64 Linux
# board) with the deployed edge-drop cluster, read from the cluster stack's
# outputs. RUN=1 also creates the activation here and prints the board
# command with the activation filled in.
set -euo pipefail
stack="${STACK:-EdgeDrop-Cluster}"
command -v aws >/dev/null || { echo "register: the AWS CLI is needed (apt-get install awscli)" >&2; exit 2; }
out() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
if ! activation=$(out ActivationCommand 2>"$errs"); then
  # Only a missing stack means "deploy"; anything else (credentials,
  # region, throttling) is said as AWS said it.
  if grep -q 'does not exist' "$errs"; then
    echo "register: stack $stack not found: run 'make deploy' first (or STACK=<name>, or AWS_REGION=<the stack's region>)" >&2
  else
    echo "register: cannot read stack $stack's outputs: $(grep -v '^[[:space:]]*$' "$errs" | tail -n 1): check the AWS credentials (aws sts get-caller-identity) and region (AWS_PROFILE, AWS_REGION)" >&2
  fi
  exit 2
fi
install=$(out InstallCommand)
# The fingerprint the board command pins, for the person reading along.
fpr=$(grep -o 'VALIDSIG \.\* [0-9A-F]\{40\}' <<<"$install" | grep -o '[0-9A-F]\{40\}' || true)
if [[ -z "$fpr" ]]; then
  echo "register: stack $stack's InstallCommand does not verify the installer's signature: redeploy the cluster stack (make deploy)" >&2
  exit 2
fi
if [[ "${RUN:-0}" != 1 ]]; then
  cat <<MSG
# 1. On your laptop: create a one-board activation (prints id and code)
$activation

# 2. On the board (ssh), with the two values from step 1. The command first
#    checks AWS's signature on the installer (.asc, Amazon ECS key
#    $fpr) and runs it only if the signature is good;
#    it needs curl and gpg (sudo apt-get install -y curl gnupg).
export ACTIVATION_ID=<id> ACTIVATION_CODE=<code>
$install

# 3. On the board: the task runs as uid 65532 and writes to /data
sudo install -d -o 65532 -g 65532 -m 0750 /data
MSG
  exit 0
fi
if ! pair=$(eval "$activation"); then
  echo "register: creating the activation failed (AWS's message above): check the AWS credentials and that they may call ssm:CreateActivation and iam:PassRole" >&2
  exit 2
fi
read -r id code <<<"$pair" || true
if [[ -z "$id" || -z "$code" ]]; then
  echo "register: creating the activation printed no id and code (got \"$pair\"): run step 1 of 'make register' by hand" >&2
  exit 2
fi
echo "# On the board (checks the installer's signature, key $fpr, before running it):"
echo "export ACTIVATION_ID=$id ACTIVATION_CODE=$code"
echo "$install"
echo "sudo install -d -o 65532 -g 65532 -m 0750 /data"
