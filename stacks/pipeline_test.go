package stacks

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
	return synthCachedWith(t, name, overrides, nil)
}

// synthCachedWith is synthCached with prepare (see synthWith); the name
// must tell the preparation apart too.
func synthCachedWith(t *testing.T, name string, overrides map[string]any, prepare func(awscdk.App)) *App {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if a, ok := synthCache[name]; ok {
		return a
	}
	a, _ := synthWith(t, overrides, prepare)
	synthCache[name] = a
	return a
}

func defaultPipeline(t *testing.T) assertions.Template {
	return assertions.Template_FromStack(synthCached(t, "default", nil).Pipeline.Stack, nil)
}

// customized changes every setting that shapes the pipeline.
var customized = map[string]any{
	config.KeyKeyPattern:       "q3+reports/report*.csv", // under ruleKeyPrefix: else nothing is delivered
	config.KeyDataDir:          "/srv/drop",
	config.KeyRuleKeyPrefix:    "q3+reports/", // as events encode "q3 reports/"
	config.KeyRemovalPolicy:    "destroy",
	config.KeyLogRetentionDays: "7",
	config.KeyTaskTimeout:      "10m",
	config.KeyTaskMemoryMiB:    "200",
	config.KeyTaskCPU:          "512",
	config.KeyTaskUser:         "1000:1000",
	config.KeyTaskImage:        "public.ecr.aws/example/edge-drop:1.2.3",
	config.KeyBucketName:       "edge-drop-test-bucket",
	config.KeyMaxObjectMiB:     "5",
	config.KeyBoardPolicy:      "managed",
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
	smID, _ := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Pipeline")
	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Pipeline")

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
		if !strings.HasPrefix(owner, "PipelineTargetRole") {
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
		}, false)
		equalJSON(t, tc.key, get(t, *p.Detail, "object", "key"), []any{tc.want})
	}
	tpl := customizedPipeline(t)
	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Pipeline")
	equalJSON(t, "prefix filter", get(t, rule, "EventPattern", "detail", "object", "key"), []any{map[string]any{"prefix": "q3+reports/"}})
}

func TestStateMachineDefinition(t *testing.T) {
	tpl := defaultPipeline(t)
	_, sm := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Pipeline")
	equalJSON(t, "type", sm["StateMachineType"], "STANDARD")
	equalJSON(t, "tracing", sm["TracingConfiguration"], map[string]any{"Enabled": true})
	equalJSON(t, "log level", get(t, sm, "LoggingConfiguration", "Level"), "ALL")
	equalJSON(t, "log data", get(t, sm, "LoggingConfiguration", "IncludeExecutionData"), true)

	def := asl(t, tpl)
	states := def["States"].(map[string]any)
	equalJSON(t, "StartAt", def["StartAt"], contract.StateExtract)
	// 30 min task + 2,100 s of Retry waits + 16 attempts × 1 min + 5 min.
	equalJSON(t, "execution timeout", def["TimeoutSeconds"], 5160)
	var names []string
	for n := range states {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{contract.StateFailed, contract.StateDownload, contract.StateExtract, contract.StateMatches, contract.StateSkipped,
		contract.StateSize, contract.StateTooLarge,
		contract.StateClassifyFailure, contract.StateReadStoppedTask, contract.StateClassifyExit, contract.StateDescribeExit,
		contract.StateDescribeOtherExit, contract.StateDescribeStopped, contract.StateDescribeError, contract.StateDescribeErrorName,
		contract.StateReported, contract.StateReportedDelivered, contract.StateReportedGone, contract.StateDescribeReport,
		contract.StateNoReport, contract.StateDescribeResult, contract.StateExitGone, contract.StateDelivered, contract.StateGone}
	slices.Sort(want)
	equalJSON(t, "states", names, want)

	equalJSON(t, "Extract", states[contract.StateExtract], map[string]any{
		"Type": "Pass", "Next": contract.StateMatches,
		"Comment": get(t, states, contract.StateExtract, "Comment"),
		"Parameters": map[string]any{
			"bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key",
			"size.$": "$.detail.object.size", "etag.$": "$.detail.object.etag",
			"sequencer.$": "$.detail.object.sequencer",
		},
	})
	equalJSON(t, "Choice", get(t, states, contract.StateMatches, "Choices"), []any{map[string]any{
		"Variable": "$.key", "StringMatches": "demo*.txt", "Next": contract.StateSize}})
	equalJSON(t, "Choice default", get(t, states, contract.StateMatches, "Default"), contract.StateSkipped)
	equalJSON(t, "Skipped", get(t, states, contract.StateSkipped, "Type"), "Succeed")
	// Objects over maxObjectMiB (default 1024) end in TooLarge before RunTask.
	equalJSON(t, "size Choice", get(t, states, contract.StateSize, "Choices"), []any{map[string]any{
		"Variable": "$.size", "NumericGreaterThan": 1 << 30, "Next": contract.StateTooLarge}})
	equalJSON(t, "size Choice default", get(t, states, contract.StateSize, "Default"), contract.StateDownload)
	tooLarge := states[contract.StateTooLarge].(map[string]any)
	equalJSON(t, "TooLarge type", tooLarge["Type"], "Fail")
	equalJSON(t, "TooLarge error", tooLarge["Error"], contract.ErrTooLarge)
	equalJSON(t, "TooLarge cause", tooLarge["CausePath"],
		"States.Format('s3://{}/{} is {} bytes, more than the 1073741824 bytes (maxObjectMiB=1024) a board accepts: not delivered', $.bucket, $.key, $.size)")

	task := states[contract.StateDownload].(map[string]any)
	equalJSON(t, "task type", task["Type"], "Task")
	equalJSON(t, "resource", task["Resource"], "arn:${AWS::Partition}:states:::ecs:runTask.sync")
	equalJSON(t, "next", task["Next"], contract.StateReported)
	equalJSON(t, "task timeout", task["TimeoutSeconds"], 1800)
	equalJSON(t, "launch type", get(t, task, "Parameters", "LaunchType"), "EXTERNAL")
	// The cluster is imported by its configured name: no cross-stack reference.
	equalJSON(t, "cluster", get(t, task, "Parameters", "Cluster"), "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/edge-drop")
	// The revision the stack deployed (Ref: its ARN), not the family, whose
	// latest ACTIVE revision the role may not run.
	tdID, _ := only(t, tpl, "AWS::ECS::TaskDefinition")
	equalJSON(t, "task definition", get(t, task, "Parameters", "TaskDefinition"), "${"+tdID+"}")
	equalJSON(t, "propagated tags", get(t, task, "Parameters", "PropagateTags"), "TASK_DEFINITION")
	equalJSON(t, "overrides", get(t, task, "Parameters", "Overrides"), map[string]any{"ContainerOverrides": []any{map[string]any{
		"Name": contract.ContainerName,
		"Environment": []any{
			map[string]any{"Name": contract.EnvBucket, "Value.$": "$.bucket"},
			map[string]any{"Name": contract.EnvKey, "Value.$": "$.key"},
			map[string]any{"Name": contract.EnvEventSequencer, "Value.$": "$.sequencer"},
			map[string]any{"Name": contract.EnvEventETag, "Value.$": "$.etag"},
			// ECS takes strings only: the size is formatted.
			map[string]any{"Name": contract.EnvEventSize, "Value.$": "States.Format('{}', $.size)"},
			// The task reports its outcome with the state's token.
			map[string]any{"Name": contract.EnvTaskToken, "Value.$": "$$.Task.Token"},
		},
	}}})
	// No ResultSelector: the result is the task's report, or without one
	// the stopped task (a selector for one shape fails on the other).
	equalJSON(t, "result selector", task["ResultSelector"], nil)
	equalJSON(t, "result path", task["ResultPath"], "$.task")
	equalJSON(t, "retry", task["Retry"], []any{
		map[string]any{"ErrorEquals": []string{"ECS.ServerException", "ECS.ThrottlingException"},
			"IntervalSeconds": 5, "MaxAttempts": 5, "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
		// A busy or offline board: RunTask's failures, and ECS's catch-all
		// error, which reports capacity failures in the field too.
		map[string]any{"ErrorEquals": []string{"AmazonECS.Unknown", "ECS.AmazonECSException"},
			"IntervalSeconds": 15, "MaxAttempts": 10, "BackoffRate": 2, "MaxDelaySeconds": 300, "JitterStrategy": "FULL"},
	})
	for _, e := range pipeline.APIFaultErrors {
		if !strings.HasPrefix(e, "ECS.") {
			t.Errorf("only ECS API errors may be retried, got %s", e)
		}
	}
	equalJSON(t, "catch", task["Catch"], []any{map[string]any{
		"ErrorEquals": []string{"States.ALL"}, "ResultPath": "$.error", "Next": contract.StateClassifyFailure}})
	assertFailurePath(t, states)
	assertOutcomes(t, states)
}

// The single-board pipeline's ends: the report's words, or the exit code.
func assertOutcomes(t *testing.T, states map[string]any) {
	t.Helper()
	cond := func(op, path string, v any) map[string]any { return map[string]any{"Variable": path, op: v} }
	present := func(path, is string) []any { return []any{cond("IsPresent", path, true), cond(is, path, true)} }
	report := slices.Concat(present("$.task.status", "IsString"), present("$.task.summary", "IsString"), present("$.task.exitCode", "IsNumeric"))
	status := func(words ...string) map[string]any {
		var or []any
		for _, w := range words {
			or = append(or, cond("StringEquals", "$.task.status", w))
		}
		if len(or) == 1 {
			return or[0].(map[string]any)
		}
		return map[string]any{"Or": or}
	}
	equalJSON(t, "reported", states[contract.StateReported], map[string]any{
		"Type": "Choice", "Comment": get(t, states, contract.StateReported, "Comment"),
		"Choices": []any{
			map[string]any{"And": append(slices.Clone(report), status(contract.OutcomeDelivered, contract.OutcomeUpToDate, contract.OutcomeConflict)), "Next": contract.StateReportedDelivered},
			map[string]any{"And": append(slices.Clone(report), status(contract.OutcomeGone)), "Next": contract.StateReportedGone},
			map[string]any{"And": report, "Next": contract.StateDescribeReport},
			map[string]any{"And": slices.Concat(present("$.task.TaskArn", "IsString"), present("$.task.Containers[0].ExitCode", "IsNumeric")), "Next": contract.StateNoReport},
		},
		"Default": contract.StateDescribeResult,
	})
	// Gone is a success: the alarm on failed executions stays quiet.
	equalJSON(t, "gone", states[contract.StateGone], map[string]any{
		"Type": "Succeed", "Comment": get(t, states, contract.StateGone, "Comment"), "OutputPath": "$.outcome"})
	equalJSON(t, "delivered", states[contract.StateDelivered], map[string]any{
		"Type": "Succeed", "Comment": get(t, states, contract.StateDelivered, "Comment"), "OutputPath": "$.outcome"})
	equalJSON(t, "reported failure", states[contract.StateDescribeReport], map[string]any{
		"Type": "Pass", "Comment": get(t, states, contract.StateDescribeReport, "Comment"), "Next": contract.StateFailed,
		"Parameters": map[string]any{"reason.$": "States.Format('{}', $.task.summary)"}, "ResultPath": "$.failure"})
	equalJSON(t, "exit 4 is gone", get(t, states, contract.StateClassifyExit, "Choices", 0, "Next"), contract.StateExitGone)
	equalJSON(t, "exit 4 outcome", get(t, states, contract.StateExitGone, "Parameters"), map[string]any{
		"board": "", "instance": "", "status": contract.OutcomeGone, "exitCode.$": "$.failure.task.Containers[0].ExitCode",
		"taskArn.$": "$.failure.task.TaskArn", "cause": "exit 4 not_found: object not found"})
}

// The failure path turns the caught error into one line; see the local
// interpreter's TestPipelineDefinition for each path run end to end.
func assertFailurePath(t *testing.T, states map[string]any) {
	t.Helper()
	cond := func(op, path string, v any) map[string]any { return map[string]any{"Variable": path, op: v} }
	present := func(path, is string) []any { return []any{cond("IsPresent", path, true), cond(is, path, true)} }
	and := func(next string, conds ...[]any) map[string]any {
		return map[string]any{"And": slices.Concat(conds...), "Next": next}
	}
	const task = "$.failure.task"
	causeGiven := append(present("$.error.Cause", "IsString"), map[string]any{"Not": cond("StringEquals", "$.error.Cause", "")})
	equalJSON(t, "classify failure", states[contract.StateClassifyFailure], map[string]any{
		"Type": "Choice", "Comment": get(t, states, contract.StateClassifyFailure, "Comment"),
		"Choices": []any{
			// Only States.TaskFailed with a JSON object as cause is parsed:
			// StringToJson on anything else would fail the execution.
			and(contract.StateReadStoppedTask, []any{cond("StringEquals", "$.error.Error", "States.TaskFailed")}, causeGiven,
				[]any{cond("StringMatches", "$.error.Cause", `{"*}`)}),
			and(contract.StateDescribeError, causeGiven),
		},
		"Default": contract.StateDescribeErrorName,
	})
	equalJSON(t, "read stopped task", states[contract.StateReadStoppedTask], map[string]any{
		"Type": "Pass", "Comment": get(t, states, contract.StateReadStoppedTask, "Comment"), "Next": contract.StateClassifyExit,
		"Parameters": map[string]any{"task.$": "States.StringToJson($.error.Cause)", "exitCodes": contract.ExitDescriptions()},
		"ResultPath": "$.failure",
	})
	last := len(contract.ExitDescriptions()) - 1
	equalJSON(t, "classify exit", states[contract.StateClassifyExit], map[string]any{
		"Type": "Choice", "Comment": get(t, states, contract.StateClassifyExit, "Comment"),
		"Choices": []any{
			and(contract.StateExitGone, present(task+".TaskArn", "IsString"), present(task+".Containers[0].ExitCode", "IsNumeric"),
				[]any{cond("NumericEquals", task+".Containers[0].ExitCode", 4)}),
			and(contract.StateDescribeExit, present(task+".TaskArn", "IsString"), present(task+".Containers[0].ExitCode", "IsNumeric"),
				[]any{cond("NumericGreaterThanEquals", task+".Containers[0].ExitCode", 0), cond("NumericLessThanEquals", task+".Containers[0].ExitCode", last)}),
			and(contract.StateDescribeOtherExit, present(task+".TaskArn", "IsString"), present(task+".Containers[0].ExitCode", "IsNumeric")),
			and(contract.StateDescribeStopped, present(task+".TaskArn", "IsString"), present(task+".StoppedReason", "IsString")),
		},
		"Default": contract.StateDescribeError,
	})
	for name, reason := range map[string]string{
		contract.StateDescribeExit:      "States.Format('{} (task {})', States.ArrayGetItem($.failure.exitCodes, $.failure.task.Containers[0].ExitCode), $.failure.task.TaskArn)",
		contract.StateDescribeOtherExit: "States.Format('exit {}: not an edge-drop-task exit code (task {})', $.failure.task.Containers[0].ExitCode, $.failure.task.TaskArn)",
		contract.StateDescribeStopped:   "States.Format('task stopped without an exit code: {} (task {})', $.failure.task.StoppedReason, $.failure.task.TaskArn)",
		contract.StateDescribeError:     "States.Format('{}: {}', $.error.Error, $.error.Cause)",
		contract.StateDescribeErrorName: "$.error.Error",
	} {
		equalJSON(t, name, states[name], map[string]any{
			"Type": "Pass", "Comment": get(t, states, name, "Comment"), "Next": contract.StateFailed,
			"Parameters": map[string]any{"reason.$": reason}, "ResultPath": "$.failure",
		})
	}
	equalJSON(t, "fail", states[contract.StateFailed], map[string]any{
		"Type": "Fail", "Comment": get(t, states, contract.StateFailed, "Comment"), "Error": contract.ErrDeliveryFailed,
		"CausePath": "States.Format('s3://{}/{} was not delivered: {}', $.bucket, $.key, $.failure.reason)",
	})
}

func TestConfigChangesReachTheTemplate(t *testing.T) {
	tpl := customizedPipeline(t)
	def := asl(t, tpl)
	equalJSON(t, "pattern", get(t, def, "States", contract.StateMatches, "Choices", 0, "StringMatches"), "q3+reports/report*.csv")
	equalJSON(t, "task timeout", get(t, def, "States", contract.StateDownload, "TimeoutSeconds"), 600)
	equalJSON(t, "size limit", get(t, def, "States", contract.StateSize, "Choices", 0, "NumericGreaterThan"), 5<<20)

	_, td := only(t, tpl, "AWS::ECS::TaskDefinition")
	equalJSON(t, "volume", td["Volumes"], []any{map[string]any{"Name": "data", "Host": map[string]any{"SourcePath": "/srv/drop"}}})
	c := get(t, td, "ContainerDefinitions", 0).(map[string]any)
	equalJSON(t, "mount", c["MountPoints"], []any{map[string]any{"ContainerPath": "/srv/drop", "SourceVolume": "data", "ReadOnly": false}})
	equalJSON(t, "image", c["Image"], "public.ecr.aws/example/edge-drop:1.2.3")
	equalJSON(t, "user", c["User"], "1000:1000")
	equalJSON(t, "memory", c["Memory"], 200)
	equalJSON(t, "cpu", c["Cpu"], 512)
	env := envOf(t, c)
	equalJSON(t, "task's own timeout", env[contract.EnvTimeout], "9m0s")
	equalJSON(t, "task's size limit", env[contract.EnvMaxBytes], "5242880")

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
	// The task may read and list only under the prefix every delivered key
	// starts with (the pattern's literal start, within ruleKeyPrefix): IAM
	// names the key as S3 stores it, not as the event encodes it.
	taskRole := statementsOf(t, tpl, "DownloadTaskTaskRole")
	equalJSON(t, "task role scoped to the prefix", withRenderedResources(t, taskRole), []map[string]any{
		{"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "${" + dropBucketID(t, tpl) + ".Arn}/q3 reports/report*"},
		{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${" + dropBucketID(t, tpl) + ".Arn}",
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": "q3 reports/report*"}}},
		{"Sid": "ReportTheOutcome", "Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": map[string]any{"Ref": "AWS::Region"}}}},
	})
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
	equalJSON(t, "environment", envOf(t, c), map[string]any{
		contract.EnvDataDir:  "/data",
		contract.EnvTimeout:  "29m0s",      // gives up a minute before the state's 30m
		contract.EnvMaxBytes: "1073741824", // maxObjectMiB 1024
		// The stack's region: older ECS agents do not set it on external
		// instances, and the SDK would fall back to us-east-1.
		"AWS_REGION": map[string]any{"Ref": "AWS::Region"},
	})
	// No Linux capability at all.
	equalJSON(t, "capabilities", get(t, c, "LinuxParameters"), map[string]any{"Capabilities": map[string]any{"Drop": []string{"ALL"}}})
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
