package pipeline

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/contract"
)

// taskRun is what a RunTask state runs, where and for how long.
type taskRun struct {
	cluster awsecs.ICluster
	task    *downloadtask.DownloadTask
	// launch is externallaunch's: any board (ECS picks) or a pinned one.
	launch awsstepfunctionstasks.IEcsLaunchTarget
	// environment is the task's, without the token (state adds it).
	environment []*awsstepfunctionstasks.TaskEnvironmentVariable
	timeout     time.Duration
}

// state is the Task state that runs the download task (ecs:runTask.sync)
// with the state's token: it ends with the task's report or, without
// one, when the task stops. No ResultSelector: the result at $.task is a
// Report or a stopped task.
func (r taskRun) state(scope constructs.Construct, id *string, comment string) awsstepfunctionstasks.EcsRunTask {
	return awsstepfunctionstasks.NewEcsRunTask(scope, id, &awsstepfunctionstasks.EcsRunTaskProps{
		Comment:            at(comment),
		IntegrationPattern: awsstepfunctions.IntegrationPattern_RUN_JOB, // ecs:runTask.sync
		Cluster:            r.cluster,
		TaskDefinition:     r.task.TaskDefinition,
		LaunchTarget:       r.launch,
		ContainerOverrides: &[]*awsstepfunctionstasks.ContainerOverride{{
			ContainerDefinition: r.task.Container,
			Environment:         withToken(r.environment),
		}},
		PropagatedTagSource: awsecs.PropagatedTagSource_TASK_DEFINITION,
		ResultPath:          at("$.task"),
		TaskTimeout:         awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(r.timeout.Seconds()))),
	})
}

// taskEnvironment is the delivery task's per-delivery environment: one
// object's event, or with coalescing a part's key list.
func (p Props) taskEnvironment() []*awsstepfunctionstasks.TaskEnvironmentVariable {
	if p.CoalesceWindow > 0 {
		return batchEnvironment()
	}
	return *objectEnvironment()
}

// objectEnvironment is what the task learns of the object: the event's
// fields, read from the state ($.bucket, $.key, ...).
func objectEnvironment() *[]*awsstepfunctionstasks.TaskEnvironmentVariable {
	return &[]*awsstepfunctionstasks.TaskEnvironmentVariable{
		{Name: jsii.String(contract.EnvBucket), Value: str("$.bucket")},
		{Name: jsii.String(contract.EnvKey), Value: str("$.key")},
		{Name: jsii.String(contract.EnvEventSequencer), Value: str("$.sequencer")},
		{Name: jsii.String(contract.EnvEventETag), Value: str("$.etag")},
		// Environment values are strings; the event's size is a number.
		{Name: jsii.String(contract.EnvEventSize), Value: awsstepfunctions.JsonPath_Format(jsii.String("{}"), str("$.size"))},
	}
}

// withToken is env with the state's task token added.
func withToken(env []*awsstepfunctionstasks.TaskEnvironmentVariable) *[]*awsstepfunctionstasks.TaskEnvironmentVariable {
	out := append(slices.Clone(env), taskTokenEnv())
	return &out
}

// TaskToken is the run states' environment variable with the state's task
// token ($$.Task.Token): the task sends its Report with it. The state stays
// ecs:runTask.sync, so a task that cannot report (crashed, killed, an older
// image) still ends the state when ECS reports it stopped: SendTaskSuccess
// is "used by activity workers, Task states using the callback pattern,
// and optionally Task states using the job run pattern" (Step Functions
// API reference, SendTaskSuccess), and CDK's EcsRunTask requires a token
// only for WAIT_FOR_TASK_TOKEN, allowing one with RUN_JOB
// (aws-cdk-lib 2.270.0, aws-stepfunctions-tasks/lib/ecs/run-task.js).
func taskTokenEnv() *awsstepfunctionstasks.TaskEnvironmentVariable {
	return &awsstepfunctionstasks.TaskEnvironmentVariable{
		Name: jsii.String(contract.EnvTaskToken), Value: awsstepfunctions.JsonPath_TaskToken(),
	}
}

// The task's Report, when it sent one, is the run state's result at
// $.task (SendTaskSuccess with the state's token); otherwise the result
// is the stopped task as DescribeTasks describes it.
const (
	reportStatus   = "$.task.status"
	reportSummary  = "$.task.summary"
	reportExitCode = "$.task.exitCode"
	reportSync     = "$.task.sync"
	reportFailed   = "$.task.failedKeys"
	stoppedTaskArn = "$.task.TaskArn"
	stoppedExit    = "$.task.Containers[0].ExitCode"
)

// isReport: the result has a Report's required fields, typed.
func isReport() []awsstepfunctions.Condition {
	return slices.Concat(
		present(reportStatus, awsstepfunctions.Condition_IsString),
		present(reportSummary, awsstepfunctions.Condition_IsString),
		present(reportExitCode, awsstepfunctions.Condition_IsNumeric))
}

// statusIs: the report's status is one of words.
func statusIs(words ...string) awsstepfunctions.Condition {
	var c []awsstepfunctions.Condition
	for _, w := range words {
		c = append(c, awsstepfunctions.Condition_StringEquals(jsii.String(reportStatus), jsii.String(w)))
	}
	if len(c) == 1 {
		return c[0]
	}
	return awsstepfunctions.Condition_Or(c...)
}

// isStoppedTask: the result is a stopped task with its exit code (a task
// that exited 0 without a report; any other exit fails the state).
func isStoppedTask() []awsstepfunctions.Condition {
	return slices.Concat(
		present(stoppedTaskArn, awsstepfunctions.Condition_IsString),
		present(stoppedExit, awsstepfunctions.Condition_IsNumeric))
}

// noReport is the cause of an outcome read from a zero exit code: the
// task ran and exited 0 but sent no report (an older image, or its
// SendTaskSuccess failed).
func noReport(word string) string {
	return fmt.Sprintf("%s (exit 0, the task sent no report)", word)
}

// outcome is one board's contract.Outcome as a state writes it (a sync's
// counts go beside it).
func outcome(board, instance, status, exitCode, taskArn, cause any) map[string]any {
	return map[string]any{
		"board": board, "instance": instance, "status": status,
		"exitCode": exitCode, "taskArn": taskArn, "cause": cause,
	}
}
