# Sourced by scripts/register.sh, scripts/sync.sh and scripts/aws-preflight.sh
# (make deploy, diff, destroy): the region and credentials the AWS CLI will
# use, checked before the first call, each failure named with a fix that
# works with aws-cli v1 and v2. The sourcing script defines fail().

# aws_major: 1 or 2, from `aws --version` (aws-cli/1.x ... or aws-cli/2.x ...).
aws_major() {
  local v
  v=$(aws --version 2>&1 || true)
  if [[ $v == aws-cli/1.* ]]; then echo 1; else echo 2; fi
}

# aws_region: the region the AWS CLI will use, exported so that v1 and v2
# agree (v1 reads AWS_DEFAULT_REGION only, v2 AWS_REGION first); fails with
# the fix when there is none.
aws_region() {
  local major region
  major=$(aws_major)
  region=${AWS_DEFAULT_REGION:-}
  if [[ $major == 2 ]]; then region=${AWS_REGION:-$region}; fi
  [[ -n $region ]] || region=$(aws configure get region 2>/dev/null || true)
  if [[ -z $region ]]; then
    if [[ $major == 1 && -n ${AWS_REGION:-} ]]; then
      fail "AWS_REGION=$AWS_REGION is set, but aws-cli v1 reads AWS_DEFAULT_REGION: export AWS_DEFAULT_REGION=$AWS_REGION (aws-cli v1 and v2 both read it)"
    fi
    fail "no AWS region: export AWS_DEFAULT_REGION=<the stacks' region, e.g. eu-west-1> (aws-cli v1 and v2 both read it), or aws configure set region <region>"
  fi
  export AWS_DEFAULT_REGION=$region
  if [[ $major == 2 ]]; then export AWS_REGION=$region; fi
}

# aws_why FILE: why an AWS CLI call failed (its stderr in FILE), one line
# with the fix.
aws_why() {
  local last
  last=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true)
  case "$last" in
    *"Unable to locate credentials"*)
      echo "no AWS credentials: run aws configure (access keys) or aws sso login (then AWS_PROFILE=<profile>), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" ;;
    *"You must specify a region"*)
      echo "no AWS region: export AWS_DEFAULT_REGION=<region> (aws-cli v1 and v2 both read it)" ;;
    *ExpiredToken* | *"is expired"* | *"Token has expired"*)
      echo "$last: the AWS credentials have expired: aws sso login, or new session credentials" ;;
    *InvalidClientTokenId* | *"security token included in the request is invalid"* | *SignatureDoesNotMatch*)
      echo "$last: the AWS credentials are not valid: check AWS_PROFILE or AWS_ACCESS_KEY_ID and the secret (aws sts get-caller-identity)" ;;
    *"Could not connect to the endpoint URL"*)
      echo "cannot reach AWS ($last): check the network and the region $AWS_DEFAULT_REGION" ;;
    "") echo "the AWS CLI failed without a message" ;;
    *) echo "$last" ;;
  esac
}
