package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/contract"
)

// Sync configurations: the default (syncEvery 6h, no mirroring), both
// features off, on-demand only with mirroring, a group target and routing
// by key.
var syncConfigs = map[string]map[string]any{
	"sync-off":       {config.KeySyncEvery: "off", config.KeyMirrorDeletes: "false"},
	"sync-on-demand": {config.KeySyncEvery: "off", config.KeyMirrorDeletes: "true", config.KeyRuleKeyPrefix: "demo"},
	"sync-group":     {config.KeyDeliverTo: "group:site1", config.KeyMirrorDeletes: "true", config.KeySyncEvery: "30m"},
	"sync-routed":    {config.KeyRoutePrefix: "to/", config.KeyKeyPattern: "to/*"},
}

func syncPipeline(t *testing.T, name string) assertions.Template {
	t.Helper()
	return assertions.Template_FromStack(synthCached(t, name, syncConfigs[name]).Pipeline.Stack, nil)
}

// syncTaskEnv is the sync task's environment: name → value or "path.$".
func syncTaskEnv(t *testing.T, def map[string]any) map[string]any {
	t.Helper()
	run := get(t, def, "States", "ChooseBoards", "Next")
	if run != "ListBoards" {
		t.Fatalf("ChooseBoards goes to %v", run)
	}
	iter := get(t, def, "States", "DeliverToEachBoard", "ItemProcessor", "States", "DeliverToBoard", "Parameters", "Overrides", "ContainerOverrides", 0)
	out := map[string]any{}
	for _, e := range get(t, iter, "Environment").([]any) {
		e := e.(map[string]any)
		if v, ok := e["Value"]; ok {
			out[e["Name"].(string)] = v
		} else {
			out[e["Name"].(string)+".$"] = e["Value.$"]
		}
	}
	return out
}

func TestSyncStateMachineAndItsSchedule(t *testing.T) {
	tpl := defaultPipeline(t)
	smID, sm := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Sync")
	equalJSON(t, "name", sm["StateMachineName"], "EdgeDrop-Sync")
	equalJSON(t, "type", sm["StateMachineType"], "STANDARD")
	def := aslOf(t, tpl, "Sync")
	equalJSON(t, "start", def["StartAt"], "WhichBoards")
	equalJSON(t, "every board (deliverTo any)", get(t, def, "States", "SyncEveryBoard", "Parameters", "filter"), "attribute:edge-drop.board exists")
	equalJSON(t, "one board", get(t, def, "States", "SyncOneBoard", "Parameters", "filter.$"),
		"States.Format('attribute:edge-drop.board exists and attribute:edge-drop.board == {}', $.board)")
	bucketID := dropBucketID(t, tpl)
	equalJSON(t, "sync environment", syncTaskEnv(t, def), map[string]any{
		contract.EnvMode:             contract.ModeSync,
		contract.EnvBucket:           "${" + bucketID + "}",
		contract.EnvKeyPrefix:        "demo", // what the task role may list: demo*.txt's literal start
		contract.EnvKeyPattern:       "demo*.txt",
		contract.EnvMirrorDeletes:    "false",
		contract.EnvTaskToken + ".$": "$$.Task.Token",
	})

	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Sync")
	equalJSON(t, "schedule", rule["ScheduleExpression"], "rate(6 hours)")
	dlqID, _ := onlyOf(t, tpl, "AWS::SQS::Queue", "Pipeline")
	roleID, _ := onlyOf(t, tpl, "AWS::IAM::Role", "SyncTargetRole")
	target := get(t, rule, "Targets", 0)
	equalJSON(t, "target", target, map[string]any{
		"Arn": map[string]any{"Ref": smID}, "Id": "Target0", "Input": "{}",
		"RoleArn":          map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}},
		"DeadLetterConfig": map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlqID, "Arn"}}},
		"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 21600, "MaximumRetryAttempts": 185},
	})
	// The schedule's role may start the sync, nothing else.
	equalJSON(t, "schedule role", withRenderedResources(t, statementsOf(t, tpl, "SyncTargetRole")), []map[string]any{
		{"Action": "states:StartExecution", "Effect": "Allow", "Resource": "${" + smID + "}"},
	})
	// The sync's role: the fleet role (list, describe, run on this cluster).
	got := reduce(t, statementsOf(t, tpl, "SyncStateMachineRole"))
	want := reduce(t, statementsOf(t, fleetPipeline(t, "fleet-group", fleetConfigs["fleet-group"]), "PipelineStateMachineRole"))
	if len(got) != len(want) || got["ListTheBoardsOfTheCluster"].Sid == "" || got["DescribeTheBoardsOfTheCluster"].Sid == "" {
		t.Errorf("sync role %v, want the fleet role's statements %v", got, want)
	}

	names := map[string]bool{}
	for _, a := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
		names[render(t, get(t, a, "Properties", "AlarmName"))] = true
	}
	for _, n := range []string{alarms.SyncFailed, alarms.SyncTimedOut} {
		if !names["EdgeDrop-Pipeline-"+n] {
			t.Errorf("no alarm %s among %v", n, names)
		}
	}
	tpl.HasOutput(jsii.String("SyncStateMachineArn"), assertions.Match_ObjectLike(&map[string]any{"Value": map[string]any{"Ref": smID}}))
}

func TestNoSyncWhenBothFeaturesAreOff(t *testing.T) {
	tpl := syncPipeline(t, "sync-off")
	tpl.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
	if outs := *tpl.FindOutputs(jsii.String("SyncStateMachineArn"), nil); len(outs) != 0 {
		t.Errorf("output SyncStateMachineArn without a sync: %v", outs)
	}
	sts := statementsOf(t, tpl, "DownloadTaskTaskRole")
	if len(sts) != 2 || sts[0]["Action"] != "s3:GetObject" || sts[1]["Action"] != "states:SendTaskSuccess" {
		t.Errorf("task role %s, want s3:GetObject and the report only", mustJSON(t, sts))
	}
	for _, a := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
		if name := render(t, get(t, a, "Properties", "AlarmName")); strings.Contains(name, "Sync") {
			t.Errorf("alarm %s without a sync", name)
		}
	}
}

func TestOnDemandSyncWithMirroring(t *testing.T) {
	tpl := syncPipeline(t, "sync-on-demand")
	onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", "Sync")
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1)) // the upload rule, no schedule
	env := syncTaskEnv(t, aslOf(t, tpl, "Sync"))
	equalJSON(t, "prefix", env[contract.EnvKeyPrefix], "demo")
	equalJSON(t, "mirror", env[contract.EnvMirrorDeletes], "true")
	bucketID := dropBucketID(t, tpl)
	equalJSON(t, "task role", withRenderedResources(t, statementsOf(t, tpl, "DownloadTaskTaskRole")), []map[string]any{
		{"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "${" + bucketID + ".Arn}/demo*"},
		{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${" + bucketID + ".Arn}",
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": "demo*"}}},
		{"Sid": "ReportTheOutcome", "Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": map[string]any{"Ref": "AWS::Region"}}}},
	})
}

func TestSyncTargetsFollowDeliverTo(t *testing.T) {
	group := aslOf(t, syncPipeline(t, "sync-group"), "Sync")
	equalJSON(t, "group", get(t, group, "States", "SyncEveryBoard", "Parameters", "filter"), "attribute:edge-drop.group.site1 exists")
	_, rule := onlyOf(t, syncPipeline(t, "sync-group"), "AWS::Events::Rule", "Sync")
	equalJSON(t, "schedule", rule["ScheduleExpression"], "rate(30 minutes)")
	equalJSON(t, "event age", get(t, rule, "Targets", 0, "RetryPolicy", "MaximumEventAgeInSeconds"), 1800)

	routed := aslOf(t, syncPipeline(t, "sync-routed"), "Sync")
	env := syncTaskEnv(t, routed)
	equalJSON(t, "routed prefix", env[contract.EnvKeyPrefix+".$"], "States.Format('to/{}/', States.ArrayGetItem($.names, 0))")
	equalJSON(t, "routed strip", env[contract.EnvStripComponents], "2")
	equalJSON(t, "routed pattern", env[contract.EnvKeyPattern], "to/*")
}

// The sync definitions the local pipeline runs; their golden copies
// (asltest.GoldenDir) must stay equal to what synth renders.
var syncTestdata = []string{"sync-group", "sync-routed"}

func TestSyncTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	for _, name := range syncTestdata {
		want := indentJSON(t, normalizeASL(aslOf(t, syncPipeline(t, name), "Sync")))
		checkTestdata(t, name, want, "TestSyncTestdata")
	}
}

// nagSuppressions counts the cdk-nag suppressions of a stack by rule.
func nagSuppressions(t *testing.T, tpl assertions.Template) map[string]int {
	t.Helper()
	out := map[string]int{}
	resources, _ := (*tpl.ToJSON())["Resources"].(map[string]any)
	for _, r := range resources {
		meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		list, _ := nag["rules_to_suppress"].([]any)
		for _, s := range list {
			out[s.(map[string]any)["id"].(string)]++
		}
	}
	return out
}

// The sync adds one suppression: its state machine role's IAM5 (task
// ARNs and container instances of this cluster, log delivery and X-Ray),
// the same reason as the pipeline's role. s3:ListBucket needs none.
func TestSyncNagSuppressions(t *testing.T) {
	off := nagSuppressions(t, syncPipeline(t, "sync-off"))
	on := nagSuppressions(t, defaultPipeline(t))
	want := map[string]int{}
	for k, v := range off {
		want[k] = v
	}
	want["AwsSolutions-IAM5"]++
	equalJSON(t, "suppressions with the sync", on, want)
	t.Logf("pipeline stack suppressions: without sync %v, with %v", off, on)
}
