package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/constructs/edgecluster"
	"github.com/edge-drop/edge-drop/contract"
)

// make register reads the cluster stack's outputs with the AWS CLI; a fake
// `aws` on PATH stands in for CloudFormation.
func TestRegisterPrintsTheBoardCommands(t *testing.T) {
	bin := t.TempDir()
	fake := `#!/bin/sh
case "$*" in
  *nocreds*) echo 'Unable to locate credentials. You can configure credentials by running "aws configure".' >&2; exit 253 ;;
  *missing*) echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id missing does not exist" >&2; exit 254 ;;
  *expired*) printf '\nAn error occurred (ExpiredToken) when calling the DescribeStacks operation: The security token included in the request is expired\n' >&2; exit 254 ;;
  *ActivationCommand*) echo "aws ssm create-activation --region eu-west-1 --iam-role EdgeDrop-Cluster-Role --registration-limit 1" ;;
  *ClusterName*) echo "edge-drop" ;;
  "ssm create-activation"*) test "$ACTIVATION" != fail || { echo "An error occurred (AccessDeniedException) when calling the CreateActivation operation: not authorized to perform iam:PassRole" >&2; exit 254; }; echo "${ACTIVATION-act-0123 code-4567}" ;;
  *old*InstallCommand*) echo "curl --proto https -fsSL -o /tmp/ecs-anywhere-install.sh URL && sudo bash /tmp/ecs-anywhere-install.sh --cluster edge-drop" ;;
  *InstallCommand*) cat "$INSTALL_COMMAND_FILE" ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	// The install command as the cluster stack renders it (Fn::Sub filled in).
	install := edgecluster.VerifyInstallScript + " && sudo bash \"$EDGE_DROP_INSTALL_DIR/ecs-anywhere-install.sh\" --region eu-west-1 --cluster edge-drop" +
		` --activation-id "$ACTIVATION_ID" --activation-code "$ACTIVATION_CODE"`
	installFile := filepath.Join(bin, "install-command")
	if err := os.WriteFile(installFile, []byte(install+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(stack string, env ...string) (string, error) {
		cmd := exec.Command("bash", "scripts/register.sh")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STACK="+stack, "INSTALL_COMMAND_FILE="+installFile, "BOARD=shop-1", "GROUP=site1,eu",
			"AWS_DEFAULT_REGION=eu-west-1")
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
	// The board's identity goes into ecs.config before the installer runs
	// (the agent reads it at its first registration only).
	ecsConfig := `echo 'ECS_INSTANCE_ATTRIBUTES={"edge-drop.board":"shop-1","edge-drop.group.site1":"member","edge-drop.group.eu":"member"}' | sudo tee -a /etc/ecs/ecs.config`
	if i, j := strings.Index(out, ecsConfig), strings.Index(out, install); i < 0 || j < i {
		t.Errorf("the ecs.config line must come before the install command:\n%s", out)
	}
	// How to rename and regroup it later, on this cluster and region.
	for _, want := range []string{
		"ci=$(aws ecs list-container-instances --region eu-west-1 --cluster edge-drop --filter 'attribute:edge-drop.board == shop-1' --query 'containerInstanceArns[0]' --output text)",
		"aws ecs put-attributes --region eu-west-1 --cluster edge-drop --attributes name=edge-drop.board,value=<new-name>,targetType=container-instance,targetId=$ci",
		"aws ecs put-attributes --region eu-west-1 --cluster edge-drop --attributes name=edge-drop.group.<group>,value=member,targetType=container-instance,targetId=$ci",
		"aws ecs delete-attributes --region eu-west-1 --cluster edge-drop --attributes name=edge-drop.group.'<group>',targetType=container-instance,targetId=$ci",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// RUN=1 creates the activation and fills it in.
	out, err = run("EdgeDrop-Cluster", "RUN=1")
	if err != nil || !strings.Contains(out, "export ACTIVATION_ID=act-0123 ACTIVATION_CODE=code-4567") ||
		strings.Index(out, ecsConfig) > strings.Index(out, install) || !strings.Contains(out, "aws ecs put-attributes") {
		t.Errorf("RUN=1: %v\n%s", err, out)
	}

	// A cluster stack deployed before the signature check prints no
	// unverified command: it says to redeploy.
	out, err = run("old-stack")
	if err == nil || !strings.Contains(out, "does not verify the installer's signature: redeploy the cluster stack") || strings.Contains(out, "sudo bash") {
		t.Errorf("an unverified install command must not be printed, got %v:\n%s", err, out)
	}

	out, err = run("missing")
	if err == nil || !strings.Contains(out, "register: stack missing not found in eu-west-1: run 'make deploy' first") {
		t.Errorf("a missing stack must say what to do, got %v:\n%s", err, out)
	}

	// No credentials, no region: each said as such, with a fix for aws-cli
	// v1 and v2 alike (AWS_DEFAULT_REGION, which both read).
	out, err = run("nocreds")
	if err == nil || !strings.Contains(out, "register: cannot read stack nocreds's outputs: no AWS credentials: run aws configure") {
		t.Errorf("no credentials, got %v:\n%s", err, out)
	}
	out, err = run("EdgeDrop-Cluster", "AWS_DEFAULT_REGION=", "AWS_REGION=")
	if err == nil || !strings.Contains(out, "register: no AWS region: export AWS_DEFAULT_REGION=<the stacks' region, e.g. eu-west-1> (aws-cli v1 and v2 both read it)") {
		t.Errorf("no region, got %v:\n%s", err, out)
	}

	// Other failures to read the stack are not a missing stack: the
	// message says what AWS said and where to look, not to deploy.
	out, err = run("expired")
	if err == nil || strings.Contains(out, "make deploy") ||
		!strings.Contains(out, "register: cannot read stack expired's outputs: An error occurred (ExpiredToken)") ||
		!strings.Contains(out, "AWS credentials") {
		t.Errorf("an expired token must be reported as such, got %v:\n%s", err, out)
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

// Names are checked before anything else runs, with the contract's rule and
// words, one line each; the script's copy of the rule is the contract's.
func TestRegisterChecksBoardAndGroupNames(t *testing.T) {
	scriptDefines(t, "scripts/register.sh",
		"name_re='"+contract.NamePattern+"'",
		`name_rule="`+contract.NameRule+`"`,
		"max_groups="+strconv.Itoa(contract.MaxGroups))

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	// A PATH with the script's tools but no aws: a bad name fails before
	// the CLI is needed.
	bin := t.TempDir()
	for _, tool := range []string{"grep", "sort", "uniq", "head"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ board, groups, want string }{
		{"", "", "register: name the board: make register BOARD=<name> [GROUP=<group>[,<group>...]]"},
		{"shop 1", "", "register: " + contract.CheckName("board", "shop 1").Error()},
		{"shop-1'; rm -rf /", "", "register: " + contract.CheckName("board", "shop-1'; rm -rf /").Error()},
		{"-shop", "", "register: " + contract.CheckName("board", "-shop").Error()},
		{strings.Repeat("a", 64), "", "register: " + contract.CheckName("board", strings.Repeat("a", 64)).Error()},
		{"shop-1", "site1,eu.west", "register: " + contract.CheckName("group", "eu.west").Error()},
		{"shop-1", "site1,,eu", "register: " + contract.CheckName("group", "").Error()},
		{"shop-1", "site1,", "register: " + contract.CheckName("group", "").Error()},
		{"shop-1", "a,b,c,d,e,f,g,h,i,j", "register: 10 groups: a board can be in at most 9"},
		{"shop-1", "site1,eu,site1", "register: GROUP=site1,eu,site1 names a group twice"},
	} {
		cmd := exec.Command(bash, "scripts/register.sh")
		cmd.Env = append(os.Environ(), "PATH="+bin, "BOARD="+tc.board, "GROUP="+tc.groups)
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("BOARD=%q GROUP=%q: %v %q, want one line starting %q", tc.board, tc.groups, err, out, tc.want)
		}
	}
	// Nine groups are allowed.
	cmd := exec.Command(bash, "scripts/register.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin, "BOARD=shop-1", "GROUP=a,b,c,d,e,f,g,h,i")
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "the AWS CLI is needed") {
		t.Errorf("nine groups must pass the name checks: %s", out)
	}
}
