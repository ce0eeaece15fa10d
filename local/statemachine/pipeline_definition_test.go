package statemachine

import (
	"context"
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
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard")
		assertJSON(t, e.Output, `{"bucket":"edge-drop-inbox","key":"demo-1.txt","size":5,"etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"00617F08299329D189",
			"task":{"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","exitCode":0,"stopReason":"Essential container in task exited"}}`)
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
			{1 << 30, StatusSucceeded, "DownloadToBoard"}, // exactly the limit is delivered
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
