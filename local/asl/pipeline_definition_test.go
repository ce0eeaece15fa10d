package asl

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func loadPipeline(t *testing.T) *Machine {
	t.Helper()
	def, err := os.ReadFile("testdata/pipeline.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// s3Event is testdata/s3-object-created.json (the EventBridge event of an
// upload) for another key.
func s3Event(t *testing.T, key string) any {
	t.Helper()
	ev, err := os.ReadFile("testdata/s3-object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	return js(t, strings.Replace(string(ev), `"demo-1.txt"`, `"`+key+`"`, 1))
}

func ecsResult(exit int, reason string) map[string]any {
	return map[string]any{
		"Containers":    []any{map[string]any{"Name": "task", "ExitCode": exit, "LastStatus": "STOPPED"}},
		"StoppedReason": reason,
		"LastStatus":    "STOPPED",
		"TaskArn":       "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef",
	}
}

// testdata/pipeline.asl.json mirrors the definition that
// constructs/pipeline synthesizes (see stacks/pipeline_test.go), with the
// CloudFormation expressions resolved.
func TestPipelineDefinition(t *testing.T) {
	m := loadPipeline(t)
	event := func(key string) any { return s3Event(t, key) }
	const res = "arn:aws:states:::ecs:runTask.sync"

	t.Run("delivered", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Result: ecsResult(0, "Essential container in task exited")}}})
		e := m.Execute(context.Background(), event("demo-1.txt"), Options{Task: tasks.handler})
		assertEqual(t, "status", e.Status, StatusSucceeded)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,TaskReported,ExitedWithoutReport,Delivered")
		// No report (an older task): the exit code decides, in words.
		assertJSON(t, e.Output, `{"board":"","instance":"","status":"delivered","exitCode":0,
			"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"delivered (exit 0, the task sent no report)"}`)
		env := tasks.params[res][0].(map[string]any)["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
		vars := env["Environment"].([]any)
		if tok := vars[len(vars)-1].(map[string]any); tok["Name"] != "EDGE_DROP_TASK_TOKEN" || tok["Value"] == "" {
			t.Errorf("the last variable is %v, want the task token", tok)
		}
		env["Environment"] = vars[:len(vars)-1]
		assertJSON(t, tasks.params[res][0], `{
			"Cluster":"arn:aws:ecs:eu-west-1:123456789012:cluster/EdgeDrop-Cluster:edge-drop",
			"TaskDefinition":"arn:aws:ecs:eu-west-1:123456789012:task-definition/EdgeDropPipelineDownloadTaskTaskDefinition:1",
			"PropagateTags":"TASK_DEFINITION","LaunchType":"EXTERNAL",
			"Overrides":{"ContainerOverrides":[{"Name":"download","Environment":[
				{"Name":"EDGE_DROP_BUCKET","Value":"edge-drop-inbox"},{"Name":"EDGE_DROP_KEY","Value":"demo-1.txt"},
				{"Name":"EDGE_DROP_EVENT_SEQUENCER","Value":"00617F08299329D189"},
				{"Name":"EDGE_DROP_EVENT_ETAG","Value":"b1946ac92492d2347c6235b4d2611184"},
				{"Name":"EDGE_DROP_EVENT_SIZE","Value":"5"}]}]}}`)
	})

	t.Run("skipped", func(t *testing.T) {
		e := m.Execute(context.Background(), event("notes/demo.md"), Options{Task: newScripted(nil).handler})
		assertEqual(t, "status", e.Status, StatusSucceeded)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,Skipped")
	})

	t.Run("ECS API faults retried five times then DeliveryFailed", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Error: "ECS.ServerException", Cause: "Service Unavailable."}}})
		sl := &fakeSleep{}
		e := m.Execute(context.Background(), event("demo-9.txt"), Options{Task: tasks.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
		assertEqual(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: ECS.ServerException: Service Unavailable.")
		assertEqual(t, "sleeps", sl.seconds(), []float64{5, 10, 20, 40, 60})
		assertEqual(t, "calls", len(tasks.params[res]), 6)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,ClassifyFailure,DescribeError,DeliveryFailed")
	})

	t.Run("ECS's catch-all error waits like a busy board, then DeliveryFailed", func(t *testing.T) {
		// In the field RunTask's capacity failures also arrive as
		// ECS.AmazonECSException: ~33 minutes of backoff, not 5 short retries.
		tasks := newScripted(map[string][]outcome{res: {{Error: "ECS.AmazonECSException", Cause: "No Container Instances were found in your cluster."}}})
		sl := &fakeSleep{}
		e := m.Execute(context.Background(), event("demo-9.txt"), Options{Task: tasks.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: ECS.AmazonECSException: No Container Instances were found in your cluster.")
		assertEqual(t, "sleeps", sl.seconds(), []float64{15, 30, 60, 120, 240, 300, 300, 300, 300, 300})
		assertEqual(t, "calls", len(tasks.params[res]), 11)
	})

	t.Run("an object over the limit ends in TooLarge without a task", func(t *testing.T) {
		for _, tc := range []struct {
			size        float64
			want, state string
		}{
			{1 << 30, StatusSucceeded, "DownloadToBoard,TaskReported,ExitedWithoutReport,Delivered"}, // exactly the limit is delivered
			{1<<30 + 1, StatusFailed, "TooLarge"},
		} {
			ev := event("demo-big.txt").(map[string]any)
			ev["detail"].(map[string]any)["object"].(map[string]any)["size"] = tc.size
			tasks := newScripted(map[string][]outcome{res: {{Result: ecsResult(0, "Essential container in task exited")}}})
			e := m.Execute(context.Background(), ev, Options{Task: tasks.handler})
			assertEqual(t, "status", e.Status, tc.want)
			assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,"+tc.state)
			if tc.state != "TooLarge" {
				continue
			}
			assertEqual(t, "calls", len(tasks.params[res]), 0)
			assertEqual(t, "error", e.Error, "EdgeDrop.TooLarge")
			assertEqual(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-big.txt is 1073741825 bytes, more than the 1073741824 bytes (maxObjectMiB=1024) a board accepts: not delivered")
		}
	})

	t.Run("task failure is not retried", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Error: "States.TaskFailed", Cause: "task stopped: CannotPullContainerError"}}})
		sl := &fakeSleep{}
		e := m.Execute(context.Background(), event("demo-9.txt"), Options{Task: tasks.handler, Sleep: sl.sleep})
		assertEqual(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
		assertEqual(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: States.TaskFailed: task stopped: CannotPullContainerError")
		assertEqual(t, "sleeps", len(sl.seconds()), 0)
	})
}

// reporting is a runTask.sync handler for a task that sends report with
// its task token, then exits with the report's exit code.
func reporting(t *testing.T, tokens *TaskTokens, report string) TaskHandler {
	return func(_ context.Context, _ string, params any) (any, error) {
		o := params.(map[string]any)["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
		token := ""
		for _, e := range o["Environment"].([]any) {
			if e.(map[string]any)["Name"] == "EDGE_DROP_TASK_TOKEN" {
				token = e.(map[string]any)["Value"].(string)
			}
		}
		if err := tokens.SendTaskSuccess(token, report); err != nil {
			t.Errorf("SendTaskSuccess: %v", err)
		}
		var r struct{ ExitCode int }
		_ = json.Unmarshal([]byte(report), &r)
		if r.ExitCode != 0 {
			cause, _ := json.Marshal(ecsResult(r.ExitCode, "Essential container in task exited"))
			return nil, &Error{Name: ErrTaskFailed, Cause: string(cause)}
		}
		return ecsResult(0, "Essential container in task exited"), nil
	}
}

// The single-board pipeline ends as the task's report says, in its words.
func TestPipelineOutcomeFromTheReport(t *testing.T) {
	m := loadPipeline(t)
	for _, tc := range []struct {
		report, status, path, output, err, cause string
	}{
		{report: `{"mode":"download","status":"up_to_date","exitCode":0,"summary":"up_to_date"}`, status: StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedDelivered,Delivered",
			output: `{"board":"","instance":"","status":"up_to_date","exitCode":0,"cause":"up_to_date"}`},
		{report: `{"mode":"download","status":"conflict","exitCode":0,"summary":"conflict (copy kept as demo-1.sync-conflict-20261206-120000.txt)"}`, status: StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedDelivered,Delivered",
			output: `{"board":"","instance":"","status":"conflict","exitCode":0,"cause":"conflict (copy kept as demo-1.sync-conflict-20261206-120000.txt)"}`},
		// Deleted before the delivery ran: not a failure, so no alarm.
		{report: `{"mode":"download","status":"gone","exitCode":4,"class":"not_found","summary":"gone"}`, status: StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedGone,Gone",
			output: `{"board":"","instance":"","status":"gone","exitCode":4,"cause":"gone"}`},
		{report: `{"mode":"download","status":"failed","exitCode":6,"class":"local_io","summary":"failed (exit 6 local_io: no space left on device)"}`,
			status: StatusFailed, path: "DownloadToBoard,TaskReported,DescribeReportedFailure,DeliveryFailed", err: "EdgeDrop.DeliveryFailed",
			cause: "s3://edge-drop-inbox/demo-1.txt was not delivered: failed (exit 6 local_io: no space left on device)"},
	} {
		tokens := NewTaskTokens()
		e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: reporting(t, tokens, tc.report), Tokens: tokens})
		assertEqual(t, "status", e.Status, tc.status)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,"+tc.path)
		if tc.output != "" {
			assertJSON(t, e.Output, tc.output)
		}
		assertEqual(t, "error", e.Error, tc.err)
		assertEqual(t, "cause", e.Cause, tc.cause)
	}
}

// Exit 4 without a report (an older task): the object is gone, which is
// not a failure either.
func TestPipelineExitNotFoundWithoutAReportIsGone(t *testing.T) {
	m := loadPipeline(t)
	cause, _ := json.Marshal(ecsResult(4, "Essential container in task exited"))
	tasks := newScripted(map[string][]outcome{"arn:aws:states:::ecs:runTask.sync": {{Error: "States.TaskFailed", Cause: string(cause)}}})
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: tasks.handler})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,ClassifyFailure,ReadStoppedTask,ClassifyExit,ExitNotFound,Gone")
	assertJSON(t, e.Output, `{"board":"","instance":"","status":"gone","exitCode":4,
		"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"exit 4 not_found: object not found"}`)
}
