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
activation=$(out ActivationCommand) || { echo "register: stack $stack not found: run 'make deploy' first (or STACK=<name>)" >&2; exit 2; }
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
read -r id code < <(eval "$activation")
echo "# On the board (checks the installer's signature, key $fpr, before running it):"
echo "export ACTIVATION_ID=$id ACTIVATION_CODE=$code"
echo "$install"
echo "sudo install -d -o 65532 -g 65532 -m 0750 /data"
