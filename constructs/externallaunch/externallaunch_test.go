package externallaunch_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

func TestBindAddsLaunchTypeExternalAndNothingElse(t *testing.T) {
	cfg := externallaunch.New().Bind(nil, nil)
	if cfg == nil || cfg.Parameters == nil {
		t.Fatal("no parameters")
	}
	params := *cfg.Parameters
	if len(params) != 1 || params["LaunchType"] != "EXTERNAL" {
		t.Errorf("parameters %v, want only LaunchType EXTERNAL (no network configuration on a board)", params)
	}
}

// Both launch targets name the task definition by its ARN (Ref: the
// revision the stack deployed), not by the family CDK's EcsRunTask passes.
func TestBindPinsTheTaskDefinitionRevision(t *testing.T) {
	stack := cdktest.Stack(t)
	td := awsecs.NewExternalTaskDefinition(stack, jsii.String("Def"), nil)
	id := *stack.GetLogicalId(td.Node().DefaultChild().(awscdk.CfnElement))
	for name, target := range map[string]awsstepfunctionstasks.IEcsLaunchTarget{
		"external": externallaunch.New(), "pinned": externallaunch.NewPinned("$.instance"),
	} {
		cfg := target.Bind(nil, &awsstepfunctionstasks.LaunchTargetBindOptions{TaskDefinition: td})
		got, _ := json.Marshal(stack.Resolve((*cfg.Parameters)["TaskDefinition"]))
		if want := `{"Ref":"` + id + `"}`; string(got) != want {
			t.Errorf("%s: TaskDefinition %s, want %s", name, got, want)
		}
		if (*cfg.Parameters)["LaunchType"] != externallaunch.LaunchType {
			t.Errorf("%s: launch type %v", name, (*cfg.Parameters)["LaunchType"])
		}
	}
}
