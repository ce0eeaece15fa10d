package statemachine

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The edge-drop definition shape: Extract (Pass) → MatchesPattern? (Choice)
// → RunTask (ecs:runTask.sync with Parameters/ResultSelector/Retry/Catch)
// → ExitCode? → Succeeded | NonZeroExit | TaskFailed.

func loadEdgeDrop(t *testing.T) (*Machine, func(key string) any) {
	t.Helper()
	def, err := os.ReadFile("testdata/edge-drop.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := os.ReadFile("testdata/s3-object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	event := func(key string) any {
		return js(t, strings.Replace(string(ev), `"demo-1.txt"`, `"`+key+`"`, 1))
	}
	return m, event
}

func ecsResult(exit int, reason string) map[string]any {
	return map[string]any{
		"Containers":    []any{map[string]any{"Name": "task", "ExitCode": exit, "LastStatus": "STOPPED"}},
		"StoppedReason": reason,
		"LastStatus":    "STOPPED",
		"TaskArn":       "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef",
	}
}

func TestEdgeDropDefinition(t *testing.T) {
	m, event := loadEdgeDrop(t)
	const res = "arn:aws:states:::ecs:runTask.sync"

	t.Run("matching key runs the task and succeeds", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Result: ecsResult(0, "Essential container in task exited")}}})
		e := m.Execute(context.Background(), event("demo-1.txt"), Options{Task: tasks.handler})
		assertEqual(t, "status", e.Status, StatusSucceeded)
		assertEqual(t, "path", pathNames(e), "Extract,MatchesPattern?,RunTask,ExitCode?,Succeeded")
		assertJSON(t, e.Output, `{"bucket":"edge-drop-inbox","key":"demo-1.txt","size":5,"etag":"b1946ac92492d2347c6235b4d2611184",
			"task":{"exitCode":0,"stopReason":"Essential container in task exited"}}`)
		if len(tasks.params[res]) != 1 {
			t.Fatalf("task called %d times", len(tasks.params[res]))
		}
		assertJSON(t, tasks.params[res][0], `{
			"Cluster":"arn:aws:ecs:eu-west-1:123456789012:cluster/edge-drop",
			"TaskDefinition":"arn:aws:ecs:eu-west-1:123456789012:task-definition/edgedrop-task:3",
			"LaunchType":"EXTERNAL",
			"Overrides":{"ContainerOverrides":[{"Name":"task","Environment":[
				{"Name":"EDGE_DROP_BUCKET","Value":"edge-drop-inbox"},
				{"Name":"EDGE_DROP_KEY","Value":"demo-1.txt"},
				{"Name":"EDGE_DROP_ETAG","Value":"b1946ac92492d2347c6235b4d2611184"}]}]}}`)
	})

	t.Run("non-matching key is skipped without running the task", func(t *testing.T) {
		for _, key := range []string{"report.csv", "demo-1.txt.tmp", "x/demo-1.txt", "Demo-1.txt"} {
			tasks := newScripted(nil)
			e := m.Execute(context.Background(), event(key), Options{Task: tasks.handler})
			assertEqual(t, "status "+key, e.Status, StatusSucceeded)
			assertEqual(t, "path "+key, pathNames(e), "Extract,MatchesPattern?,Skipped")
			assertEqual(t, "calls "+key, len(tasks.params), 0)
		}
	})

	t.Run("transient ECS errors are retried with capped full-jitter backoff", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {
			{Error: "ECS.AmazonECSException", Cause: "capacity"},
			{Error: "ECS.ThrottlingException", Cause: "slow down"},
			{Result: ecsResult(0, "done")},
		}})
		sl := &fakeSleep{}
		var retries []int
		e := m.Execute(context.Background(), event("demo-2.txt"), Options{Task: tasks.handler, Sleep: sl.sleep,
			Rand: func() float64 { return 0.25 },
			Observer: func(ev Event) {
				if ev.Kind == EventRetryScheduled {
					retries = append(retries, ev.Attempt)
				}
			}})
		assertEqual(t, "status", e.Status, StatusSucceeded)
		// 5*2^0=5, 5*2^1=10, scaled by the jitter 0.25.
		assertEqual(t, "sleeps", sl.seconds(), []float64{1.25, 2.5})
		assertEqual(t, "retry attempts", retries, []int{2, 3})
		assertEqual(t, "attempts", e.Path[2].Attempts, 3)
	})

	t.Run("retries exhausted are caught and fail with the task's error", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Error: "ECS.ServerException", Cause: "500"}}})
		sl := &fakeSleep{}
		e := m.Execute(context.Background(), event("demo-3.txt"), Options{Task: tasks.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "error", e.Error, "ECS.ServerException")
		assertEqual(t, "cause", e.Cause, "500")
		assertEqual(t, "sleeps", sl.seconds(), []float64{5, 10, 20})
		assertEqual(t, "path", pathNames(e), "Extract,MatchesPattern?,RunTask,TaskFailed")
		assertEqual(t, "calls", len(tasks.params[res]), 4)
	})

	t.Run("non-retriable handler error is caught immediately", func(t *testing.T) {
		calls := 0
		e := m.Execute(context.Background(), event("demo-4.txt"), Options{Task: func(context.Context, string, any) (any, error) {
			calls++
			return nil, os.ErrPermission
		}})
		assertEqual(t, "calls", calls, 1)
		assertEqual(t, "error", e.Error, ErrTaskFailed)
		assertEqual(t, "cause", e.Cause, "permission denied")
	})

	t.Run("non-zero exit code fails with a formatted cause", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Result: ecsResult(3, "Essential container in task exited")}}})
		e := m.Execute(context.Background(), event("demo-5.txt"), Options{Task: tasks.handler})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "error", e.Error, "TaskExitedNonZero")
		assertEqual(t, "cause", e.Cause, "task for s3://edge-drop-inbox/demo-5.txt exited with code 3: Essential container in task exited")
		assertEqual(t, "path", pathNames(e), "Extract,MatchesPattern?,RunTask,ExitCode?,NonZeroExit")
	})

	t.Run("malformed ECS result is a States.Runtime failure", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Result: map[string]any{"StoppedReason": "x"}}}})
		e := m.Execute(context.Background(), event("demo-6.txt"), Options{Task: tasks.handler})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "error", e.Error, ErrRuntime)
		if !strings.Contains(e.Cause, "$.Containers[0].ExitCode") || !strings.Contains(e.Cause, "RunTask") {
			t.Errorf("cause %q should name the path and the state", e.Cause)
		}
	})
}

// testdata/pipeline.asl.json mirrors the definition that
// constructs/pipeline synthesizes (see stacks/pipeline_test.go), with the
// CloudFormation expressions resolved.
func TestPipelineDefinition(t *testing.T) {
	def, err := os.ReadFile("testdata/pipeline.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	_, event := loadEdgeDrop(t)
	const res = "arn:aws:states:::ecs:runTask.sync"

	t.Run("delivered", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Result: ecsResult(0, "Essential container in task exited")}}})
		e := m.Execute(context.Background(), event("demo-1.txt"), Options{Task: tasks.handler})
		assertEqual(t, "status", e.Status, StatusSucceeded)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,DownloadToBoard")
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

	t.Run("ECS API errors retried five times then DeliveryFailed", func(t *testing.T) {
		tasks := newScripted(map[string][]outcome{res: {{Error: "ECS.AmazonECSException", Cause: "No Container Instances were found in your cluster."}}})
		sl := &fakeSleep{}
		e := m.Execute(context.Background(), event("demo-9.txt"), Options{Task: tasks.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
		assertEqual(t, "status", e.Status, StatusFailed)
		assertEqual(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
		assertEqual(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: ECS.AmazonECSException: No Container Instances were found in your cluster.")
		assertEqual(t, "sleeps", sl.seconds(), []float64{5, 10, 20, 40, 60})
		assertEqual(t, "calls", len(tasks.params[res]), 6)
		assertEqual(t, "path", pathNames(e), "Extract,KeyMatchesPattern,DownloadToBoard,ClassifyFailure,DescribeError,DeliveryFailed")
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
