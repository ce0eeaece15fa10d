package stacks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
)

// coalesceConfig batches bursts to every board.
var coalesceConfig = map[string]any{config.KeyCoalesceWindow: "5s", config.KeyDeliverTo: "all"}

// coalesceAnyConfig batches bursts to one board ECS picks.
var coalesceAnyConfig = map[string]any{config.KeyCoalesceWindow: "10s"}

func coalescedPipeline(t *testing.T) (*App, assertions.Template) {
	app := synthCached(t, "coalesce-all", coalesceConfig)
	return app, templateOf(app.Pipeline.Stack)
}

func TestCoalesceDumpTemplate(t *testing.T) {
	if os.Getenv("EDGE_DROP_DUMP") == "" {
		t.Skip("set EDGE_DROP_DUMP=file")
	}
	_, tpl := coalescedPipeline(t)
	b, _ := json.MarshalIndent(tpl.ToJSON(), "", " ")
	os.WriteFile(os.Getenv("EDGE_DROP_DUMP"), b, 0o644)
}

// Without coalesceWindow there is no pipe and no second queue.
func TestNoCoalescingByDefault(t *testing.T) {
	tpl := defaultPipeline(t)
	if n := len(resources(t, tpl, "AWS::Pipes::Pipe")); n != 0 {
		t.Errorf("%d pipes without coalesceWindow", n)
	}
	if n := len(resources(t, tpl, "AWS::SQS::Queue")); n != 1 {
		t.Errorf("%d queues without coalesceWindow, want the dead-letter queue only", n)
	}
}

func TestCoalescePipeReadsTheQueueInBatches(t *testing.T) {
	app, tpl := coalescedPipeline(t)
	co := app.Pipeline.Pipeline.Coalescer
	if co == nil {
		t.Fatal("no coalescer with coalesceWindow=5s")
	}
	stack := app.Pipeline.Stack
	queue := *stack.GetLogicalId(co.Queue.Node().DefaultChild().(awscdk.CfnElement))
	dlq := *stack.GetLogicalId(co.DeadLetterQueue.Node().DefaultChild().(awscdk.CfnElement))
	key := *stack.GetLogicalId(co.Key.Node().DefaultChild().(awscdk.CfnElement))
	machine := *stack.GetLogicalId(app.Pipeline.Pipeline.StateMachine.Node().DefaultChild().(awscdk.CfnElement))

	_, pipe := only(t, tpl, "AWS::Pipes::Pipe")
	want := map[string]any{
		"Source": map[string]any{"Fn::GetAtt": []any{queue, "Arn"}},
		"Target": map[string]any{"Ref": machine},
		"SourceParameters": map[string]any{"SqsQueueParameters": map[string]any{
			"BatchSize": float64(pipeline.CoalesceBatchSize), "MaximumBatchingWindowInSeconds": float64(5)}},
		"TargetParameters": map[string]any{"StepFunctionStateMachineParameters": map[string]any{"InvocationType": "FIRE_AND_FORGET"}},
		"DesiredState":     "RUNNING",
	}
	for k, v := range want {
		if mustJSON(t, pipe[k]) != mustJSON(t, v) {
			t.Errorf("pipe %s = %s, want %s", k, mustJSON(t, pipe[k]), mustJSON(t, v))
		}
	}

	queues := resources(t, tpl, "AWS::SQS::Queue")
	for _, id := range []string{queue, dlq} {
		p := queues[id]["Properties"].(map[string]any)
		if mustJSON(t, p["KmsMasterKeyId"]) != mustJSON(t, map[string]any{"Fn::GetAtt": []any{key, "Arn"}}) {
			t.Errorf("queue %s: KmsMasterKeyId %v, want the coalescing key", id, p["KmsMasterKeyId"])
		}
	}
	redrive := queues[queue]["Properties"].(map[string]any)["RedrivePolicy"]
	if mustJSON(t, redrive) != mustJSON(t, map[string]any{"deadLetterTargetArn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}, "maxReceiveCount": float64(5)}) {
		t.Errorf("queue redrive %s, want 5 receives then the dead-letter queue", mustJSON(t, redrive))
	}
	// TLS only: each queue's policy denies aws:SecureTransport=false.
	for _, id := range []string{queue, dlq} {
		found := false
		for _, r := range resources(t, tpl, "AWS::SQS::QueuePolicy") {
			p := r["Properties"].(map[string]any)
			if strings.Contains(mustJSON(t, p["Queues"]), id) && strings.Contains(mustJSON(t, p["PolicyDocument"]), `"aws:SecureTransport":"false"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("queue %s has no TLS-only policy", id)
		}
	}

	// The rule targets the queue, never the state machine.
	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Pipeline")
	targets := rule["Targets"].([]any)
	if len(targets) != 1 || mustJSON(t, targets[0].(map[string]any)["Arn"]) != mustJSON(t, map[string]any{"Fn::GetAtt": []any{queue, "Arn"}}) {
		t.Errorf("rule targets %s, want the coalescing queue only", mustJSON(t, targets))
	}
	if targets[0].(map[string]any)["DeadLetterConfig"] == nil {
		t.Error("the rule's queue target has no dead-letter queue")
	}
	if app.Pipeline.Pipeline.TargetRole != nil {
		t.Error("a rule target role that nothing uses")
	}

	// An alarm on the pipe's dead letters.
	found := false
	for _, r := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
		p := r["Properties"].(map[string]any)
		if strings.Contains(mustJSON(t, p["AlarmName"]), alarms.BatchesUndelivered) &&
			strings.Contains(mustJSON(t, p["Dimensions"]), dlq) {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s alarm on the coalescing dead-letter queue", alarms.BatchesUndelivered)
	}
}

// The batch definition: the JSONata read, one task per part with the key
// list, and the parts' verdict.
func TestCoalesceDefinitionDeliversKeyLists(t *testing.T) {
	_, tpl := coalescedPipeline(t)
	def := asl(t, tpl)
	states := def["States"].(map[string]any)
	if def["StartAt"] != contract.StateReadBatch {
		t.Fatalf("StartAt %v, want %s", def["StartAt"], contract.StateReadBatch)
	}
	read := states[contract.StateReadBatch].(map[string]any)
	if read["QueryLanguage"] != "JSONata" || !strings.Contains(read["Output"].(string), "$parse(body)") {
		t.Errorf("ReadBatch: %s", mustJSON(t, read))
	}
	all := mustJSON(t, def)
	if !strings.Contains(all, `"Name":"`+contract.EnvKeys+`","Value.$":"$.keys"`) {
		t.Errorf("no task gets %s from the part", contract.EnvKeys)
	}
	if strings.Contains(all, contract.EnvKey+`"`) {
		t.Errorf("a batch task still gets %s", contract.EnvKey)
	}
	each := states[contract.StateDeliverParts].(map[string]any)
	if each["MaxConcurrency"] != float64(1) || each["ItemsPath"] != "$.parts" {
		t.Errorf("DeliverEachPart: %s", mustJSON(t, each))
	}
}

// A batch that could not end within the year is a config error at synth;
// the defaults are not. Also: without coalesceWindow the delivery's
// definition is today's (byte for byte, as the goldens are).
func TestCoalescingConfigAtSynth(t *testing.T) {
	_, err := configOf(appWith(t, map[string]any{config.KeyDeliverTo: "all", config.KeyCoalesceWindow: "10s", config.KeyTaskTimeout: "24h", config.KeyOfflineWait: "2h"}))
	if err == nil || !strings.Contains(err.Error(), "coalesceWindow=off") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
	if _, err := configOf(appWith(t, coalesceConfig)); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	off := indentJSON(t, normalizeASL(asl(t, fleetPipeline(t, "fleet-all-coalesce-off", map[string]any{config.KeyDeliverTo: "all", config.KeyCoalesceWindow: "off"}))))
	if want := indentJSON(t, normalizeASL(asl(t, fleetPipeline(t, "fleet-all", fleetConfigs["fleet-all"])))); off != want {
		t.Error("coalesceWindow=off changed the definition")
	}
}
