package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func strPtr(s string) *string { return jsii.String(s) }
func num(n float64) *float64  { return jsii.Number(n) }

func TestClusterStackRegistersBoards(t *testing.T) {
	// GIVEN the default configuration WHEN synthesized
	app := synthCached(t, "default", nil)
	tpl := assertions.Template_FromStack(app.Cluster.Stack, nil)

	// THEN there is one ECS cluster with Container Insights and no VPC
	_, cluster := only(t, tpl, "AWS::ECS::Cluster")
	equalJSON(t, "name", cluster["ClusterName"], "edge-drop")
	equalJSON(t, "settings", cluster["ClusterSettings"], []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}})
	tpl.ResourceCountIs(strPtr("AWS::EC2::VPC"), num(0))

	// AND the SSM instance role the boards get on activation, with the
	// scoped board policy and no AWS managed policy
	roleID, role := only(t, tpl, "AWS::IAM::Role")
	equalJSON(t, "trust principal", get(t, role, "AssumeRolePolicyDocument", "Statement", 0, "Principal"), map[string]any{"Service": "ssm.amazonaws.com"})
	if _, ok := role["ManagedPolicyArns"]; ok {
		t.Errorf("boardPolicy=scoped attaches no managed policy, got %v", role["ManagedPolicyArns"])
	}
	if sts := statements(t, tpl)["${"+roleID+"}"]; len(sts) != 3 {
		t.Errorf("want the three scoped statements, got %s", mustJSON(t, sts))
	}
	// AND outputs with the exact registration commands
	outputs := *tpl.ToJSON()
	outs := outputs["Outputs"].(map[string]any)
	for _, name := range []string{"ClusterName", "InstanceRoleName", "ActivationCommand", "InstallCommand"} {
		if _, ok := outs[name]; !ok {
			t.Errorf("missing output %s", name)
		}
	}
	act := mustJSON(t, get(t, outs, "ActivationCommand", "Value"))
	for _, want := range []string{"aws ssm create-activation", "--iam-role ${Role}", "--registration-limit 1", "--region ${AWS::Region}"} {
		if !strings.Contains(act, want) {
			t.Errorf("activation command %s lacks %q", act, want)
		}
	}
	install := mustJSON(t, get(t, outs, "InstallCommand", "Value"))
	// (install is JSON: its quotes are escaped)
	if verify, run := strings.Index(install, "gpg --batch --status-fd 1 --verify"), strings.Index(install, `sudo bash \"$EDGE_DROP_INSTALL_DIR/ecs-anywhere-install.sh\"`); verify < 0 || run < verify {
		t.Errorf("the installer must run only after its signature is verified: %s", install)
	}
	for _, want := range []string{"ecs-anywhere-install-latest.sh", "--cluster ${Cluster}", "--activation-id", "--activation-code", "--region ${AWS::Region}",
		// the installer runs only after its signature checks out
		"ecs-anywhere-install-latest.sh.asc", "gpg --batch --status-fd 1 --verify", "VALIDSIG .* F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F$'",
	} {
		if !strings.Contains(install, want) {
			t.Errorf("install command %s lacks %q", install, want)
		}
	}
}

func TestResourceCounts(t *testing.T) {
	app := synthCached(t, "default", nil)
	for _, stack := range app.Stacks() {
		n := len((*assertions.Template_FromStack(stack, nil).ToJSON())["Resources"].(map[string]any))
		t.Logf("%s: %d resources", *stack.StackName(), n)
		if n == 0 || n > 40 {
			t.Errorf("%s: %d resources", *stack.StackName(), n)
		}
	}
}
