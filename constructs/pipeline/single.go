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
	run := taskRun{cluster: props.Cluster, task: props.Task, launch: externallaunch.New(), environment: props.taskEnvironment(), timeout: props.TaskTimeout}
	download := run.state(scope, at(contract.StateDownload), "Run the download task on the board; it ends with the task's report, or when the task stops")
	for _, r := range retries {
		download.AddRetry(r.props())
	}
	failure := failurePath(scope)
	download.AddCatch(failure.entry, &awsstepfunctions.CatchProps{
		Errors:     jsii.Strings("States.ALL"),
		ResultPath: jsii.String("$.error"),
	})

	outcome := func(id, comment string, status, exitCode, taskArn, cause any) awsstepfunctions.Pass {
		return awsstepfunctions.NewPass(scope, at(id), &awsstepfunctions.PassProps{
			Comment: at(comment),
			Parameters: &map[string]any{
				"board": "", "instance": "", // ECS picked the board
				"status": status, "exitCode": exitCode, "taskArn": taskArn, "cause": cause,
			},
			ResultPath: at("$.outcome"),
		})
	}
	reason := func(id, comment string, why *string) awsstepfunctions.Pass {
		return awsstepfunctions.NewPass(scope, at(id), &awsstepfunctions.PassProps{
			Comment: at(comment), Parameters: &map[string]any{"reason": why}, ResultPath: at("$.failure"),
		})
	}
	exitCode := num(reportExitCode)
	reported := outcome(contract.StateReportedDelivered, "The task reported the file in place (delivered, up_to_date or conflict: the words say which)",
		str(reportStatus), exitCode, nil, str(reportSummary)).Next(failure.delivered)
	reportedGone := outcome(contract.StateReportedGone, "The task reported the object gone: deleted before its delivery ran",
		contract.OutcomeGone, exitCode, nil, str(reportSummary)).Next(failure.gone)
	reportedFailed := reason(contract.StateDescribeReport, "The task reported a failure (or a status a download does not have): its summary",
		awsstepfunctions.JsonPath_Format(at("{}"), str(reportSummary))).Next(failure.failed)
	noReport := outcome(contract.StateNoReport, "The task exited 0 without a report (an older image, or the report could not be sent): delivered",
		contract.OutcomeDelivered, num(stoppedExit), str(stoppedTaskArn), noReport(contract.OutcomeDelivered)).Next(failure.delivered)
	unexpected := reason(contract.StateDescribeResult, "Neither a report nor a stopped task: the result as it is",
		awsstepfunctions.JsonPath_Format(at("the task's result is neither a report nor a stopped task: {}"),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.task"))))).Next(failure.failed)

	download.Next(awsstepfunctions.NewChoice(scope, at(contract.StateReported), &awsstepfunctions.ChoiceProps{
		Comment: at("The task's report (its words), or without one the exit code"),
	}).
		When(and(isReport(), []awsstepfunctions.Condition{statusIs(contract.OutcomeDelivered, contract.OutcomeUpToDate, contract.OutcomeConflict)}), reported, nil).
		When(and(isReport(), []awsstepfunctions.Condition{statusIs(contract.OutcomeGone)}), reportedGone, nil).
		When(and(isReport()), reportedFailed, nil).
		When(and(isStoppedTask()), noReport, nil).
		Otherwise(unexpected))
	return download
}
