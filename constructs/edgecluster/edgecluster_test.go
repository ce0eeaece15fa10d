package edgecluster_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/edgecluster"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var like = assertions.Match_ObjectLike

func TestClusterWithoutVPCAndTheBoardsRole(t *testing.T) {
	// GIVEN a bare stack WHEN the cluster is created
	stack := cdktest.Stack(t)
	e := edgecluster.New(stack, "Edge", edgecluster.Props{ClusterName: "boards"})
	tpl := cdktest.Template(t, stack)

	// THEN one ECS cluster with Container Insights and nothing of a VPC
	tpl.ResourceCountIs(jsii.String("AWS::ECS::Cluster"), jsii.Number(1))
	cdktest.Check(t, "cluster", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::Cluster"), like(&map[string]any{
			"ClusterName":     "boards",
			"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}},
		}))
	})
	for _, vpcThing := range []string{"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway", "AWS::EC2::SecurityGroup"} {
		tpl.ResourceCountIs(jsii.String(vpcThing), jsii.Number(0))
	}
	// AND the one role, for SSM to give an activated board (what it may
	// do is the board policy's business, tested with the stacks)
	tpl.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(1))
	cdktest.Check(t, "instance role", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), like(&map[string]any{
			"AssumeRolePolicyDocument": like(&map[string]any{"Statement": []any{like(&map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "ssm.amazonaws.com"},
			})}}),
		}))
	})
	cdktest.NagClean(t, stack)

	// AND the registration commands name this role, this cluster and the
	// stack's region, and register one board per activation
	for what, tc := range map[string]struct {
		cmd  *string
		want []string
	}{
		"activation": {e.ActivationCommand, []string{"aws ssm create-activation", "--region ${AWS::Region}", "--iam-role ${Role}", "--registration-limit 1"}},
		"install": {e.InstallCommand, []string{edgecluster.InstallScriptURL, "--region ${AWS::Region}", "--cluster ${Cluster}",
			`--activation-id "$ACTIVATION_ID"`, `--activation-code "$ACTIVATION_CODE"`}},
	} {
		sub := stack.Resolve(tc.cmd).(map[string]any)["Fn::Sub"].([]any)
		text := sub[0].(string)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s command %q lacks %q", what, text, w)
			}
		}
	}
}

func TestImportNamesAnExistingClusterInTheStacksAccountAndRegion(t *testing.T) {
	stack := cdktest.Stack(t)
	c := edgecluster.Import(stack, "Existing", "boards")
	if got := stack.Resolve(c.ClusterName()); got != "boards" {
		t.Errorf("name %v", got)
	}
	if got := stack.Resolve(c.ClusterArn()); got != "arn:aws:ecs:eu-west-1:123456789012:cluster/boards" {
		t.Errorf("arn %v", got)
	}
	// An imported cluster adds nothing to the template.
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if *awscdk.CfnResource_IsCfnResource(c) {
			t.Errorf("import created %s", *c.Node().Path())
		}
	}
}
