package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/contract"
)

// oneBoard is the "any" target: one RunTask without constraints (ECS picks
// the board), then the outcome: Delivered or Gone (succeeded, the output
// is the outcome) or DeliveryFailed.
func oneBoard(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	run := taskRun{
		cluster: props.Cluster, task: props.Task, launch: externallaunch.New(),
		environment: props.taskEnvironment(), timeout: props.TaskTimeout,
	}
	download := run.state(scope, at(contract.StateDownload), "Run the download task on the board; it ends with the task's report, or when the task stops")
	for _, r := range retries {
		download.AddRetry(r.props())
	}
	ends := failurePath(scope)
	download.AddCatch(ends.entry, &awsstepfunctions.CatchProps{
		Errors:     jsii.Strings("States.ALL"),
		ResultPath: at("$.error"),
	})
	download.Next(reported(scope, ends))
	return download
}

// reported reads the task's result: its report (in its words), or
// without one its exit 0.
func reported(scope constructs.Construct, ends singleEnds) awsstepfunctions.Choice {
	exitCode := num(reportExitCode)
	inPlace := anyBoardOutcome(scope, contract.StateReportedDelivered, "The task reported the file in place (delivered, up_to_date or conflict: the words say which)",
		str(reportStatus), exitCode, nil, str(reportSummary)).Next(ends.delivered)
	gone := anyBoardOutcome(scope, contract.StateReportedGone, "The task reported the object gone: deleted before its delivery ran",
		contract.OutcomeGone, exitCode, nil, str(reportSummary)).Next(ends.gone)
	failed := failureReason(scope, contract.StateDescribeReport, "The task reported a failure (or a status a download does not have): its summary",
		awsstepfunctions.JsonPath_Format(at("{}"), str(reportSummary))).Next(ends.failed)
	exitZero := anyBoardOutcome(scope, contract.StateNoReport, "The task exited 0 without a report (an older image, or the report could not be sent): delivered",
		contract.OutcomeDelivered, num(stoppedExit), str(stoppedTaskArn), noReport(contract.OutcomeDelivered)).Next(ends.delivered)
	unexpected := failureReason(scope, contract.StateDescribeResult, "Neither a report nor a stopped task: the result as it is",
		awsstepfunctions.JsonPath_Format(at("the task's result is neither a report nor a stopped task: {}"),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.task"))))).Next(ends.failed)

	return awsstepfunctions.NewChoice(scope, at(contract.StateReported), &awsstepfunctions.ChoiceProps{
		Comment: at("The task's report (its words), or without one the exit code"),
	}).
		When(and(isReport(), []awsstepfunctions.Condition{statusIs(contract.OutcomeDelivered, contract.OutcomeUpToDate, contract.OutcomeConflict)}), inPlace, nil).
		When(and(isReport(), []awsstepfunctions.Condition{statusIs(contract.OutcomeGone)}), gone, nil).
		When(and(isReport()), failed, nil).
		When(and(isStoppedTask()), exitZero, nil).
		Otherwise(unexpected)
}

// anyBoardOutcome is the outcome ($.outcome) of a delivery to the board
// ECS picked: no state knows its name.
func anyBoardOutcome(scope constructs.Construct, id, comment string, status, exitCode, taskArn, cause any) awsstepfunctions.Pass {
	return awsstepfunctions.NewPass(scope, at(id), &awsstepfunctions.PassProps{
		Comment:    at(comment),
		Parameters: ptr(outcome("", "", status, exitCode, taskArn, cause)),
		ResultPath: at("$.outcome"),
	})
}

// singleEnds are the single-board pipeline's ends, and the entry of its
// failure path (DownloadToBoard's Catch).
type singleEnds struct {
	entry           awsstepfunctions.IChainable
	failed          awsstepfunctions.Fail
	delivered, gone awsstepfunctions.Succeed
}

// newSingleEnds are DeliveryFailed (the cause names the object and why),
// Delivered and Gone (the output is the outcome).
func newSingleEnds(scope constructs.Construct) singleEnds {
	return singleEnds{
		failed: awsstepfunctions.NewFail(scope, at(contract.StateFailed), &awsstepfunctions.FailProps{
			Comment: at("The task failed or could not start; the cause names the object and why"),
			Error:   at(contract.ErrDeliveryFailed),
			CausePath: awsstepfunctions.JsonPath_Format(at("s3://{}/{} was not delivered: {}"),
				str("$.bucket"),
				str("$.key"),
				str("$.failure.reason")),
		}),
		delivered: awsstepfunctions.NewSucceed(scope, at(contract.StateDelivered), &awsstepfunctions.SucceedProps{
			Comment:    at("The file is on the board; the output is the outcome (delivered, up_to_date or conflict)"),
			OutputPath: at("$.outcome"),
		}),
		gone: awsstepfunctions.NewSucceed(scope, at(contract.StateGone), &awsstepfunctions.SucceedProps{
			Comment:    at("The object was deleted before its delivery ran: nothing to deliver, not a failure"),
			OutputPath: at("$.outcome"),
		}),
	}
}
