package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// testdata/pipeline.asl.json is the single-board definition (deliverTo
// any) this package synthesizes, its cluster and task definition resolved
// (stacks/fleet_test.go keeps it equal to the synth).
func TestPipelineDefinition(t *testing.T) {
	m := asltest.Definition(t, "pipeline")
	event := func(key string) any { return s3Event(t, key) }
	const res = "arn:aws:states:::ecs:runTask.sync"

	t.Run("delivered", func(t *testing.T) {
		tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Result: asltest.StoppedTask(0, "Essential container in task exited")}}})
		e := m.Execute(context.Background(), event("demo-1.txt"), asl.Options{Task: tasks.Handle})
		asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
		asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,TaskReported,ExitedWithoutReport,Delivered")
		// No report (an older task): the exit code decides, in words.
		asltest.AssertJSON(t, e.Output, `{"board":"","instance":"","status":"delivered","exitCode":0,
			"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"delivered (exit 0, the task sent no report)"}`)
		env := tasks.Calls(res)[0].(map[string]any)["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
		vars := env["Environment"].([]any)
		if tok := vars[len(vars)-1].(map[string]any); tok["Name"] != "EDGE_DROP_TASK_TOKEN" || tok["Value"] == "" {
			t.Errorf("the last variable is %v, want the task token", tok)
		}
		env["Environment"] = vars[:len(vars)-1]
		asltest.AssertJSON(t, tasks.Calls(res)[0], `{
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
		e := m.Execute(context.Background(), event("notes/demo.md"), asl.Options{Task: asltest.NewTasks(nil).Handle})
		asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
		asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,Skipped")
	})

	t.Run("ECS API faults retried five times then DeliveryFailed", func(t *testing.T) {
		tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Error: "ECS.ServerException", Cause: "Service Unavailable."}}})
		sl := &asltest.Sleeps{}
		e := m.Execute(context.Background(), event("demo-9.txt"), asl.Options{Task: tasks.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 1 }})
		asltest.Equal(t, "status", e.Status, asl.StatusFailed)
		asltest.Equal(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
		asltest.Equal(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: ECS.ServerException: Service Unavailable.")
		asltest.Equal(t, "sleeps", sl.Seconds(), []float64{5, 10, 20, 40, 60})
		asltest.Equal(t, "calls", len(tasks.Calls(res)), 6)
		asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,ClassifyFailure,DescribeError,DeliveryFailed")
	})

	t.Run("ECS's catch-all error waits like a busy board, then DeliveryFailed", func(t *testing.T) {
		// In the field RunTask's capacity failures also arrive as
		// ECS.AmazonECSException: ~33 minutes of backoff, not 5 short retries.
		tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Error: "ECS.AmazonECSException", Cause: "No Container Instances were found in your cluster."}}})
		sl := &asltest.Sleeps{}
		e := m.Execute(context.Background(), event("demo-9.txt"), asl.Options{Task: tasks.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 1 }})
		asltest.Equal(t, "status", e.Status, asl.StatusFailed)
		asltest.Equal(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: ECS.AmazonECSException: No Container Instances were found in your cluster.")
		asltest.Equal(t, "sleeps", sl.Seconds(), []float64{15, 30, 60, 120, 240, 300, 300, 300, 300, 300})
		asltest.Equal(t, "calls", len(tasks.Calls(res)), 11)
	})

	t.Run("an object over the limit ends in TooLarge without a task", func(t *testing.T) {
		for _, tc := range []struct {
			size        float64
			want, state string
		}{
			{1 << 30, asl.StatusSucceeded, "DownloadToBoard,TaskReported,ExitedWithoutReport,Delivered"}, // exactly the limit is delivered
			{1<<30 + 1, asl.StatusFailed, "TooLarge"},
		} {
			ev := event("demo-big.txt").(map[string]any)
			ev["detail"].(map[string]any)["object"].(map[string]any)["size"] = tc.size
			tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Result: asltest.StoppedTask(0, "Essential container in task exited")}}})
			e := m.Execute(context.Background(), ev, asl.Options{Task: tasks.Handle})
			asltest.Equal(t, "status", e.Status, tc.want)
			asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,"+tc.state)
			if tc.state != "TooLarge" {
				continue
			}
			asltest.Equal(t, "calls", len(tasks.Calls(res)), 0)
			asltest.Equal(t, "error", e.Error, "EdgeDrop.TooLarge")
			asltest.Equal(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-big.txt is 1073741825 bytes, more than the 1073741824 bytes (maxObjectMiB=1024) a board accepts: not delivered")
		}
	})

	t.Run("task failure is not retried", func(t *testing.T) {
		tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Error: "States.TaskFailed", Cause: "task stopped: CannotPullContainerError"}}})
		sl := &asltest.Sleeps{}
		e := m.Execute(context.Background(), event("demo-9.txt"), asl.Options{Task: tasks.Handle, Sleep: sl.Sleep})
		asltest.Equal(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
		asltest.Equal(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-9.txt was not delivered: States.TaskFailed: task stopped: CannotPullContainerError")
		asltest.Equal(t, "sleeps", len(sl.Seconds()), 0)
	})
}

// The single-board pipeline ends as the task's report says, in its words.
func TestPipelineOutcomeFromTheReport(t *testing.T) {
	m := asltest.Definition(t, "pipeline")
	for _, tc := range []struct {
		report, status, path, output, err, cause string
	}{
		{report: `{"mode":"download","status":"up_to_date","exitCode":0,"summary":"up_to_date"}`, status: asl.StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedDelivered,Delivered",
			output: `{"board":"","instance":"","status":"up_to_date","exitCode":0,"cause":"up_to_date"}`},
		{report: `{"mode":"download","status":"conflict","exitCode":0,"summary":"conflict (copy kept as demo-1.sync-conflict-20261206-120000.txt)"}`, status: asl.StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedDelivered,Delivered",
			output: `{"board":"","instance":"","status":"conflict","exitCode":0,"cause":"conflict (copy kept as demo-1.sync-conflict-20261206-120000.txt)"}`},
		// Deleted before the delivery ran: not a failure, so no alarm.
		{report: `{"mode":"download","status":"gone","exitCode":4,"class":"not_found","summary":"gone"}`, status: asl.StatusSucceeded,
			path:   "DownloadToBoard,TaskReported,ReportedGone,Gone",
			output: `{"board":"","instance":"","status":"gone","exitCode":4,"cause":"gone"}`},
		{report: `{"mode":"download","status":"failed","exitCode":6,"class":"local_io","summary":"failed (exit 6 local_io: no space left on device)"}`,
			status: asl.StatusFailed, path: "DownloadToBoard,TaskReported,DescribeReportedFailure,DeliveryFailed", err: "EdgeDrop.DeliveryFailed",
			cause: "s3://edge-drop-inbox/demo-1.txt was not delivered: failed (exit 6 local_io: no space left on device)"},
	} {
		// The task sends its report with its task token, then exits
		// with the report's exit code.
		tokens := asl.NewTaskTokens()
		ecs := &asltest.ECS{Boards: []asltest.Board{{Instance: "mi-1", Attempts: []string{"report " + tc.report}}}, Tokens: tokens}
		e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Tokens: tokens})
		asltest.Equal(t, "status", e.Status, tc.status)
		asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,"+tc.path)
		if tc.output != "" {
			asltest.AssertJSON(t, e.Output, tc.output)
		}
		asltest.Equal(t, "error", e.Error, tc.err)
		asltest.Equal(t, "cause", e.Cause, tc.cause)
	}
}

// Exit 4 without a report (an older task): the object is gone, which is
// not a failure either.
func TestPipelineExitNotFoundWithoutAReportIsGone(t *testing.T) {
	m := asltest.Definition(t, "pipeline")
	cause, _ := json.Marshal(asltest.StoppedTask(4, "Essential container in task exited"))
	tasks := asltest.NewTasks(map[string][]asltest.Outcome{"arn:aws:states:::ecs:runTask.sync": {{Error: "States.TaskFailed", Cause: string(cause)}}})
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: tasks.Handle})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,ClassifyFailure,ReadStoppedTask,ClassifyExit,ExitNotFound,Gone")
	asltest.AssertJSON(t, e.Output, `{"board":"","instance":"","status":"gone","exitCode":4,
		"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"exit 4 not_found: object not found"}`)
}
