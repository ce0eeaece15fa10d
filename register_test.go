package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make register reads the cluster stack's outputs with the AWS CLI; a fake
// `aws` on PATH stands in for CloudFormation.
func TestRegisterPrintsTheBoardCommands(t *testing.T) {
	bin := t.TempDir()
	fake := `#!/bin/sh
case "$*" in
  *missing*) echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id missing does not exist" >&2; exit 254 ;;
  *ActivationCommand*) echo "aws ssm create-activation --region eu-west-1 --iam-role EdgeDrop-Cluster-Role --registration-limit 1" ;;
  *InstallCommand*) echo "curl --proto https -fsSL -o /tmp/ecs-anywhere-install.sh URL && sudo bash /tmp/ecs-anywhere-install.sh --cluster edge-drop" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(stack string) (string, error) {
		cmd := exec.Command("bash", "scripts/register.sh")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STACK="+stack)
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
		"sudo bash /tmp/ecs-anywhere-install.sh --cluster edge-drop",
		"sudo install -d -o 65532 -g 65532 -m 0750 /data",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = run("missing")
	if err == nil || !strings.Contains(out, "register: stack missing not found: run 'make deploy' first") {
		t.Errorf("a missing stack must say what to do, got %v:\n%s", err, out)
	}
}
