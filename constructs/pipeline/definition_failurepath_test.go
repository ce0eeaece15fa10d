package pipeline_test

import (
	"context"
	"testing"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// DeliveryFailed's cause, through the synthesized definition's failure
// path (testdata/pipeline.asl.json; stacks/pipeline_test.go asserts the
// same states in the template).
func TestPipelineFailurePath(t *testing.T) {
	m := asltest.Definition(t, "pipeline")
	const res = "arn:aws:states:::ecs:runTask.sync"

	// Every way DownloadToBoard can fail ends in DeliveryFailed with one
	// readable line, never in a failure of the failure path itself.
	const arn = "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef"
	stoppedTask := func(containers string) string {
		return `{"TaskArn":"` + arn + `","LastStatus":"STOPPED","StopCode":"EssentialContainerExited","StoppedReason":"Essential container in task exited","Containers":` + containers + `}`
	}
	for _, tc := range []struct {
		name, error, cause, want, path string
	}{
		// On AWS, runTask.sync fails with States.TaskFailed when an essential
		// container exits non-zero; the cause is the stopped task as JSON
		// (local/ecstask reports a non-zero exit the same way).
		{"an exit code of the task: class and words", "States.TaskFailed", stoppedTask(`[{"Name":"download","ExitCode":3}]`),
			"exit 3 unsafe_key: unsafe or invalid object key (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeExitCode"},
		{"the largest exit code", "States.TaskFailed", stoppedTask(`[{"Name":"download","ExitCode":10}]`),
			"exit 10 too_large: object larger than the board accepts (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeExitCode"},
		{"a number no code uses", "States.TaskFailed", stoppedTask(`[{"Name":"download","ExitCode":1}]`),
			"exit 1 code_1: unknown exit code (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeExitCode"},
		{"outside the table: killed by the OOM killer", "States.TaskFailed", stoppedTask(`[{"Name":"download","ExitCode":137}]`),
			"exit 137: not an edge-drop-task exit code (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeOtherExitCode"},
		{"negative", "States.TaskFailed", stoppedTask(`[{"Name":"download","ExitCode":-1}]`),
			"exit -1: not an edge-drop-task exit code (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeOtherExitCode"},
		{"no exit code: the image was not pulled", "States.TaskFailed",
			`{"TaskArn":"` + arn + `","StoppedReason":"CannotPullContainerError: pull access denied","Containers":[{"Name":"download","Reason":"CannotPullContainerError"}]}`,
			"task stopped without an exit code: CannotPullContainerError: pull access denied (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeStoppedTask"},
		{"no containers", "States.TaskFailed", stoppedTask(`[]`),
			"task stopped without an exit code: Essential container in task exited (task " + arn + ")", "ReadStoppedTask,ClassifyExit,DescribeStoppedTask"},
		{"an exit code that is not a number", "States.TaskFailed", `{"TaskArn":"` + arn + `","Containers":[{"ExitCode":"3"}]}`,
			`States.TaskFailed: {"TaskArn":"` + arn + `","Containers":[{"ExitCode":"3"}]}`, "ReadStoppedTask,ClassifyExit,DescribeError"},
		{"JSON without the task", "States.TaskFailed", `{"Failures":[]}`,
			`States.TaskFailed: {"Failures":[]}`, "ReadStoppedTask,ClassifyExit,DescribeError"},
		{"a cause that is not JSON", "States.TaskFailed", "task stopped: CannotPullContainerError",
			"States.TaskFailed: task stopped: CannotPullContainerError", "DescribeError"},
		{"a cause in braces that is not a JSON object", "States.TaskFailed", "{oops}",
			"States.TaskFailed: {oops}", "DescribeError"},
		{"the task timed out", "States.Timeout", "The task 'DownloadToBoard' exceeded its TimeoutSeconds of 1800",
			"States.Timeout: The task 'DownloadToBoard' exceeded its TimeoutSeconds of 1800", "DescribeError"},
		{"an error without a cause", "States.Timeout", "", "States.Timeout", "DescribeErrorName"},
		{"a JSON cause of another error", "ECS.AccessDeniedException", `{"Message":"not authorized"}`,
			`ECS.AccessDeniedException: {"Message":"not authorized"}`, "DescribeError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tasks := asltest.NewTasks(map[string][]asltest.Outcome{res: {{Error: tc.error, Cause: tc.cause}}})
			e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: tasks.Handle})
			asltest.Equal(t, "status", e.Status, asl.StatusFailed)
			asltest.Equal(t, "error", e.Error, "EdgeDrop.DeliveryFailed")
			asltest.Equal(t, "cause", e.Cause, "s3://edge-drop-inbox/demo-1.txt was not delivered: "+tc.want)
			asltest.Equal(t, "path", asltest.PathNames(e), "Extract,KeyMatchesPattern,SizeWithinLimit,DownloadToBoard,ClassifyFailure,"+tc.path+",DeliveryFailed")
			asltest.Equal(t, "calls", len(tasks.Calls(res)), 1)
		})
	}
}
