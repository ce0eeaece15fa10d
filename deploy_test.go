package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make deploy (and diff, destroy) without credentials or a region says
// which is missing and how to fix it, before CDK's generic "Unable to
// resolve AWS account to use".
func TestDeployWithoutCredentialsOrRegionSaysWhatIsMissing(t *testing.T) {
	bin := t.TempDir()
	fake := `#!/bin/sh
case "$*" in
  --version) echo "aws-cli/${FAKE_AWS_MAJOR:-2}.27.0 Python/3.11" ;;
  "configure get region") exit 1 ;;
  "sts get-caller-identity"*)
    case "$FAKE_STS" in
      nocreds) echo 'Unable to locate credentials. You can configure credentials by running "aws configure".' >&2; exit 253 ;;
      expired) printf '\nAn error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired\n' >&2; exit 254 ;;
      *) echo 123456789012 ;;
    esac ;;
  *) echo "fake aws: unexpected $*" >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(env ...string) (string, error) {
		cmd := exec.Command("bash", "scripts/aws-preflight.sh", "deploy")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"FAKE_STS=nocreds"}, "make deploy: no AWS credentials: run aws configure (access keys) or aws sso login (then AWS_PROFILE=<profile>), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{[]string{"FAKE_STS=expired"}, "make deploy: An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired: the AWS credentials have expired"},
		{[]string{"AWS_DEFAULT_REGION="}, "make deploy: no AWS region: export AWS_DEFAULT_REGION="},
		{[]string{"AWS_DEFAULT_REGION=", "AWS_REGION=eu-west-1", "FAKE_AWS_MAJOR=1"}, "make deploy: AWS_REGION=eu-west-1 is set, but aws-cli v1 reads AWS_DEFAULT_REGION: export AWS_DEFAULT_REGION=eu-west-1"},
	} {
		out, err := run(tc.env...)
		if err == nil || !strings.HasPrefix(out, tc.want) || strings.Contains(out, "\n") {
			t.Errorf("%v: want one line starting %q, got %v:\n%s", tc.env, tc.want, err, out)
		}
	}
	if out, err := run(); err != nil || out != "" {
		t.Errorf("credentials and a region: want silence, got %v: %s", err, out)
	}

	// The check runs before CDK does, for every target that needs an account.
	for _, target := range []string{"deploy", "diff", "destroy"} {
		dry, err := exec.Command("make", "-n", target).CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, dry)
		}
		check, cdk := strings.Index(string(dry), "scripts/aws-preflight.sh "+target), strings.Index(string(dry), "cdk "+target)
		if check < 0 || cdk < check {
			t.Errorf("make %s must check the credentials before cdk runs:\n%s", target, dry)
		}
	}
}
