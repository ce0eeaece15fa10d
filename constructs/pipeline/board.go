package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/contract"
)

// deliverToOneBoard is one iteration: the task pinned to the board, then
// the board's outcome, from the task's report or, without one, its exit
// code. Every failure is caught here, so the Map always completes and
// lists every board.
//
// A busy or offline board (OfflineErrors) is tried again until offlineWait
// has passed: the guarantee is that a board back at any time within
// offlineWait gets its task. Step Functions' FULL jitter draws each wait
// from [0, computed], so retries with it may wait close to nothing in
// total. Instead: the first failure (or an ECS fault) waits a random 0-15 s
// (SpreadBoardRetries, WaitForBoard: executions that failed together do
// not retry together, so a busy board that frees a slot is not met by all
// of them at once), then RetryDeliverToBoard retries without jitter, as
// many times as its least (= only) total wait needs to cover offlineWait.
// Retries, not a Wait loop, keep each retry at 3 history events (a loop
// costs 11), which is what bounds the fleet (FleetTiming.MaxFleet).
func deliverToOneBoard(scope constructs.Construct, props FanOutProps) awsstepfunctions.IChainable {
	o := &boardOutcomes{scope: scope, prefix: props.Prefix,
		board: awsstepfunctions.JsonPath_ArrayGetItem(list("$.names"), jsii.Number(0))}
	run, again, spread := boardTasks(scope, props)
	result := reportedOutcome(o, props)
	classify := failureOutcome(o, props)
	catchAll := &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: at("$.error")}
	run.AddCatch(classify, catchAll)
	again.AddCatch(classify, catchAll)
	run.Next(result)
	spread.Next(again).Next(result)
	unnamed := awsstepfunctions.NewPass(scope, props.name(contract.StateUnnamedBoard), &awsstepfunctions.PassProps{
		Comment: at("Not a board: no " + contract.AttrBoard + " attribute; its instance id stands for the name"),
		Parameters: ptr(outcome(str("$.instance"), str("$.instance"), contract.OutcomeFailed, nil, nil,
			"the container instance has no "+contract.AttrBoard+" attribute: name it (make register prints the put-attributes command)")),
	})
	if props.Ledger.enabled() {
		record := recordOutcome(scope, props.Prefix, props.Ledger, props.record)
		for _, o := range append(o.states, unnamed) {
			o.Next(record)
		}
	}
	return awsstepfunctions.NewChoice(scope, props.name(contract.StateBoardIsNamed), &awsstepfunctions.ChoiceProps{
		Comment: at("A group member without a board name gets no task: its outcome says why"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.names[0]")), run, nil).
		Otherwise(unnamed)
}

// boardOutcomes makes the Pass states whose output is a board's Outcome
// and remembers them (the ledger records after each).
type boardOutcomes struct {
	scope  constructs.Construct
	prefix string
	board  *string
	states []awsstepfunctions.Pass
}

func (o *boardOutcomes) with(id, comment string, status, exitCode, taskArn, cause any, extra map[string]any) awsstepfunctions.Pass {
	params := outcome(o.board, str("$.instance"), status, exitCode, taskArn, cause)
	maps.Copy(params, extra)
	p := awsstepfunctions.NewPass(o.scope, at(o.prefix+id), &awsstepfunctions.PassProps{Comment: at(comment), Parameters: &params})
	o.states = append(o.states, p)
	return p
}

func (o *boardOutcomes) outcome(id, comment string, status, exitCode, taskArn, cause any) awsstepfunctions.Pass {
	return o.with(id, comment, status, exitCode, taskArn, cause, nil)
}

// boardTasks are the task pinned to the board (run), its retry until
// offlineWait has passed (again) and the spread wait before it; the chain
// spread → again is returned as spread.
func boardTasks(scope constructs.Construct, props FanOutProps) (run, again awsstepfunctionstasks.EcsRunTask, spread awsstepfunctions.Chain) {
	task := taskRun{cluster: props.Cluster, task: props.Task, launch: externallaunch.NewPinned("$.instance"), environment: props.Environment, timeout: props.Timing.TaskTimeout}
	run = task.state(scope, props.name(contract.StateDeliverBoard), "Run the task on this board only; it ends with the task's report, or when the task stops")
	again = task.state(scope, props.name(contract.StateRetryBoard), "The board was busy or offline: try again until offlineWait has passed (no jitter: the waits add up to it)")
	for _, r := range props.Timing.retries() {
		again.AddRetry(r.props())
	}
	spreadPass := awsstepfunctions.NewPass(scope, props.name(contract.StateSpreadRetries), &awsstepfunctions.PassProps{
		Comment: at(fmt.Sprintf("Busy, offline or ECS throttled: a random 0-%d s first wait, so that executions that failed together retry apart", int(offlineSpread.Seconds()))),
		Parameters: &map[string]any{
			"seconds": awsstepfunctions.JsonPath_MathRandom(jsii.Number(0), jsii.Number(offlineSpread.Seconds())),
		},
		ResultPath: at("$.spread"),
	})
	wait := awsstepfunctions.NewWait(scope, props.name(contract.StateWaitForBoard), &awsstepfunctions.WaitProps{
		Comment: at("The spread wait"),
		Time:    awsstepfunctions.WaitTime_SecondsPath(at("$.spread.seconds")),
	})
	// ECS faults and throttling go the same way: RetryDeliverToBoard
	// retries them, so DeliverToBoard needs no Retry of its own.
	run.AddCatch(spreadPass, &awsstepfunctions.CatchProps{Errors: jsii.Strings(slices.Concat(OfflineErrors, APIFaultErrors)...), ResultPath: at("$.error")})

	return run, again, spreadPass.Next(wait)
}

// reportedOutcome reads the task's result: its report (in its words), or
// without one the stopped task's exit 0.
func reportedOutcome(o *boardOutcomes, props FanOutProps) awsstepfunctions.Choice {
	exitZero := props.ExitZero
	if exitZero == "" {
		exitZero = contract.OutcomeDelivered
	}
	// The task reported: its words. A failed sync names its first failed
	// keys (at most contract.MaxReportedKeys), so the cause is readable
	// without the task's log.
	exitCode := num(reportExitCode)
	withKeys := awsstepfunctions.JsonPath_Format(at("{}; failed keys: {}"), str(reportSummary),
		awsstepfunctions.JsonPath_JsonToString(list(reportFailed)))
	sync := map[string]any{"sync": awsstepfunctions.JsonPath_ObjectAt(at(reportSync))}
	reported := o.outcome(contract.StateBoardReport, "The task's report: its status and summary", str(reportStatus), exitCode, nil, str(reportSummary))
	reportedSync := o.with(contract.StateBoardReportSync, "The task's report with a sync's counts", str(reportStatus), exitCode, nil, str(reportSummary), sync)
	reportedKeys := o.with(contract.StateBoardReportKeys, "The task's report with a sync's counts and its first failed keys", str(reportStatus), exitCode, nil, withKeys, sync)
	odd := o.outcome(contract.StateBoardReportOdd, "A report whose status is not an outcome word: a failure", contract.OutcomeFailed, exitCode, nil,
		awsstepfunctions.JsonPath_Format(at("the task reported status {}: {}"), str(reportStatus), str(reportSummary)))
	noReport := o.outcome(contract.StateBoardNoReport, "The task exited 0 without a report (an older image, or the report could not be sent)",
		exitZero, num(stoppedExit), str(stoppedTaskArn), noReport(exitZero))
	oddResult := o.outcome(contract.StateBoardOddResult, "Neither a report nor a stopped task: a failure, the result as it is", contract.OutcomeFailed, nil, nil,
		awsstepfunctions.JsonPath_Format(at("the task's result is neither a report nor a stopped task: {}"),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.task")))))
	words := make([]string, 0, len(contract.Outcomes))
	for _, w := range contract.Outcomes {
		if w != contract.OutcomeOffline { // the state machine's word, never the task's
			words = append(words, w)
		}
	}
	known := []awsstepfunctions.Condition{statusIs(words...)}
	isSync := []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(at(reportSync))}
	hasKeys := []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(at(reportFailed + "[0]"))}
	return awsstepfunctions.NewChoice(o.scope, props.name(contract.StateBoardReported), &awsstepfunctions.ChoiceProps{
		Comment: at("The task's report (its words), or without one the exit code"),
	}).
		When(and(isReport(), known, isSync, hasKeys), reportedKeys, nil).
		When(and(isReport(), known, isSync), reportedSync, nil).
		When(and(isReport(), known), reported, nil).
		When(and(isReport()), odd, nil).
		When(and(isStoppedTask()), noReport, nil).
		Otherwise(oddResult)
}

// failureOutcome classifies a failure of the board's task: offline for
// all of offlineWait, a task that ran and failed (its exit code), or any
// other error.
func failureOutcome(o *boardOutcomes, props FanOutProps) awsstepfunctions.Choice {
	scope := o.scope
	offline := o.outcome(contract.StateBoardOffline, "Busy or offline for all of offlineWait: RunTask's failures are the cause",
		contract.OutcomeOffline, nil, nil,
		awsstepfunctions.JsonPath_Format(at("{}: {}"), str("$.error.Error"), str("$.error.Cause")))
	gone := o.outcome(contract.StateBoardGone, "Exit 4 without a report: the object is not in the bucket any more (not a failure)", contract.OutcomeGone,
		num(failedExitCode), str(failedTaskArn), contract.ExitNotFound.Describe())
	exitKnown := o.outcome(contract.StateBoardExitCode, "The task exited with one of edge-drop-task's codes", contract.OutcomeFailed,
		num(failedExitCode), str(failedTaskArn),
		awsstepfunctions.JsonPath_ArrayGetItem(list("$.failure.exitCodes"), num(failedExitCode)))
	exitOther := o.outcome(contract.StateBoardOtherExitCode, "An exit code edge-drop-task does not use (above 128: killed by signal code-128)", contract.OutcomeFailed,
		num(failedExitCode), str(failedTaskArn),
		awsstepfunctions.JsonPath_Format(at("exit {}: not an edge-drop-task exit code"), str(failedExitCode)))
	stopped := o.outcome(contract.StateBoardTaskStopped, "The container never exited: ECS's reason", contract.OutcomeFailed,
		nil, str(failedTaskArn), awsstepfunctions.JsonPath_Format(at("task stopped without an exit code: {}"), str(failedTask+".StoppedReason")))
	withCause := o.outcome(contract.StateBoardError, "Any other error: its name and cause", contract.OutcomeFailed, nil, nil,
		awsstepfunctions.JsonPath_Format(at("{}: {}"), str("$.error.Error"), str("$.error.Cause")))
	nameOnly := o.outcome(contract.StateBoardErrorName, "An error without a cause: its name", contract.OutcomeFailed, nil, nil, str("$.error.Error"))

	readTask := readStoppedTask(scope, props.Prefix+contract.StateReadBoardTask, "The cause of States.TaskFailed is the stopped task as JSON",
		props.Prefix+contract.StateClassifyBoardExit, exitBranches{gone: gone, known: exitKnown, other: exitOther, stopped: stopped, neither: withCause})

	offlineNames := make([]awsstepfunctions.Condition, 0, len(OfflineErrors))
	for _, e := range OfflineErrors {
		offlineNames = append(offlineNames, awsstepfunctions.Condition_StringEquals(at("$.error.Error"), at(e)))
	}
	return awsstepfunctions.NewChoice(scope, props.name(contract.StateClassifyBoardFailure), &awsstepfunctions.ChoiceProps{
		Comment: at("Offline (RunTask placed nothing for offlineWait), a task that ran and failed, or any other error"),
	}).
		When(and([]awsstepfunctions.Condition{awsstepfunctions.Condition_Or(offlineNames...)}, causeGiven()), offline, nil).
		When(isTaskFailure(), readTask, nil).
		When(and(causeGiven()), withCause, nil).
		Otherwise(nameOnly)
}
