package alarms_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var (
	like   = assertions.Match_ObjectLike
	with   = assertions.Match_ArrayWith
	absent = assertions.Match_Absent
)

// Imported state machine and queue: the stack then holds only what the
// construct makes, and cdk-nag checks only that.
const (
	machineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:deliver"
	queueArn   = "arn:aws:sqs:eu-west-1:123456789012:dead-letters"
	syncArn    = "arn:aws:states:eu-west-1:123456789012:stateMachine:sync"
)

func watched(t *testing.T, email string) (awscdk.Stack, *alarms.Alarms, map[string]string) {
	t.Helper()
	return watchedWith(t, email, false)
}

// watchedWith also watches an imported sync state machine when sync is set.
func watchedWith(t *testing.T, email string, sync bool) (awscdk.Stack, *alarms.Alarms, map[string]string) {
	t.Helper()
	stack := cdktest.Stack(t)
	props := alarms.Props{Email: email}
	props.StateMachine = awsstepfunctions.StateMachine_FromStateMachineArn(stack, jsii.String("Machine"), jsii.String(machineArn))
	props.DeadLetterQueue = awssqs.Queue_FromQueueArn(stack, jsii.String("DLQ"), jsii.String(queueArn))
	if sync {
		props.Sync = awsstepfunctions.StateMachine_FromStateMachineArn(stack, jsii.String("Sync"), jsii.String(syncArn))
	}
	a := alarms.New(stack, "Alarms", props)
	ids := map[string]string{
		"topic": *stack.GetLogicalId(a.Topic.Node().DefaultChild().(awscdk.CfnElement)),
		"key":   *stack.GetLogicalId(a.Key.Node().DefaultChild().(awscdk.CfnElement)),
	}
	return stack, a, ids
}

func TestOneAlarmPerFailureKindNotifiesTheTopic(t *testing.T) {
	// GIVEN a state machine and a dead-letter queue WHEN alarmed
	stack, a, ids := watched(t, "")
	tpl := cdktest.Template(t, stack)

	// THEN four alarms, each firing on the first failure of its kind,
	// treating no data as healthy and notifying the topic
	tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(4))
	for _, tc := range []struct {
		name, metric, namespace, statistic, dimension, value string
	}{
		{alarms.DeliveryFailed, "ExecutionsFailed", "AWS/States", "Sum", "StateMachineArn", machineArn},
		{alarms.DeliveryTimedOut, "ExecutionsTimedOut", "AWS/States", "Sum", "StateMachineArn", machineArn},
		{alarms.DeliveryAborted, "ExecutionsAborted", "AWS/States", "Sum", "StateMachineArn", machineArn},
		{alarms.EventsUndelivered, "ApproximateNumberOfMessagesVisible", "AWS/SQS", "Maximum", "QueueName", "dead-letters"},
	} {
		cdktest.Check(t, tc.name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
				"AlarmName":          "Test-" + tc.name,
				"AlarmDescription":   assertions.Match_StringLikeRegexp(jsii.String(`^.{120,1024}$`)),
				"MetricName":         tc.metric,
				"Namespace":          tc.namespace,
				"Statistic":          tc.statistic,
				"Dimensions":         []any{map[string]any{"Name": tc.dimension, "Value": tc.value}},
				"Period":             300,
				"EvaluationPeriods":  1,
				"DatapointsToAlarm":  1,
				"Threshold":          1,
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"TreatMissingData":   "notBreaching",
				"AlarmActions":       []any{map[string]any{"Ref": ids["topic"]}},
				"OKActions":          absent(), // recovery is no news: no second mail per burst
				"ActionsEnabled":     absent(), // CloudFormation default: enabled
			})
		})
		if a.ByName[tc.name] == nil {
			t.Errorf("ByName lacks %s", tc.name)
		}
	}
}

func TestTopicIsEncryptedWithAKeyCloudWatchMayUseAndTLSOnly(t *testing.T) {
	stack, _, ids := watched(t, "")
	tpl := cdktest.Template(t, stack)

	// The topic is encrypted with the construct's customer managed key.
	cdktest.Check(t, "topic", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), like(&map[string]any{
			"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{ids["key"], "Arn"}},
		}))
	})
	// The key rotates, is retained by default and lets CloudWatch encrypt.
	cdktest.Check(t, "key", func() {
		tpl.HasResource(jsii.String("AWS::KMS::Key"), like(&map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": like(&map[string]any{
				"EnableKeyRotation": true,
				"KeyPolicy": like(&map[string]any{"Statement": with(&[]any{map[string]any{
					"Sid":       "CloudWatchAlarmsEncryptForTheTopic",
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
					"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
					"Resource":  "*",
				}})}),
			}),
		}))
	})
	// The topic policy refuses plain HTTP and lets exactly these four
	// alarms of this account publish.
	alarmArn := func(name string) string { return "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Test-" + name }
	cdktest.Check(t, "topic policy", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
			"Topics": []any{map[string]any{"Ref": ids["topic"]}},
			"PolicyDocument": like(&map[string]any{"Statement": []any{
				like(&map[string]any{
					"Effect": "Deny", "Action": "sns:Publish", "Principal": "*",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
				map[string]any{
					"Sid": "OnlyTheseAlarmsPublish", "Effect": "Allow", "Action": "sns:Publish",
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
					"Resource":  map[string]any{"Ref": ids["topic"]},
					"Condition": map[string]any{
						"ArnLike": map[string]any{"aws:SourceArn": []any{
							alarmArn(alarms.DeliveryFailed), alarmArn(alarms.DeliveryTimedOut),
							alarmArn(alarms.DeliveryAborted), alarmArn(alarms.EventsUndelivered)}},
						"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
					},
				},
			}}),
		})
	})
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	cdktest.NagClean(t, stack)
}

func TestEmailSubscribesOnlyWhenSet(t *testing.T) {
	stack, _, ids := watched(t, "ops@example.com")
	tpl := cdktest.Template(t, stack)
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(1))
	cdktest.Check(t, "subscription", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com",
			"TopicArn":     map[string]any{"Ref": ids["topic"]},
			"FilterPolicy": absent(),
		})
	})
	cdktest.NagClean(t, stack)
}

// Every alarm that notifies the topic may publish to it: the topic
// policy's list is the alarms the construct made (the sync's included),
// not a list kept beside them.
func TestEveryAlarmThatNotifiesTheTopicMayPublish(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sync   bool
		alarms []string
	}{
		{"no sync", false, []string{alarms.DeliveryFailed, alarms.DeliveryTimedOut, alarms.DeliveryAborted, alarms.EventsUndelivered}},
		{"sync", true, []string{alarms.DeliveryFailed, alarms.DeliveryTimedOut, alarms.DeliveryAborted, alarms.SyncFailed, alarms.SyncTimedOut, alarms.EventsUndelivered}},
	} {
		stack, _, ids := watchedWith(t, "", tc.sync)
		tpl := cdktest.Template(t, stack)
		tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(len(tc.alarms)))
		// Each alarm of the template notifies the topic...
		var notifying []any
		for _, r := range *tpl.FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil) {
			props := (*r)["Properties"].(map[string]any)
			if actions, _ := props["AlarmActions"].([]any); len(actions) == 1 {
				if ref, _ := actions[0].(map[string]any)["Ref"]; ref == ids["topic"] {
					notifying = append(notifying, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"+props["AlarmName"].(string))
				}
			}
		}
		var want []any
		for _, n := range tc.alarms {
			want = append(want, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Test-"+n)
		}
		if len(notifying) != len(want) {
			t.Fatalf("%s: %d alarms notify the topic, want %d", tc.name, len(notifying), len(want))
		}
		// ...and the policy names exactly those, in the order they were made.
		cdktest.Check(t, tc.name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), like(&map[string]any{
				"PolicyDocument": like(&map[string]any{"Statement": with(&[]any{like(&map[string]any{
					"Sid":       "OnlyTheseAlarmsPublish",
					"Condition": like(&map[string]any{"ArnLike": map[string]any{"aws:SourceArn": want}}),
				})})}),
			}))
		})
		for _, arn := range notifying {
			if !slices.Contains(want, arn) {
				t.Errorf("%s: alarm %s notifies the topic but may not publish", tc.name, arn)
			}
		}
		cdktest.NagClean(t, stack)
	}
}
