package trust_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m.Run) }

// Each service's aws:SourceArn pattern is the one its confused-deputy
// documentation gives: the service, this region and account, and the
// resource type it acts for (never another service's or account's).
func TestSourceArnIsTheServicesResourcesInThisAccountAndRegion(t *testing.T) {
	stack := cdktest.Stack(t) // account 123456789012, eu-west-1
	for _, tc := range []struct {
		service   trust.Service
		principal string
		tail      string // after arn:aws
	}{
		{trust.SSM, "ssm.amazonaws.com", ":ssm:eu-west-1:123456789012:*"},
		{trust.ECSTasks, "ecs-tasks.amazonaws.com", ":ecs:eu-west-1:123456789012:*"},
		{trust.StepFunctions, "states.amazonaws.com", ":states:eu-west-1:123456789012:stateMachine:*"},
		{trust.EventBridge, "events.amazonaws.com", ":events:eu-west-1:123456789012:rule/*"},
	} {
		if tc.service.Principal != tc.principal {
			t.Errorf("%s: principal %q", tc.principal, tc.service.Principal)
		}
		got, _ := json.Marshal(stack.Resolve(tc.service.SourceArn(stack)))
		if want := `"arn:aws` + tc.tail + `"`; string(got) != want { // a known region's partition is resolved at synth
			t.Errorf("%s: aws:SourceArn %s, want %s", tc.principal, got, want)
		}
	}
}

// A role that trusts a service through PrincipalIn can be assumed by that
// service only, for this account (aws:SourceAccount) and the service's
// resources here (aws:SourceArn): both conditions, on the one statement.
func TestPrincipalInCarriesBothConfusedDeputyConditions(t *testing.T) {
	for _, s := range []trust.Service{trust.SSM, trust.ECSTasks, trust.StepFunctions, trust.EventBridge} {
		t.Run(s.Principal, func(t *testing.T) {
			stack := cdktest.Stack(t)
			awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: s.PrincipalIn(stack)})
			tpl := cdktest.Template(t, stack)
			roles := tpl.FindResources(jsii.String("AWS::IAM::Role"), nil)
			if len(*roles) != 1 {
				t.Fatalf("%d roles", len(*roles))
			}
			cdktest.Check(t, "trust policy", func() {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
					"AssumeRolePolicyDocument": map[string]any{
						"Statement": []any{map[string]any{
							"Action":    "sts:AssumeRole",
							"Effect":    "Allow",
							"Principal": map[string]any{"Service": s.Principal},
							"Condition": map[string]any{
								"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
								"ArnLike":      map[string]any{"aws:SourceArn": stack.Resolve(s.SourceArn(stack))},
							},
						}},
					},
				})
			})
			cdktest.NagClean(t, stack)
		})
	}
}

// In a stack without a fixed environment the conditions follow the
// deploying account and region (CloudFormation's pseudo parameters), never
// a value baked in at synth.
func TestConditionsFollowTheDeployingAccount(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Anywhere"), nil)
	awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: trust.StepFunctions.PrincipalIn(stack)})
	tpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "trust policy", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{
				"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
					"Condition": map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
						"ArnLike": map[string]any{"aws:SourceArn": map[string]any{"Fn::Join": []any{"", []any{
							"arn:", map[string]any{"Ref": "AWS::Partition"}, ":states:", map[string]any{"Ref": "AWS::Region"},
							":", map[string]any{"Ref": "AWS::AccountId"}, ":stateMachine:*"}}}},
					},
				})},
			},
		})
	})
}
