package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

func TestFailedDeliveriesAlarmTheTopicInThePipelineStack(t *testing.T) {
	// GIVEN the default configuration WHEN synthesized
	app := synthCached(t, "default", nil)
	tpl := assertions.Template_FromStack(app.Pipeline.Stack, nil)
	stack := app.Pipeline.Stack
	logical := func(e awscdk.IResource) string {
		return *stack.GetLogicalId(e.Node().DefaultChild().(awscdk.CfnElement))
	}
	sm, dlq, topic := logical(app.Pipeline.Pipeline.StateMachine), logical(app.Pipeline.Pipeline.DeadLetterQueue), logical(app.Pipeline.Alarms.Topic)

	// THEN the pipeline's own state machine and dead-letter queue are
	// watched, and each alarm notifies the stack's topic
	for name, dimension := range map[string]map[string]any{
		alarms.DeliveryFailed:    {"Name": "StateMachineArn", "Value": map[string]any{"Ref": sm}},
		alarms.DeliveryTimedOut:  {"Name": "StateMachineArn", "Value": map[string]any{"Ref": sm}},
		alarms.DeliveryAborted:   {"Name": "StateMachineArn", "Value": map[string]any{"Ref": sm}},
		alarms.EventsUndelivered: {"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{dlq, "QueueName"}}},
	} {
		cdktest.Check(t, name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), assertions.Match_ObjectLike(&map[string]any{
				"AlarmName":    "EdgeDrop-Pipeline-" + name,
				"Dimensions":   []any{dimension},
				"AlarmActions": []any{map[string]any{"Ref": topic}},
			}))
		})
	}
	// AND the topic's ARN is an output; without alarmEmail nobody is subscribed
	cdktest.Check(t, "output", func() {
		tpl.HasOutput(jsii.String("AlarmTopicArn"), assertions.Match_ObjectLike(&map[string]any{"Value": map[string]any{"Ref": topic}}))
	})
	tpl.ResourceCountIs(strPtr("AWS::SNS::Subscription"), num(0))
}

func TestAlarmEmailSubscribesToTheTopic(t *testing.T) {
	tpl := customizedPipeline(t)
	tpl.ResourceCountIs(strPtr("AWS::SNS::Subscription"), num(1))
	cdktest.Check(t, "subscription", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), assertions.Match_ObjectLike(&map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com",
		}))
	})
	// The topic's key follows removalPolicy like the bucket and log groups.
	cdktest.Check(t, "key removal", func() {
		tpl.HasResource(jsii.String("AWS::KMS::Key"), assertions.Match_ObjectLike(&map[string]any{"DeletionPolicy": "Delete"}))
	})
}
