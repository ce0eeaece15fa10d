package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/constructs/edgecluster"
)

// make register reads the cluster stack's outputs with the AWS CLI; a fake
// `aws` on PATH stands in for CloudFormation.
func TestRegisterPrintsTheBoardCommands(t *testing.T) {
	bin := t.TempDir()
	fake := `#!/bin/sh
case "$*" in
  *missing*) echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id missing does not exist" >&2; exit 254 ;;
  *expired*) printf '\nAn error occurred (ExpiredToken) when calling the DescribeStacks operation: The security token included in the request is expired\n' >&2; exit 254 ;;
  *create-activation*) test "$ACTIVATION" != fail || { echo "An error occurred (AccessDeniedException) when calling the CreateActivation operation: not authorized to perform iam:PassRole" >&2; exit 254; }; printf '%s\n' "$ACTIVATION" ;;
  *ActivationCommand*) echo "aws ssm create-activation --region eu-west-1 --iam-role EdgeDrop-Cluster-Role --registration-limit 1" ;;
  *old*InstallCommand*) echo "curl --proto https -fsSL -o /tmp/ecs-anywhere-install.sh URL && sudo bash /tmp/ecs-anywhere-install.sh --cluster edge-drop" ;;
  *InstallCommand*) cat "$INSTALL_COMMAND_FILE" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	// The install command as the cluster stack renders it (Fn::Sub filled in).
	install := edgecluster.VerifyInstallScript + " && sudo bash /tmp/ecs-anywhere-install.sh --region eu-west-1 --cluster edge-drop" +
		` --activation-id "$ACTIVATION_ID" --activation-code "$ACTIVATION_CODE"`
	installFile := filepath.Join(bin, "install-command")
	if err := os.WriteFile(installFile, []byte(install+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(stack string, env ...string) (string, error) {
		cmd := exec.Command("bash", "scripts/register.sh")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STACK="+stack, "INSTALL_COMMAND_FILE="+installFile)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("EdgeDrop-Cluster")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"aws ssm create-activation --region eu-west-1 --iam-role EdgeDrop-Cluster-Role --registration-limit 1",
		"export ACTIVATION_ID=<id> ACTIVATION_CODE=<code>",
		install,
		"checks AWS's signature on the installer",
		"Amazon ECS key\n#    " + edgecluster.ECSSigningKeyFPR,
		"sudo install -d -o 65532 -g 65532 -m 0750 /data",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A cluster stack deployed before the signature check prints no
	// unverified command: it says to redeploy.
	out, err = run("old-stack")
	if err == nil || !strings.Contains(out, "does not verify the installer's signature: redeploy the cluster stack") || strings.Contains(out, "sudo bash") {
		t.Errorf("an unverified install command must not be printed, got %v:\n%s", err, out)
	}

	out, err = run("missing")
	if err == nil || !strings.Contains(out, "register: stack missing not found: run 'make deploy' first") {
		t.Errorf("a missing stack must say what to do, got %v:\n%s", err, out)
	}

	// Other failures to read the stack are not a missing stack: the
	// message says what AWS said and where to look, not to deploy.
	out, err = run("expired")
	if err == nil || strings.Contains(out, "make deploy") ||
		!strings.Contains(out, "register: cannot read stack expired's outputs: An error occurred (ExpiredToken)") ||
		!strings.Contains(out, "AWS credentials") {
		t.Errorf("an expired token must be reported as such, got %v:\n%s", err, out)
	}

	// RUN=1 creates the activation; the board command gets its id and code.
	out, err = run("EdgeDrop-Cluster", "RUN=1", "ACTIVATION=id-123\tcode-456")
	if err != nil || !strings.Contains(out, "export ACTIVATION_ID=id-123 ACTIVATION_CODE=code-456\n"+install) {
		t.Errorf("RUN=1 must print the board command with the activation, got %v:\n%s", err, out)
	}
	// A failed or empty activation prints no board command with empty
	// values: it fails and says so.
	for _, activation := range []string{"fail", ""} {
		out, err = run("EdgeDrop-Cluster", "RUN=1", "ACTIVATION="+activation)
		if err == nil || strings.Contains(out, "export ACTIVATION_ID") || !strings.Contains(out, "register: creating the activation") {
			t.Errorf("RUN=1 with activation %q must fail without a board command, got %v:\n%s", activation, err, out)
		}
	}
}
