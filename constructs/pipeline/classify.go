package pipeline

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// The caught error's classification, shared by the single-board failure
// path (workflow.go) and each fleet iteration (fleet.go). Nothing on it may
// fail itself (a failure there ends the execution with States.Runtime), so
// every path is checked before it is read and only a cause shaped like a
// JSON object ({"...}) is parsed.

// The parsed stopped task (the cause of States.TaskFailed) lives here.
const (
	failedTask     = "$.failure.task"
	failedExitCode = failedTask + ".Containers[0].ExitCode"
	failedTaskArn  = failedTask + ".TaskArn"
)

// present is IsPresent then the type test: a type test on a missing path is
// a States.Runtime error, and And stops at the first false.
func present(p string, is func(*string) awsstepfunctions.Condition) []awsstepfunctions.Condition {
	return []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(jsii.String(p)), is(jsii.String(p))}
}

// and joins groups of conditions into one And.
func and(conds ...[]awsstepfunctions.Condition) awsstepfunctions.Condition {
	return awsstepfunctions.Condition_And(slices.Concat(conds...)...)
}

// causeGiven: the caught error has a non-empty string cause.
func causeGiven() []awsstepfunctions.Condition {
	return append(present("$.error.Cause", awsstepfunctions.Condition_IsString),
		awsstepfunctions.Condition_Not(awsstepfunctions.Condition_StringEquals(jsii.String("$.error.Cause"), jsii.String(""))))
}

// isTaskFailure: States.TaskFailed with the stopped task as its cause.
func isTaskFailure() awsstepfunctions.Condition {
	return and(
		[]awsstepfunctions.Condition{awsstepfunctions.Condition_StringEquals(jsii.String("$.error.Error"), jsii.String("States.TaskFailed"))},
		causeGiven(),
		[]awsstepfunctions.Condition{awsstepfunctions.Condition_StringMatches(jsii.String("$.error.Cause"), jsii.String(`{"*}`))},
	)
}

// exitBranches are where readStoppedTask's Choice leads.
type exitBranches struct {
	// gone: exit 4, the object is not there (deleted after its event):
	// nothing to deliver, not a failure.
	gone    awsstepfunctions.IChainable
	known   awsstepfunctions.IChainable // another exit code in contract.ExitDescriptions
	other   awsstepfunctions.IChainable // another exit code
	stopped awsstepfunctions.IChainable // no exit code: ECS's stop reason
	neither awsstepfunctions.IChainable // not a stopped task after all
}

// readStoppedTask parses the cause of States.TaskFailed into failedTask,
// with the table of contract.ExitDescriptions beside it (indexed by code,
// at $.failure.exitCodes), then chooses by the exit code.
func readStoppedTask(scope constructs.Construct, readID, readComment, choiceID string, to exitBranches) awsstepfunctions.IChainable {
	codes := contract.ExitDescriptions()
	return awsstepfunctions.NewPass(scope, jsii.String(readID), &awsstepfunctions.PassProps{
		Comment: jsii.String(readComment),
		Parameters: &map[string]any{
			"task":      awsstepfunctions.JsonPath_StringToJson(awsstepfunctions.JsonPath_StringAt(jsii.String("$.error.Cause"))),
			"exitCodes": codes,
		},
		ResultPath: jsii.String("$.failure"),
	}).Next(awsstepfunctions.NewChoice(scope, jsii.String(choiceID), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Which exit code, if any"),
	}).
		When(and(
			present(failedTaskArn, awsstepfunctions.Condition_IsString),
			present(failedExitCode, awsstepfunctions.Condition_IsNumeric),
			[]awsstepfunctions.Condition{awsstepfunctions.Condition_NumberEquals(jsii.String(failedExitCode), jsii.Number(float64(contract.ExitNotFound)))},
		), to.gone, nil).
		When(and(
			present(failedTaskArn, awsstepfunctions.Condition_IsString),
			present(failedExitCode, awsstepfunctions.Condition_IsNumeric),
			[]awsstepfunctions.Condition{
				awsstepfunctions.Condition_NumberGreaterThanEquals(jsii.String(failedExitCode), jsii.Number(0)),
				awsstepfunctions.Condition_NumberLessThanEquals(jsii.String(failedExitCode), jsii.Number(len(codes)-1)),
			},
		), to.known, nil).
		When(and(
			present(failedTaskArn, awsstepfunctions.Condition_IsString),
			present(failedExitCode, awsstepfunctions.Condition_IsNumeric),
		), to.other, nil).
		When(and(
			present(failedTaskArn, awsstepfunctions.Condition_IsString),
			present(failedTask+".StoppedReason", awsstepfunctions.Condition_IsString),
		), to.stopped, nil).
		Otherwise(to.neither))
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

// noReport is the cause of an outcome read from a zero exit code: the
// task ran and exited 0 but sent no report (an older image, or its
// SendTaskSuccess failed).
func noReport(word string) string {
	return fmt.Sprintf("%s (exit 0, the task sent no report)", word)
}
