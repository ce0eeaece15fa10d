package pipeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/constructs/edgecluster"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var (
	like   = assertions.Match_ObjectLike
	with   = assertions.Match_ArrayWith
	absent = assertions.Match_Absent
)

// build makes the pipeline for a bucket and a cluster the stack does not
// own, with a real task definition (itself cdk-nag clean).
func build(t *testing.T, filter pipeline.KeyFilter) (awscdk.Stack, *pipeline.Pipeline) {
	t.Helper()
	stack := cdktest.Stack(t)
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Landing"), jsii.String("landing"))
	task := downloadtask.New(stack, "Task", downloadtask.Props{
		Bucket: bucket, Image: awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/example/edge-drop:1"), nil),
		DataDir: "/data", CPU: 256, MemoryMiB: 128, User: "65532:65532", Timeout: 30 * time.Minute,
		LogRetention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	p := pipeline.New(stack, "Pipeline", pipeline.Props{
		Flow: pipeline.Flow{
			Bucket:        bucket,
			Cluster:       edgecluster.Import(stack, "Cluster", "boards"),
			Task:          task,
			KeyPattern:    "demo*.txt",
			TaskTimeout:   30 * time.Minute,
			LogRetention:  awslogs.RetentionDays_ONE_MONTH,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		},
		KeyFilter: filter,
	})
	return stack, p
}

func logicalID(stack awscdk.Stack, r awscdk.IResource) string {
	return *stack.GetLogicalId(r.Node().DefaultChild().(awscdk.CfnElement))
}

func TestRuleStartsTheStateMachineWithRetriesAndADeadLetterQueue(t *testing.T) {
	// GIVEN a bare stack WHEN the pipeline is built
	stack, p := build(t, pipeline.KeyFilter{})
	tpl := cdktest.Template(t, stack)
	sm, dlq, role := logicalID(stack, p.StateMachine), logicalID(stack, p.DeadLetterQueue), logicalID(stack, p.TargetRole)

	// THEN one rule: Object Created in this bucket, any key, to the state
	// machine through its own role, retried for a day, then the DLQ
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
	cdktest.Check(t, "rule", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), like(&map[string]any{
			"State": "ENABLED",
			"EventPattern": map[string]any{
				"source": []any{"aws.s3"}, "detail-type": []any{"Object Created"},
				"detail": map[string]any{"bucket": map[string]any{"name": []any{"landing"}}, "object": absent()},
			},
			"Targets": []any{like(&map[string]any{
				"Arn":              map[string]any{"Ref": sm},
				"RoleArn":          map[string]any{"Fn::GetAtt": []any{role, "Arn"}},
				"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
				"DeadLetterConfig": map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}},
			})},
		}))
	})
	// AND the target role is for EventBridge and may start this state
	// machine only
	cdktest.Check(t, "target role", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), like(&map[string]any{
			"AssumeRolePolicyDocument": like(&map[string]any{"Statement": []any{like(&map[string]any{
				"Principal": map[string]any{"Service": "events.amazonaws.com"}})}}),
		}))
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), like(&map[string]any{
			"Roles": []any{map[string]any{"Ref": role}},
			"PolicyDocument": like(&map[string]any{"Statement": []any{map[string]any{
				"Action": "states:StartExecution", "Effect": "Allow", "Resource": map[string]any{"Ref": sm}}}}),
		}))
	})
	// AND the DLQ is encrypted, keeps events 14 days and refuses plain HTTP
	cdktest.Check(t, "dead-letter queue", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), like(&map[string]any{
			"SqsManagedSseEnabled": true, "MessageRetentionPeriod": 14 * 24 * 3600,
		}))
		tpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), like(&map[string]any{
			"Queues": []any{map[string]any{"Ref": dlq}},
			"PolicyDocument": like(&map[string]any{"Statement": with(&[]any{like(&map[string]any{
				"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}})})}),
		}))
	})
	cdktest.NagClean(t, stack)
}

func TestStateMachineIsStandardTracedAndLogsEverything(t *testing.T) {
	stack, p := build(t, pipeline.KeyFilter{})
	tpl := cdktest.Template(t, stack)
	cdktest.Check(t, "state machine", func() {
		tpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), like(&map[string]any{
			"StateMachineType":     "STANDARD", // ecs:runTask.sync needs it
			"TracingConfiguration": map[string]any{"Enabled": true},
			"LoggingConfiguration": map[string]any{
				"Level": "ALL", "IncludeExecutionData": true,
				"Destinations": []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{
					"LogGroupArn": map[string]any{"Fn::GetAtt": []any{logicalID(stack, p.LogGroup), "Arn"}}}}},
			},
		}))
	})
	cdktest.Check(t, "execution log group", func() {
		tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), like(&map[string]any{
			"DeletionPolicy": "Retain", "Properties": like(&map[string]any{"RetentionInDays": 30})}))
	})
}

func TestKeyFilterGoesIntoTheRulesPattern(t *testing.T) {
	for name, tc := range map[string]struct {
		filter pipeline.KeyFilter
		want   map[string]any
	}{
		"prefix":   {pipeline.KeyFilter{Prefix: "in/"}, map[string]any{"prefix": "in/"}},
		"suffix":   {pipeline.KeyFilter{Suffix: ".txt"}, map[string]any{"suffix": ".txt"}},
		"wildcard": {pipeline.KeyFilter{Wildcard: "in/*.txt"}, map[string]any{"wildcard": "in/*.txt"}},
	} {
		// EventPattern is what the construct gives the rule; one synth
		// (prefix) shows it arrives in the template.
		pattern := pipeline.EventPattern(jsii.String("landing"), tc.filter, false)
		key := (*pattern.Detail)["object"].(map[string]any)["key"].([]any)
		if len(key) != 1 || len(key[0].(map[string]any)) != 1 || key[0].(map[string]any)[name] != tc.want[name] {
			t.Errorf("%s: key filter %v, want [%v]", name, key, tc.want)
		}
	}
	stack, _ := build(t, pipeline.KeyFilter{Prefix: "in/"})
	tpl := cdktest.Template(t, stack)
	cdktest.Check(t, "prefix in the template", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), like(&map[string]any{
			"EventPattern": like(&map[string]any{"detail": map[string]any{
				"bucket": map[string]any{"name": []any{"landing"}},
				"object": map[string]any{"key": []any{map[string]any{"prefix": "in/"}}},
			}}),
		}))
	})
}

// renderJoin flattens the definition's Fn::Join, each Ref as ${id}, each
// Fn::GetAtt as ${id.attr}, other tokens as ${?}.
func renderJoin(t *testing.T, v any) string {
	t.Helper()
	join, ok := v.(map[string]any)["Fn::Join"].([]any)
	if !ok {
		t.Fatalf("not an Fn::Join: %v", v)
	}
	var out string
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			out += p
		case map[string]any:
			if ref, ok := p["Ref"].(string); ok {
				out += "${" + ref + "}"
			} else if att, ok := p["Fn::GetAtt"].([]any); ok {
				out += "${" + att[0].(string) + "." + att[1].(string) + "}"
			} else {
				out += "${?}"
			}
		}
	}
	return out
}

// With stack tags (cdk deploy --tags, an organisation's required tags) the
// task definition carries tags, RunTask propagates them to the task and
// ECS authorizes ecs:TagResource: the role may tag the tasks RunTask
// creates on this cluster, nothing else. RunTask names the revision the
// stack deployed, and the role may run exactly that ARN.
func TestStateMachineRunsTheDeployedRevisionAndTagsOnCreate(t *testing.T) {
	stack, _ := build(t, pipeline.KeyFilter{})
	awscdk.Tags_Of(stack).Add(jsii.String("team"), jsii.String("edge"), nil)
	tpl := cdktest.Template(t, stack)
	var tdID string
	for id := range *tpl.FindResources(jsii.String("AWS::ECS::TaskDefinition"), nil) {
		tdID = id
	}
	cdktest.Check(t, "tagged task definition", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), like(&map[string]any{
			"Tags": with(&[]any{map[string]any{"Key": "team", "Value": "edge"}}),
		}))
	})

	_, props := only(t, tpl, "AWS::StepFunctions::StateMachine")
	def := renderJoin(t, props["DefinitionString"])
	for _, want := range []string{`"TaskDefinition":"${` + tdID + `}"`, `"PropagateTags":"TASK_DEFINITION"`} {
		if !strings.Contains(def, want) {
			t.Errorf("RunTask lacks %s:\n%s", want, def)
		}
	}
	if strings.Contains(def, `"TaskDefinition":"EdgeDrop`) || strings.Contains(def, `"TaskDefinition":"Test`) {
		t.Errorf("RunTask names a family:\n%s", def)
	}

	tasks := "arn:aws:ecs:eu-west-1:123456789012:task/boards/*"
	cdktest.Check(t, "role", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), like(&map[string]any{
			"Policies": []any{like(&map[string]any{"PolicyDocument": like(&map[string]any{"Statement": with(&[]any{
				map[string]any{
					"Sid": "RunTheDownloadTaskOnTheCluster", "Effect": "Allow", "Action": "ecs:RunTask",
					"Resource":  map[string]any{"Ref": tdID},
					"Condition": map[string]any{"ArnEquals": map[string]any{"ecs:cluster": assertions.Match_AnyValue()}},
				},
				map[string]any{
					"Sid": "TagTheTasksItStarts", "Effect": "Allow", "Action": "ecs:TagResource", "Resource": tasks,
					"Condition": map[string]any{"StringEquals": map[string]any{"ecs:CreateAction": "RunTask"}},
				},
			})})})},
		}))
	})
	cdktest.NagClean(t, stack)
}

func only(t *testing.T, tpl assertions.Template, typ string) (string, map[string]any) {
	t.Helper()
	rs := *tpl.FindResources(jsii.String(typ), nil)
	if len(rs) != 1 {
		t.Fatalf("want one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, (*r)["Properties"].(map[string]any)
	}
	return "", nil
}
