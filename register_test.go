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
	run := func(stack string) (string, error) {
		cmd := exec.Command("bash", "scripts/register.sh")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STACK="+stack, "INSTALL_COMMAND_FILE="+installFile)
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
}
