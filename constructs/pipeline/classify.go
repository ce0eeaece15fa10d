package pipeline

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
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
	known   awsstepfunctions.IChainable // an exit code in contract.ExitDescriptions
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
