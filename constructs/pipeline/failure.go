package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// The caught error's classification, shared by the single board's
// failure path (failurePath, below) and each fleet iteration (board.go).
// Nothing on it may fail itself (a failure there ends the execution with
// States.Runtime), so every path is checked before it is read and only a
// cause shaped like a JSON object ({"...}) is parsed.

// The parsed stopped task (the cause of States.TaskFailed) lives here.
const (
	failedTask     = "$.failure.task"
	failedExitCode = failedTask + ".Containers[0].ExitCode"
	failedTaskArn  = failedTask + ".TaskArn"
)

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
			"task":      awsstepfunctions.JsonPath_StringToJson(str("$.error.Cause")),
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

// failurePath is where DownloadToBoard's Catch ($.error) leads: it says in
// one line why the object was not delivered and ends in DeliveryFailed.
//
// A task that ran and exited non-zero fails runTask.sync with
// States.TaskFailed, its cause the stopped task as DescribeTasks JSON
// (PascalCase, as the ResultSelector reads it). That JSON is parsed, and the
// container's exit code looked up in contract.ExitDescriptions: "exit 3
// unsafe_key: unsafe or invalid object key (task arn:...)". Every other
// error (placement failures after the retries, the task timeout, ECS API
// errors) keeps its name and cause.
//
// Nothing on this path may fail itself: a failure here would end the
// execution with States.Runtime instead of DeliveryFailed. So every path is
// checked before it is read (IsPresent first, as And stops at the first
// false), only a cause shaped like a JSON object ({"...}) is parsed, and
// only codes inside the table are looked up.
func failurePath(scope constructs.Construct) singleEnds {
	ends := newSingleEnds(scope)
	failed := ends.failed
	gone := anyBoardOutcome(scope, contract.StateExitGone, "Exit 4 without a report: the object is not in the bucket any more",
		contract.OutcomeGone, num(failedExitCode), str(failedTaskArn), contract.ExitNotFound.Describe()).Next(ends.gone)
	exitKnown := failureReason(scope, contract.StateDescribeExit, "An exit code of edge-drop-task: its class and meaning",
		awsstepfunctions.JsonPath_Format(at("{} (task {})"),
			awsstepfunctions.JsonPath_ArrayGetItem(list("$.failure.exitCodes"), num(failedExitCode)),
			str(failedTaskArn))).Next(failed)
	exitOther := failureReason(scope, contract.StateDescribeOtherExit, "An exit code edge-drop-task does not use (above 128: killed by signal code-128, e.g. 137 out of memory)",
		awsstepfunctions.JsonPath_Format(at("exit {}: not an edge-drop-task exit code (task {})"),
			str(failedExitCode), str(failedTaskArn))).Next(failed)
	stopped := failureReason(scope, contract.StateDescribeStopped, "The container never exited (image pull, board lost, task stopped): ECS's reason",
		awsstepfunctions.JsonPath_Format(at("task stopped without an exit code: {} (task {})"),
			str(failedTask+".StoppedReason"), str(failedTaskArn))).Next(failed)
	withCause := failureReason(scope, contract.StateDescribeError, "Any other error: its name and cause",
		awsstepfunctions.JsonPath_Format(at("{}: {}"),
			str("$.error.Error"), str("$.error.Cause"))).Next(failed)
	nameOnly := failureReason(scope, contract.StateDescribeErrorName, "An error without a cause: its name",
		str("$.error.Error")).Next(failed)

	readTask := readStoppedTask(scope, contract.StateReadStoppedTask,
		"The cause of States.TaskFailed is the stopped task as JSON; exitCodes holds contract.ExitDescriptions, indexed by code",
		contract.StateClassifyExit, exitBranches{gone: gone, known: exitKnown, other: exitOther, stopped: stopped, neither: withCause})

	ends.entry = awsstepfunctions.NewChoice(scope, at(contract.StateClassifyFailure), &awsstepfunctions.ChoiceProps{
		Comment: at("A task that ran and failed (its cause is the stopped task as JSON) or any other error"),
	}).
		When(isTaskFailure(), readTask, nil).
		When(and(causeGiven()), withCause, nil).
		Otherwise(nameOnly)
	return ends
}

// failureReason says in one line why the object was not delivered
// ($.failure.reason, which DeliveryFailed's cause reads).
func failureReason(scope constructs.Construct, id, comment string, why *string) awsstepfunctions.Pass {
	return awsstepfunctions.NewPass(scope, at(id), &awsstepfunctions.PassProps{
		Comment:    at(comment),
		Parameters: &map[string]any{"reason": why},
		ResultPath: at("$.failure"),
	})
}
