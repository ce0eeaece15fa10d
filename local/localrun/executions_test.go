package localrun

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/local/asl"
)

// withResources copies the assembly asm and adds resources to the stack
// that has the pipeline's state machine: hand-written state machines and
// rules, before the CDK app has them.
func withResources(t *testing.T, asm string, resources map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(asm)
	if err != nil {
		t.Fatal(err)
	}
	added := false
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(asm, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".template.json") && strings.Contains(string(b), "AWS::StepFunctions::StateMachine") && !added {
			var tpl map[string]any
			if err := json.Unmarshal(b, &tpl); err != nil {
				t.Fatal(err)
			}
			res := tpl["Resources"].(map[string]any)
			for id, r := range resources {
				res[id] = r
			}
			b, _ = json.Marshal(tpl)
			added = true
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !added {
		t.Fatal("no stack with a state machine in " + asm)
	}
	return dir
}

// echoMachine answers its input's detail-type, or "none".
func echoMachine(name string) map[string]any {
	def := `{"StartAt":"Echo","States":{"Echo":{"Type":"Choice","Choices":[{"Variable":"$.detail-type","IsPresent":true,"Next":"Scheduled"}],"Default":"Direct"},` +
		`"Scheduled":{"Type":"Pass","Parameters":{"via.$":"$.detail-type","source.$":"$.source"},"End":true},` +
		`"Direct":{"Type":"Pass","Parameters":{"via":"direct","input.$":"$"},"End":true}}}`
	return map[string]any{"Type": "AWS::StepFunctions::StateMachine", "Properties": map[string]any{"StateMachineName": name, "DefinitionString": def}}
}

func scheduleRule(expr string, input any) map[string]any {
	target := map[string]any{"Arn": map[string]any{"Ref": "EchoMachine"}, "Id": "echo"}
	if input != nil {
		target["Input"] = input
	}
	return map[string]any{"Type": "AWS::Events::Rule", "Properties": map[string]any{"ScheduleExpression": expr, "State": "ENABLED", "Targets": []any{target}}}
}

const echoARN = "arn:aws:states:" + Region + ":" + Account + ":stateMachine:edge-drop-Echo"

func nextResult(t *testing.T, p *Pipeline) Result {
	t.Helper()
	select {
	case r := <-p.Results():
		return r
	case <-time.After(time.Minute):
		t.Fatal("no result within a minute")
	}
	return Result{}
}

// nextOf is the next result of the state machine named name (the app's
// own sync schedule runs at the overridden rate too).
func nextOf(t *testing.T, p *Pipeline, name string) Result {
	t.Helper()
	for {
		if r := nextResult(t, p); r.StateMachine == name {
			return r
		}
	}
}

func TestScheduleRunsItsStateMachineAtTheOverriddenRate(t *testing.T) {
	asm := withResources(t, defaultAsm, map[string]any{"EchoMachine": echoMachine("edge-drop-Echo"), "EchoSchedule": scheduleRule("rate(6 hours)", nil)})
	h := start(t, asm, Options{ScheduleEvery: 100 * time.Millisecond})
	for i := 0; i < 2; i++ { // it keeps running
		r := nextOf(t, h.p, "edge-drop-Echo")
		if r.Rule != "EchoSchedule" || r.StateMachine != "edge-drop-Echo" || r.Execution.Status != asl.StatusSucceeded {
			t.Fatalf("result %+v", r)
		}
		out, _ := json.Marshal(r.Execution.Output)
		if string(out) != `{"source":"aws.events","via":"Scheduled Event"}` {
			t.Fatalf("the target got no scheduled event: output %s", out)
		}
	}
}

func TestScheduleTargetInputAndCronNeedsAnInterval(t *testing.T) {
	asm := withResources(t, defaultAsm, map[string]any{"EchoMachine": echoMachine("edge-drop-Echo"), "EchoSchedule": scheduleRule("rate(1 minute)", `{"board":"a"}`)})
	h := start(t, asm, Options{ScheduleEvery: 100 * time.Millisecond})
	r := nextOf(t, h.p, "edge-drop-Echo")
	if out, _ := json.Marshal(r.Execution.Output); string(out) != `{"input":{"board":"a"},"via":"direct"}` {
		t.Fatalf("output %s, want the target's Input", out)
	}

	cron := withResources(t, defaultAsm, map[string]any{"EchoMachine": echoMachine("edge-drop-Echo"), "EchoSchedule": scheduleRule("cron(0 3 * * ? *)", nil)})
	_, err := Start(t.Context(), Options{AssemblyDir: cron, DataDir: t.TempDir(), TaskBinary: taskBinary})
	if err == nil || !strings.Contains(err.Error(), "EchoSchedule runs on cron(0 3 * * ? *)") || !strings.Contains(err.Error(), "-sync-every") {
		t.Fatalf("Start with a cron schedule: %v", err)
	}
}

func TestStartExecution(t *testing.T) {
	asm := withResources(t, defaultAsm, map[string]any{"EchoMachine": echoMachine("edge-drop-Echo")})
	h := start(t, asm, Options{})
	sms := h.p.StateMachines() // the pipeline's, the sync's and the echo
	if len(sms) != 3 || !slices.Contains(sms, StateMachine{ARN: echoARN, Name: "edge-drop-Echo"}) {
		t.Fatalf("state machines %+v", sms)
	}
	run, err := h.p.StartExecution(echoARN, "manual-1", `{"board":"b"}`)
	if err != nil {
		t.Fatal(err)
	}
	if run.ARN != "arn:aws:states:"+Region+":"+Account+":execution:edge-drop-Echo:manual-1" {
		t.Fatalf("execution ARN %s", run.ARN)
	}
	<-run.Done()
	got, ok := run.Result()
	if found, _ := h.p.Execution(run.ARN); !ok || found != run || got.Execution.Status != asl.StatusSucceeded || got.Rule != "" {
		t.Fatalf("result %+v", got)
	}
	if r := nextResult(t, h.p); r.Execution != got.Execution {
		t.Fatalf("Results has %+v", r)
	}
	for _, c := range []struct{ arn, name, input, code string }{
		{echoARN + "x", "", "", "StateMachineDoesNotExist"},
		{echoARN, "", "{not json", "InvalidExecutionInput"},
		{echoARN, "a/b", "", "InvalidName"},
		{echoARN, "manual-1", "", "ExecutionAlreadyExists"},
	} {
		var ae *APIError
		if _, err := h.p.StartExecution(c.arn, c.name, c.input); !errors.As(err, &ae) || ae.Code != c.code || strings.Contains(ae.Message, "\n") {
			t.Errorf("StartExecution(%q, %q, %q) = %v, want %s", c.arn, c.name, c.input, err, c.code)
		}
	}
	if _, ok := h.p.Execution("arn:nope"); ok {
		t.Error("found an execution that was never started")
	}
	h.p.Close()
	var ae *APIError
	if _, err := h.p.StartExecution(echoARN, "", ""); !errors.As(err, &ae) || ae.Code != "ServiceUnavailable" {
		t.Errorf("StartExecution after Close = %v", err)
	}
}

// A deletion in the embedded S3 server reaches the rules as S3's Object
// Deleted event: a rule matching it starts its state machine, the
// pipeline's (Object Created only) does not.
func TestDeletionsReachTheRulesThatMatchThem(t *testing.T) {
	deletions := map[string]any{"Type": "AWS::Events::Rule", "Properties": map[string]any{
		"EventPattern": map[string]any{"source": []any{"aws.s3"}, "detail-type": []any{"Object Deleted"}, "detail": map[string]any{"deletion-type": []any{"Permanently Deleted"}}},
		"Targets":      []any{map[string]any{"Arn": map[string]any{"Ref": "EchoMachine"}, "Id": "echo"}}}}
	asm := withResources(t, defaultAsm, map[string]any{"EchoMachine": echoMachine("edge-drop-Echo"), "Deletions": deletions})
	h := start(t, asm, Options{})
	h.put("notes.md", []byte("outside the pattern: the pipeline skips it"))
	if r := nextResult(t, h.p); r.Event.Deleted || r.StateMachine == "edge-drop-Echo" {
		t.Fatalf("the upload: %+v", r)
	}
	if _, err := h.client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: &h.bucket, Key: aws.String("notes.md")}); err != nil {
		t.Fatal(err)
	}
	r := nextResult(t, h.p)
	out, _ := json.Marshal(r.Execution.Output)
	if !r.Event.Deleted || r.Event.Key != "notes.md" || r.Rule != "Deletions" || r.StateMachine != "edge-drop-Echo" || string(out) != `{"source":"aws.s3","via":"Object Deleted"}` {
		t.Fatalf("the deletion: %+v, output %s", r, out)
	}
	select {
	case r := <-h.p.Results():
		t.Fatalf("a second execution for the deletion: %+v", r)
	default:
	}
}
