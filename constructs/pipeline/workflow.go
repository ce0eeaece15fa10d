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

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/contract"
)

// APIFaultErrors are the ECS API errors worth retrying soon, on the
// single-board path and in every fan-out: service faults and explicit
// throttling. (ECS.AmazonECSException, which also carries capacity
// failures, is retried with the busy board: OfflineErrors.) A task that
// ran and failed is not retried: the task binary has already retried its
// downloads itself.
var APIFaultErrors = []string{"ECS.ServerException", "ECS.ThrottlingException"}

// retryPolicy is one Retry rule of the download state, kept as data so that
// the execution timeout can be derived from it.
type retryPolicy struct {
	errors      []string
	interval    time.Duration
	maxAttempts int
	backoff     float64
	maxDelay    time.Duration
	// exact: JitterStrategy NONE, every wait as computed. FULL (the
	// default here) draws each wait from [0, computed]: it spreads
	// retries, but promises no least wait.
	exact bool
}

// retries are the download state's Retry rules, in order.
var retries = []retryPolicy{
	// ECS throttling and service faults: soon and briefly.
	apiFaultRetry,
	// A busy or offline board (and ECS's catch-all error, which reports
	// capacity failures too): up to ~33 minutes (1,965 s) of waiting, spread
	// by full jitter so a burst of uploads does not retry in lockstep.
	{errors: OfflineErrors, interval: 15 * time.Second, maxAttempts: 10, backoff: 2, maxDelay: 5 * time.Minute},
}

// worstCaseWait is the longest this rule can wait in total: Step Functions
// waits interval×backoff^(n-1), capped at maxDelay, before retry n (full
// jitter only shortens a wait).
func (r retryPolicy) worstCaseWait() time.Duration {
	var total time.Duration
	wait := float64(r.interval)
	for range r.maxAttempts {
		total += min(time.Duration(wait), r.maxDelay)
		wait *= r.backoff
	}
	return total
}

// attemptAllowance is what one RunTask attempt that fails before a task
// exists may take (the API call, Step Functions' scheduling); executionMargin
// covers the other states and the task's stop and report.
const (
	attemptAllowance = time.Minute
	executionMargin  = 5 * time.Minute
)

// props renders the rule for AddRetry.
func (r retryPolicy) props() *awsstepfunctions.RetryProps {
	jitter := awsstepfunctions.JitterType_FULL
	if r.exact {
		jitter = awsstepfunctions.JitterType_NONE
	}
	return &awsstepfunctions.RetryProps{
		Errors:         jsii.Strings(r.errors...),
		Interval:       awscdk.Duration_Seconds(jsii.Number(r.interval.Seconds())),
		MaxAttempts:    jsii.Number(float64(r.maxAttempts)),
		BackoffRate:    jsii.Number(r.backoff),
		MaxDelay:       awscdk.Duration_Seconds(jsii.Number(r.maxDelay.Seconds())),
		JitterStrategy: jitter,
	}
}

// RetryBudget is the worst-case time the download state spends before its
// last attempt: every retry's wait plus every failed attempt. The retried
// errors come from RunTask itself (placement, throttling), before a task
// runs, so only the last attempt runs for up to the task timeout.
func RetryBudget() time.Duration {
	var budget time.Duration
	for _, r := range retries {
		budget += r.worstCaseWait() + time.Duration(r.maxAttempts)*attemptAllowance
	}
	return budget
}

// ExecutionTimeout is the state machine's TimeoutSeconds for a task
// timeout: long enough that every Retry and the task's own timeout end in a
// state with a Catch (DeliveryFailed) instead of an execution TIMED_OUT,
// which nothing catches. Whole minutes.
func ExecutionTimeout(taskTimeout time.Duration) time.Duration {
	return (taskTimeout + attemptAllowance + RetryBudget() + executionMargin).Round(time.Minute)
}

// executionTimeout is ExecutionTimeout or, for a fleet target,
// FleetTiming.ExecutionTimeout; with deletes under "any" the longer one.
func (p Props) executionTimeout() time.Duration {
	timing := FleetTiming{TaskTimeout: p.TaskTimeout, OfflineWait: p.OfflineWait}
	fleet := timing.ExecutionTimeout()
	switch {
	case p.paged() && p.MirrorDeletes: // paged deliveries, deletes in one execution
		return max(timing.PagedTimeout(p.MaxBoards), fleet)
	case p.paged():
		return timing.PagedTimeout(p.MaxBoards)
	case p.Target.Kind != TargetAny:
		return fleet
	case p.MirrorDeletes: // deliveries to one board, deletes on every board
		return max(ExecutionTimeout(p.TaskTimeout), fleet)
	}
	return ExecutionTimeout(p.TaskTimeout)
}

// fansOut reports whether the state machine lists boards: a fleet target,
// or deletes (which for "any" run on every board).
func (p Props) fansOut() bool { return p.Target.Kind != TargetAny || p.MirrorDeletes }

// definition is Extract → KeyMatchesPattern → SizeWithinLimit →
// DownloadToBoard, with Skipped for other keys, TooLarge for objects over
// the limit and DeliveryFailed when the task fails.
func definition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	extract := awsstepfunctions.NewPass(scope, jsii.String(contract.StateExtract), &awsstepfunctions.PassProps{
		Comment: jsii.String("Keep what the task needs from the S3 event; the key stays URL-encoded as S3 sent it"),
		Parameters: &map[string]any{
			"bucket": awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.bucket.name")),
			"key":    awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.object.key")),
			"size":   awsstepfunctions.JsonPath_NumberAt(jsii.String("$.detail.object.size")),
			"etag":   awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.object.etag")),
			// S3's order of the events of one key: the task tells an event
			// that a newer upload has superseded.
			"sequencer": awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.object.sequencer")),
		},
	})

	skipped := awsstepfunctions.NewSucceed(scope, jsii.String(contract.StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: jsii.String("The key does not match the pattern: nothing to deliver"),
	})

	var deliver awsstepfunctions.IChainable
	if props.Target.Kind == TargetAny {
		deliver = oneBoard(scope, props)
	} else {
		deliver = fleet(scope, props, FanOutProps{
			What:        awsstepfunctions.JsonPath_Format(jsii.String("s3://{}/{}"), awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket")), awsstepfunctions.JsonPath_StringAt(jsii.String("$.key"))),
			Carry:       []string{"bucket", "key", "size", "etag", "sequencer"},
			Environment: *objectEnvironment(),
			Pageable:    true,
			Ledger:      props.Ledger,
			record:      ledgerKind{mode: contract.ModeDownload},
			redeliver:   true,
		})
	}

	// Nothing larger than the board accepts reaches it: the execution ends
	// here, before RunTask, with the size and the limit in the cause.
	tooLarge := awsstepfunctions.NewFail(scope, jsii.String(contract.StateTooLarge), &awsstepfunctions.FailProps{
		Comment: jsii.String("The object is larger than maxObjectMiB: nothing was started on the board"),
		Error:   jsii.String(contract.ErrTooLarge),
		CausePath: awsstepfunctions.JsonPath_Format(jsii.String(fmt.Sprintf(
			"s3://{}/{} is {} bytes, more than the %d bytes (maxObjectMiB=%d) a board accepts: not delivered",
			props.MaxObjectBytes, props.MaxObjectBytes>>20)),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket")),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.key")),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.size"))),
	})
	sizeCheck := awsstepfunctions.NewChoice(scope, jsii.String(contract.StateSize), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Refuse objects larger than the board accepts before anything runs on it"),
	}).
		When(awsstepfunctions.Condition_NumberGreaterThan(jsii.String("$.size"), jsii.Number(float64(props.MaxObjectBytes))), tooLarge, nil).
		Otherwise(deliver)

	created := extract.Next(awsstepfunctions.NewChoice(scope, jsii.String(contract.StateMatches), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Deliver only keys that match the configured pattern"),
	}).
		When(awsstepfunctions.Condition_StringMatches(jsii.String("$.key"), jsii.String(props.KeyPattern)), sizeCheck, nil).
		Otherwise(skipped))
	if !props.MirrorDeletes {
		return created
	}
	return withDeletes(scope, props, created, skipped)
}

// oneBoard is the "any" target: one RunTask without constraints (ECS picks
// the board), then the outcome: Delivered or Gone (succeeded, the output
// is the outcome) or DeliveryFailed.
func oneBoard(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	download := awsstepfunctionstasks.NewEcsRunTask(scope, at(contract.StateDownload), &awsstepfunctionstasks.EcsRunTaskProps{
		Comment:            at("Run the download task on the board; it ends with the task's report, or when the task stops"),
		IntegrationPattern: awsstepfunctions.IntegrationPattern_RUN_JOB, // ecs:runTask.sync
		Cluster:            props.Cluster,
		TaskDefinition:     props.Task.TaskDefinition,
		LaunchTarget:       externallaunch.New(),
		ContainerOverrides: &[]*awsstepfunctionstasks.ContainerOverride{{
			ContainerDefinition: props.Task.Container,
			Environment:         withToken(props.taskEnvironment()),
		}},
		PropagatedTagSource: awsecs.PropagatedTagSource_TASK_DEFINITION,
		// No ResultSelector: the result is a Report or a stopped task.
		ResultPath:  at("$.task"),
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(props.TaskTimeout.Seconds()))),
	})
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
	exitCode := awsstepfunctions.JsonPath_NumberAt(at(reportExitCode))
	reported := outcome(contract.StateReportedDelivered, "The task reported the file in place (delivered, up_to_date or conflict: the words say which)",
		str(reportStatus), exitCode, nil, str(reportSummary)).Next(failure.delivered)
	reportedGone := outcome(contract.StateReportedGone, "The task reported the object gone: deleted before its delivery ran",
		contract.OutcomeGone, exitCode, nil, str(reportSummary)).Next(failure.gone)
	reportedFailed := reason(contract.StateDescribeReport, "The task reported a failure (or a status a download does not have): its summary",
		awsstepfunctions.JsonPath_Format(at("{}"), str(reportSummary))).Next(failure.failed)
	noReport := outcome(contract.StateNoReport, "The task exited 0 without a report (an older image, or the report could not be sent): delivered",
		contract.OutcomeDelivered, awsstepfunctions.JsonPath_NumberAt(at(stoppedExit)), str(stoppedTaskArn), noReport(contract.OutcomeDelivered)).Next(failure.delivered)
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

// withToken is env with the state's task token added.
func withToken(env []*awsstepfunctionstasks.TaskEnvironmentVariable) *[]*awsstepfunctionstasks.TaskEnvironmentVariable {
	out := append(slices.Clone(env), taskTokenEnv())
	return &out
}

// objectEnvironment is what the task learns of the object: the event's
// fields, read from the state ($.bucket, $.key, ...).
func objectEnvironment() *[]*awsstepfunctionstasks.TaskEnvironmentVariable {
	return &[]*awsstepfunctionstasks.TaskEnvironmentVariable{
		{Name: jsii.String(contract.EnvBucket), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket"))},
		{Name: jsii.String(contract.EnvKey), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.key"))},
		{Name: jsii.String(contract.EnvEventSequencer), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.sequencer"))},
		{Name: jsii.String(contract.EnvEventETag), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.etag"))},
		// Environment values are strings; the event's size is a number.
		{Name: jsii.String(contract.EnvEventSize), Value: awsstepfunctions.JsonPath_Format(jsii.String("{}"), awsstepfunctions.JsonPath_StringAt(jsii.String("$.size")))},
	}
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
	at := func(p string) *string { return jsii.String(p) }
	describe := func(id, comment string, reason *string) awsstepfunctions.Pass {
		return awsstepfunctions.NewPass(scope, jsii.String(id), &awsstepfunctions.PassProps{
			Comment:    jsii.String(comment),
			Parameters: &map[string]any{"reason": reason},
			ResultPath: jsii.String("$.failure"),
		})
	}

	ends := singleEnds{
		failed: awsstepfunctions.NewFail(scope, jsii.String(contract.StateFailed), &awsstepfunctions.FailProps{
			Comment: jsii.String("The task failed or could not start; the cause names the object and why"),
			Error:   jsii.String(contract.ErrDeliveryFailed),
			CausePath: awsstepfunctions.JsonPath_Format(jsii.String("s3://{}/{} was not delivered: {}"),
				awsstepfunctions.JsonPath_StringAt(at("$.bucket")),
				awsstepfunctions.JsonPath_StringAt(at("$.key")),
				awsstepfunctions.JsonPath_StringAt(at("$.failure.reason"))),
		}),
		delivered: awsstepfunctions.NewSucceed(scope, jsii.String(contract.StateDelivered), &awsstepfunctions.SucceedProps{
			Comment:    jsii.String("The file is on the board; the output is the outcome (delivered, up_to_date or conflict)"),
			OutputPath: jsii.String("$.outcome"),
		}),
		gone: awsstepfunctions.NewSucceed(scope, jsii.String(contract.StateGone), &awsstepfunctions.SucceedProps{
			Comment:    jsii.String("The object was deleted before its delivery ran: nothing to deliver, not a failure"),
			OutputPath: jsii.String("$.outcome"),
		}),
	}
	failed := ends.failed
	gone := awsstepfunctions.NewPass(scope, jsii.String(contract.StateExitGone), &awsstepfunctions.PassProps{
		Comment: jsii.String("Exit 4 without a report: the object is not in the bucket any more"),
		Parameters: &map[string]any{
			"board": "", "instance": "", "status": contract.OutcomeGone,
			"exitCode": awsstepfunctions.JsonPath_NumberAt(at(failedExitCode)),
			"taskArn":  awsstepfunctions.JsonPath_StringAt(at(failedTaskArn)),
			"cause":    contract.ExitNotFound.Describe(),
		},
		ResultPath: jsii.String("$.outcome"),
	}).Next(ends.gone)
	exitKnown := describe(contract.StateDescribeExit, "An exit code of edge-drop-task: its class and meaning",
		awsstepfunctions.JsonPath_Format(jsii.String("{} (task {})"),
			awsstepfunctions.JsonPath_ArrayGetItem(awsstepfunctions.JsonPath_ListAt(at("$.failure.exitCodes")), awsstepfunctions.JsonPath_NumberAt(at(failedExitCode))),
			awsstepfunctions.JsonPath_StringAt(at(failedTaskArn)))).Next(failed)
	exitOther := describe(contract.StateDescribeOtherExit, "An exit code edge-drop-task does not use (above 128: killed by signal code-128, e.g. 137 out of memory)",
		awsstepfunctions.JsonPath_Format(jsii.String("exit {}: not an edge-drop-task exit code (task {})"),
			awsstepfunctions.JsonPath_StringAt(at(failedExitCode)), awsstepfunctions.JsonPath_StringAt(at(failedTaskArn)))).Next(failed)
	stopped := describe(contract.StateDescribeStopped, "The container never exited (image pull, board lost, task stopped): ECS's reason",
		awsstepfunctions.JsonPath_Format(jsii.String("task stopped without an exit code: {} (task {})"),
			awsstepfunctions.JsonPath_StringAt(at(failedTask+".StoppedReason")), awsstepfunctions.JsonPath_StringAt(at(failedTaskArn)))).Next(failed)
	withCause := describe(contract.StateDescribeError, "Any other error: its name and cause",
		awsstepfunctions.JsonPath_Format(jsii.String("{}: {}"),
			awsstepfunctions.JsonPath_StringAt(at("$.error.Error")), awsstepfunctions.JsonPath_StringAt(at("$.error.Cause")))).Next(failed)
	nameOnly := describe(contract.StateDescribeErrorName, "An error without a cause: its name",
		awsstepfunctions.JsonPath_StringAt(at("$.error.Error"))).Next(failed)

	readTask := readStoppedTask(scope, contract.StateReadStoppedTask,
		"The cause of States.TaskFailed is the stopped task as JSON; exitCodes holds contract.ExitDescriptions, indexed by code",
		contract.StateClassifyExit, exitBranches{gone: gone, known: exitKnown, other: exitOther, stopped: stopped, neither: withCause})

	ends.entry = awsstepfunctions.NewChoice(scope, jsii.String(contract.StateClassifyFailure), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("A task that ran and failed (its cause is the stopped task as JSON) or any other error"),
	}).
		When(isTaskFailure(), readTask, nil).
		When(and(causeGiven()), withCause, nil).
		Otherwise(nameOnly)
	return ends
}

// singleEnds are the single-board pipeline's ends, and the entry of its
// failure path (DownloadToBoard's Catch).
type singleEnds struct {
	entry           awsstepfunctions.IChainable
	failed          awsstepfunctions.Fail
	delivered, gone awsstepfunctions.Succeed
}
