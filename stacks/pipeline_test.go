package stacks

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

// Each configuration is synthesized once (a synth costs seconds) and shared.
var (
	synthMu    sync.Mutex
	synthCache = map[string]*App{}
)

func synthCached(t *testing.T, name string, overrides map[string]any) *App {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if a, ok := synthCache[name]; ok {
		return a
	}
	a, _ := synth(t, overrides)
	synthCache[name] = a
	return a
}

func defaultPipeline(t *testing.T) assertions.Template {
	return assertions.Template_FromStack(synthCached(t, "default", nil).Pipeline.Stack, nil)
}

// customized changes every setting that shapes the pipeline.
var customized = map[string]any{
	config.KeyKeyPattern:       "report*.csv",
	config.KeyDataDir:          "/srv/drop",
	config.KeyRuleKeyPrefix:    "reports/",
	config.KeyRemovalPolicy:    "destroy",
	config.KeyLogRetentionDays: "7",
	config.KeyTaskTimeout:      "10m",
	config.KeyTaskMemoryMiB:    "200",
	config.KeyTaskCPU:          "512",
	config.KeyTaskUser:         "1000:1000",
	config.KeyTaskImage:        "public.ecr.aws/example/edge-drop:1.2.3",
	config.KeyBucketName:       "edge-drop-test-bucket",
	config.KeyAlarmEmail:       "ops@example.com",
}

func customizedPipeline(t *testing.T) assertions.Template {
	return assertions.Template_FromStack(synthCached(t, "customized", customized).Pipeline.Stack, nil)
}

// The bucket's own properties are dropbucket's tests; here: the stack
// creates it by default, retained, sending events natively.
func TestDefaultStackCreatesTheDropBucketSendingEventsNatively(t *testing.T) {
	// GIVEN the default configuration WHEN synthesized
	tpl := defaultPipeline(t)
	// THEN the drop bucket (the one with access logging) is retained and
	// sends events to EventBridge without a custom resource or a Lambda
	cdktest.Check(t, "drop bucket", func() {
		tpl.HasResource(strPtr("AWS::S3::Bucket"), assertions.Match_ObjectLike(&map[string]any{
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"LoggingConfiguration":      assertions.Match_AnyValue(),
				"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
			}),
		}))
	})
	tpl.ResourceCountIs(strPtr("Custom::S3BucketNotifications"), num(0))
	tpl.ResourceCountIs(strPtr("AWS::Lambda::Function"), num(0))
}

func TestRuleMatchesObjectCreatedInTheBucketAndTargetsTheStateMachine(t *testing.T) {
	tpl := defaultPipeline(t)
	bucketID := dropBucketID(t, tpl)
	smID, _ := only(t, tpl, "AWS::StepFunctions::StateMachine")
	_, rule := only(t, tpl, "AWS::Events::Rule")

	pattern := rule["EventPattern"].(map[string]any)
	equalJSON(t, "source", pattern["source"], []string{"aws.s3"})
	equalJSON(t, "detail-type", pattern["detail-type"], []string{"Object Created"})
	names := get(t, pattern, "detail", "bucket", "name").([]any)
	if len(names) != 1 || render(t, names[0]) != "${"+bucketID+"}" {
		t.Errorf("pattern bucket %v, want Ref %s", names, bucketID)
	}
	if _, ok := pattern["detail"].(map[string]any)["object"]; ok {
		t.Error("no key filter is configured, so the pattern must not filter on the key")
	}
	equalJSON(t, "state", rule["State"], "ENABLED")

	targets := rule["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("want one target, got %d", len(targets))
	}
	target := targets[0].(map[string]any)
	if render(t, target["Arn"]) != "${"+smID+"}" {
		t.Errorf("target %v, want the state machine", target["Arn"])
	}
	equalJSON(t, "retry policy", target["RetryPolicy"], map[string]any{"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185})
	dlq := render(t, get(t, target, "DeadLetterConfig", "Arn"))
	roleArn := render(t, target["RoleArn"])
	if !strings.Contains(dlq, "DeadLetters") || !strings.HasSuffix(dlq, ".Arn}") {
		t.Errorf("dead-letter queue %s", dlq)
	}
	if !strings.Contains(roleArn, "TargetRole") {
		t.Errorf("target role %s", roleArn)
	}
	// The DLQ is encrypted and TLS-only.
	_, q := only(t, tpl, "AWS::SQS::Queue")
	equalJSON(t, "DLQ encryption", q["SqsManagedSseEnabled"], true)
	equalJSON(t, "DLQ retention", q["MessageRetentionPeriod"], 14*24*3600)
	// The target role may start executions of this state machine only.
	for owner, sts := range statements(t, tpl) {
		if !strings.Contains(owner, "TargetRole") {
			continue
		}
		equalJSON(t, "target role actions", sts[0]["Action"], "states:StartExecution")
		if render(t, sts[0]["Resource"]) != "${"+smID+"}" || len(sts) != 1 {
			t.Errorf("target role statements %s", mustJSON(t, sts))
		}
	}
}

func TestRuleKeyFilterGoesIntoThePattern(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		want       map[string]any
	}{
		{config.KeyRuleKeySuffix, ".txt", map[string]any{"suffix": ".txt"}},
		{config.KeyRuleKeyWildcard, "in/*.txt", map[string]any{"wildcard": "in/*.txt"}},
	} {
		p := pipeline.EventPattern(nil, pipeline.KeyFilter{
			Suffix:   map[bool]string{true: tc.value}[tc.key == config.KeyRuleKeySuffix],
			Wildcard: map[bool]string{true: tc.value}[tc.key == config.KeyRuleKeyWildcard],
		})
		equalJSON(t, tc.key, get(t, *p.Detail, "object", "key"), []any{tc.want})
	}
	tpl := customizedPipeline(t)
	_, rule := only(t, tpl, "AWS::Events::Rule")
	equalJSON(t, "prefix filter", get(t, rule, "EventPattern", "detail", "object", "key"), []any{map[string]any{"prefix": "reports/"}})
}

func TestStateMachineDefinition(t *testing.T) {
	tpl := defaultPipeline(t)
	_, sm := only(t, tpl, "AWS::StepFunctions::StateMachine")
	equalJSON(t, "type", sm["StateMachineType"], "STANDARD")
	equalJSON(t, "tracing", sm["TracingConfiguration"], map[string]any{"Enabled": true})
	equalJSON(t, "log level", get(t, sm, "LoggingConfiguration", "Level"), "ALL")
	equalJSON(t, "log data", get(t, sm, "LoggingConfiguration", "IncludeExecutionData"), true)

	def := asl(t, tpl)
	states := def["States"].(map[string]any)
	equalJSON(t, "StartAt", def["StartAt"], pipeline.StateExtract)
	equalJSON(t, "execution timeout", def["TimeoutSeconds"], 3600)
	var names []string
	for n := range states {
		names = append(names, n)
	}
	slices.Sort(names)
	equalJSON(t, "states", names, []string{pipeline.StateFailed, pipeline.StateDownload, pipeline.StateExtract, pipeline.StateMatches, pipeline.StateSkipped})

	equalJSON(t, "Extract", states[pipeline.StateExtract], map[string]any{
		"Type": "Pass", "Next": pipeline.StateMatches,
		"Comment": get(t, states, pipeline.StateExtract, "Comment"),
		"Parameters": map[string]any{
			"bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key",
			"size.$": "$.detail.object.size", "etag.$": "$.detail.object.etag",
		},
	})
	equalJSON(t, "Choice", get(t, states, pipeline.StateMatches, "Choices"), []any{map[string]any{
		"Variable": "$.key", "StringMatches": "demo*.txt", "Next": pipeline.StateDownload}})
	equalJSON(t, "Choice default", get(t, states, pipeline.StateMatches, "Default"), pipeline.StateSkipped)
	equalJSON(t, "Skipped", get(t, states, pipeline.StateSkipped, "Type"), "Succeed")

	task := states[pipeline.StateDownload].(map[string]any)
	equalJSON(t, "task type", task["Type"], "Task")
	equalJSON(t, "resource", task["Resource"], "arn:${AWS::Partition}:states:::ecs:runTask.sync")
	equalJSON(t, "end", task["End"], true)
	equalJSON(t, "task timeout", task["TimeoutSeconds"], 1800)
	equalJSON(t, "launch type", get(t, task, "Parameters", "LaunchType"), "EXTERNAL")
	cluster := get(t, task, "Parameters", "Cluster").(string)
	if !strings.Contains(cluster, "EdgeDrop-Cluster:") {
		t.Errorf("cluster %q must come from the cluster stack", cluster)
	}
	if td := get(t, task, "Parameters", "TaskDefinition").(string); !strings.Contains(td, "DownloadTaskTaskDefinition") {
		t.Errorf("task definition %q", td)
	}
	equalJSON(t, "overrides", get(t, task, "Parameters", "Overrides"), map[string]any{"ContainerOverrides": []any{map[string]any{
		"Name": contract.ContainerName,
		"Environment": []any{
			map[string]any{"Name": contract.EnvBucket, "Value.$": "$.bucket"},
			map[string]any{"Name": contract.EnvKey, "Value.$": "$.key"},
		},
	}}})
	equalJSON(t, "result selector", task["ResultSelector"], map[string]any{
		"exitCode.$": "$.Containers[0].ExitCode", "stopReason.$": "$.StoppedReason", "taskArn.$": "$.TaskArn"})
	equalJSON(t, "result path", task["ResultPath"], "$.task")
	equalJSON(t, "retry", task["Retry"], []any{
		map[string]any{"ErrorEquals": pipeline.RetriedErrors,
			"IntervalSeconds": 5, "MaxAttempts": 5, "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
		map[string]any{"ErrorEquals": []string{"AmazonECS.Unknown"},
			"IntervalSeconds": 15, "MaxAttempts": 10, "BackoffRate": 2, "MaxDelaySeconds": 300, "JitterStrategy": "FULL"},
	})
	for _, e := range pipeline.RetriedErrors {
		if !strings.HasPrefix(e, "ECS.") {
			t.Errorf("only ECS API errors may be retried, got %s", e)
		}
	}
	equalJSON(t, "catch", task["Catch"], []any{map[string]any{
		"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": pipeline.StateFailed}})

	fail := states[pipeline.StateFailed].(map[string]any)
	equalJSON(t, "fail type", fail["Type"], "Fail")
	equalJSON(t, "fail error", fail["Error"], contract.ErrDeliveryFailed)
	equalJSON(t, "fail cause", fail["CausePath"], "States.Format('s3://{}/{} was not delivered: {}: {}', $.bucket, $.key, $.error.Error, $.error.Cause)")
}

func TestConfigChangesReachTheTemplate(t *testing.T) {
	tpl := customizedPipeline(t)
	def := asl(t, tpl)
	equalJSON(t, "pattern", get(t, def, "States", pipeline.StateMatches, "Choices", 0, "StringMatches"), "report*.csv")
	equalJSON(t, "task timeout", get(t, def, "States", pipeline.StateDownload, "TimeoutSeconds"), 600)

	_, td := only(t, tpl, "AWS::ECS::TaskDefinition")
	equalJSON(t, "volume", td["Volumes"], []any{map[string]any{"Name": "data", "Host": map[string]any{"SourcePath": "/srv/drop"}}})
	c := get(t, td, "ContainerDefinitions", 0).(map[string]any)
	equalJSON(t, "mount", c["MountPoints"], []any{map[string]any{"ContainerPath": "/srv/drop", "SourceVolume": "data", "ReadOnly": false}})
	equalJSON(t, "image", c["Image"], "public.ecr.aws/example/edge-drop:1.2.3")
	equalJSON(t, "user", c["User"], "1000:1000")
	equalJSON(t, "memory", c["Memory"], 200)
	equalJSON(t, "cpu", c["Cpu"], 512)
	equalJSON(t, "task's own timeout", get(t, c, "Environment", 1, "Value"), "9m0s")

	for id, lg := range resources(t, tpl, "AWS::Logs::LogGroup") {
		equalJSON(t, id+" retention", get(t, lg, "Properties", "RetentionInDays"), 7)
		equalJSON(t, id+" removal", lg["DeletionPolicy"], "Delete")
	}
	named := 0
	for id, b := range resources(t, tpl, "AWS::S3::Bucket") {
		equalJSON(t, id+" removal", b["DeletionPolicy"], "Delete")
		if b["Properties"].(map[string]any)["BucketName"] == "edge-drop-test-bucket" {
			named++
		}
	}
	if named != 1 {
		t.Error("bucketName must name the drop bucket")
	}
	// With a key prefix, the task may read only under it.
	taskRole := statementsOf(t, tpl, "DownloadTaskTaskRole")
	if len(taskRole) != 1 || !strings.HasSuffix(render(t, taskRole[0]["Resource"]), "/reports/*") {
		t.Errorf("task role must be scoped to the prefix: %s", mustJSON(t, taskRole))
	}
}

func TestTaskDefinitionRunsOnTheBoardWithTheDataDirMounted(t *testing.T) {
	tpl := defaultPipeline(t)
	_, td := only(t, tpl, "AWS::ECS::TaskDefinition")
	equalJSON(t, "compatibility", td["RequiresCompatibilities"], []string{"EXTERNAL"})
	equalJSON(t, "network mode", td["NetworkMode"], "bridge")
	equalJSON(t, "volume", td["Volumes"], []any{map[string]any{"Name": "data", "Host": map[string]any{"SourcePath": "/data"}}})
	if !strings.Contains(render(t, td["TaskRoleArn"]), "DownloadTaskTaskRole") || !strings.Contains(render(t, td["ExecutionRoleArn"]), "DownloadTaskExecutionRole") {
		t.Errorf("roles: %v / %v", td["TaskRoleArn"], td["ExecutionRoleArn"])
	}
	defs := td["ContainerDefinitions"].([]any)
	if len(defs) != 1 {
		t.Fatalf("want one container, got %d", len(defs))
	}
	c := defs[0].(map[string]any)
	equalJSON(t, "name", c["Name"], contract.ContainerName)
	equalJSON(t, "essential", c["Essential"], true)
	equalJSON(t, "mount", c["MountPoints"], []any{map[string]any{"ContainerPath": "/data", "SourceVolume": "data", "ReadOnly": false}})
	equalJSON(t, "user", c["User"], "65532:65532")
	equalJSON(t, "read-only root", c["ReadonlyRootFilesystem"], true)
	equalJSON(t, "memory", c["Memory"], 128)
	equalJSON(t, "cpu", c["Cpu"], 256)
	equalJSON(t, "environment", c["Environment"], []any{
		map[string]any{"Name": contract.EnvDataDir, "Value": "/data"},
		map[string]any{"Name": contract.EnvTimeout, "Value": "29m0s"}, // gives up a minute before the state's 30m
	})
	equalJSON(t, "log driver", get(t, c, "LogConfiguration", "LogDriver"), "awslogs")
	if !strings.Contains(render(t, get(t, c, "LogConfiguration", "Options", "awslogs-group")), "DownloadTaskLogs") {
		t.Error("task logs must go to the task's log group")
	}
	// The default image is the arm64 container asset built from the Dockerfile.
	if img := render(t, c["Image"]); !strings.Contains(img, ".dkr.ecr.") || !strings.Contains(img, "container-assets") {
		t.Errorf("image %s is not the container asset", img)
	}
	for id, lg := range resources(t, tpl, "AWS::Logs::LogGroup") {
		equalJSON(t, id+" retention", get(t, lg, "Properties", "RetentionInDays"), 30)
		equalJSON(t, id+" removal", lg["DeletionPolicy"], "Retain")
	}
}

// dropBucketID is the bucket with access logging (the other one holds the logs).
func dropBucketID(t *testing.T, tpl assertions.Template) string {
	t.Helper()
	for id, b := range resources(t, tpl, "AWS::S3::Bucket") {
		if _, ok := b["Properties"].(map[string]any)["LoggingConfiguration"]; ok {
			return id
		}
	}
	t.Fatal("no drop bucket")
	return ""
}

// statementsOf returns the statements of the policies attached to the role
// whose logical ID contains role.
func statementsOf(t *testing.T, tpl assertions.Template, role string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for owner, sts := range statements(t, tpl) {
		if strings.Contains(owner, role) {
			out = append(out, sts...)
		}
	}
	return out
}
