#!/usr/bin/env bash
# Prints the exact commands that register a NanoPi (or any arm64/amd64 Linux
# board) with the deployed edge-drop cluster under a name and groups, read
# from the cluster stack's outputs, and how to rename or regroup it later.
# RUN=1 also creates the activation here and prints the board commands with
# the activation filled in.
#   make register BOARD=shop-1 GROUP=site1,eu
set -euo pipefail
stack="${STACK:-EdgeDrop-Cluster}"
board="${BOARD:-}"
groups="${GROUP:-}"

# contract.NamePattern, contract.NameRule and contract.MaxGroups (register_test.go
# keeps them equal): a name must be safe in a cluster query, an attribute
# name, a shell command and a path.
name_re='^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'
name_rule="1-63 letters, digits, '-' or '_', starting with a letter or digit"
max_groups=9

fail() { echo "register: $*" >&2; exit 2; }
check_name() { [[ "$2" =~ $name_re ]] || fail "$1 name \"$2\" is not valid: use $name_rule"; }

[[ -n "$board" ]] || fail "name the board: make register BOARD=<name> [GROUP=<group>[,<group>...]] ($name_rule)"
check_name board "$board"
declare -a group_list=()
if [[ -n "$groups" ]]; then
  IFS=, read -r -a group_list <<<"$groups"
  [[ "$groups" != *, ]] || fail "group name \"\" is not valid: use $name_rule"
fi
for g in "${group_list[@]}"; do
  check_name group "$g"
done
if (( ${#group_list[@]} > max_groups )); then
  fail "${#group_list[@]} groups: a board can be in at most $max_groups (ECS allows 10 custom attributes, one is the board's name)"
fi
if [[ -n "$groups" ]] && [[ $(printf '%s\n' "${group_list[@]}" | sort | uniq -d) ]]; then
  fail "GROUP=$groups names a group twice"
fi

command -v aws >/dev/null || fail "the AWS CLI is needed (apt-get install awscli)"
# shellcheck source=scripts/aws-check.sh
source "$(dirname "$0")/aws-check.sh"
aws_region
out() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
if ! activation=$(out ActivationCommand 2>"$errs"); then
  # Only a missing stack means "deploy"; anything else (credentials,
  # region, throttling) is said as AWS said it.
  grep -q 'does not exist' "$errs" && fail "stack $stack not found in $AWS_DEFAULT_REGION: run 'make deploy' first (or STACK=<name>, or AWS_DEFAULT_REGION=<the stack's region>)"
  fail "cannot read stack $stack's outputs: $(aws_why "$errs")"
fi
install=$(out InstallCommand)
cluster=$(out ClusterName)
region=$(grep -o -- '--region [^ ]*' <<<"$activation" | head -n 1 || true)
# The fingerprint the board command pins, for the person reading along.
fpr=$(grep -o 'VALIDSIG \.\* [0-9A-F]\{40\}' <<<"$install" | grep -o '[0-9A-F]\{40\}' || true)
[[ -n "$fpr" ]] || fail "stack $stack's InstallCommand does not verify the installer's signature: redeploy the cluster stack (make deploy)"

# The board's identity as ECS attributes (contract.AttrBoard,
# contract.GroupAttr): JSON, every name already checked above.
attrs="\"edge-drop.board\":\"$board\""
for g in "${group_list[@]}"; do
  attrs+=",\"edge-drop.group.$g\":\"member\""
done
ecs_config="sudo install -d -m 0755 /etc/ecs
echo 'ECS_INSTANCE_ATTRIBUTES={$attrs}' | sudo tee -a /etc/ecs/ecs.config"

find_board="ci=\$(aws ecs list-container-instances $region --cluster $cluster --filter 'attribute:edge-drop.board == $board' --query 'containerInstanceArns[0]' --output text)"
put() { echo "aws ecs put-attributes $region --cluster $cluster --attributes name=$1,value=$2,targetType=container-instance,targetId=\$ci"; }
later() {
  cat <<MSG

# Later, from your laptop: rename or regroup the registered board. The agent
# reads ecs.config only at its first registration; ECS keeps the attributes.
$find_board
# rename it to <new-name>:
$(put edge-drop.board '<new-name>')
# add it to group <group>:
$(put 'edge-drop.group.<group>' member)
# take it out of group <group>:
aws ecs delete-attributes $region --cluster $cluster --attributes name=edge-drop.group.'<group>',targetType=container-instance,targetId=\$ci
MSG
}

if [[ "${RUN:-0}" != 1 ]]; then
  cat <<MSG
# Board "$board"${groups:+, groups $groups}.
# 1. On your laptop: create a one-board activation (prints id and code)
$activation

# 2. On the board (ssh), BEFORE the install script: its name and groups as
#    ECS attributes, read once, when the agent first registers.
$ecs_config

# 3. On the board, with the two values from step 1. The command first
#    checks AWS's signature on the installer (.asc, Amazon ECS key
#    $fpr) and runs it only if the signature is good;
#    it needs curl and gpg (sudo apt-get install -y curl gnupg).
export ACTIVATION_ID=<id> ACTIVATION_CODE=<code>
$install

# 4. On the board: the task runs as uid 65532 and writes to /data
sudo install -d -o 65532 -g 65532 -m 0750 /data
MSG
  later
  exit 0
fi
pair=$(eval "$activation") || fail "creating the activation failed (AWS's message above): check the AWS credentials and that they may call ssm:CreateActivation and iam:PassRole"
read -r id code <<<"$pair" || true
[[ -n "$id" && -n "$code" ]] || fail "creating the activation printed no id and code (got \"$pair\"): run step 1 of 'make register' by hand"
echo "# On board \"$board\": its name and groups first, then the installer (checks its signature, key $fpr):"
echo "$ecs_config"
echo "export ACTIVATION_ID=$id ACTIVATION_CODE=$code"
echo "$install"
echo "sudo install -d -o 65532 -g 65532 -m 0750 /data"
later
