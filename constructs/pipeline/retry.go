package pipeline

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// APIFaultErrors are the ECS API errors worth retrying soon, on the
// single-board path and in every fan-out: service faults and explicit
// throttling. (ECS.AmazonECSException, which also carries capacity
// failures, is retried with the busy board: OfflineErrors.) A task that
// ran and failed is not retried: the task binary has already retried its
// downloads itself.
var APIFaultErrors = []string{"ECS.ServerException", "ECS.ThrottlingException"}

// OfflineErrors are what RunTask raises for a board that cannot take the
// task now: runTask.sync turns RunTask's failures (AGENT: the board's
// agent is disconnected; RESOURCE:*: the board is busy) into
// AmazonECS.Unknown, and in the field they also arrive as
// ECS.AmazonECSException. They are retried for offlineWait, then the
// board's outcome is "offline".
var OfflineErrors = []string{contract.ErrPlacement, contract.ErrECSException}

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

// One rule per error class:
//   - APIFaultErrors (ECS throttling and service faults): apiFaultRetry,
//     soon and briefly, on every RunTask state.
//   - OfflineErrors (a busy or offline board): busyBoardRetry, 15 s
//     doubling to a 5-minute cap; on the single board with full jitter
//     for a fixed ~33 minutes, on a fleet's board without jitter for as
//     long as offlineWait asks (FleetTiming.offlineRetry).
//   - The SDK integration's ECS errors (listing and describing boards):
//     sdkRetry.
//   - A child execution's start (pages.go) and the ledger's writes
//     (ledger.go) have their own, on their own errors.

// retries are the single-board download state's Retry rules, in order:
// ECS faults, then a busy or offline board (and ECS's catch-all error,
// which reports capacity failures too) for up to ~33 minutes (1,965 s),
// spread by full jitter so that a burst of uploads does not retry in
// lockstep.
var retries = []retryPolicy{apiFaultRetry, busyBoardRetry(10, false)}

// apiFaultRetry is the one rule for ECS throttling and service faults
// (APIFaultErrors): the single-board path's first rule and a fan-out
// board's, on the errors that are not offline.
var apiFaultRetry = retryPolicy{errors: APIFaultErrors, interval: 5 * time.Second, maxAttempts: 5, backoff: 2, maxDelay: time.Minute}

// sdkRetry is the rule of ListBoards and DescribeBoards: the SDK
// integration names ECS's errors Ecs.<Exception>; throttling (many
// executions listing at once) and service faults are retried briefly.
var sdkRetry = retryPolicy{errors: []string{"Ecs.ThrottlingException", "Ecs.ServerException"}, interval: 2 * time.Second, maxAttempts: sdkRetries, backoff: 2, maxDelay: 30 * time.Second}

const sdkRetries = 5

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

// leastWait is the shortest this rule can wait in total: all of
// worstCaseWait without jitter, nothing with FULL jitter.
func (r retryPolicy) leastWait() time.Duration {
	if !r.exact {
		return 0
	}
	return r.worstCaseWait()
}

// Busy or offline boards are retried 15 s after, doubling to a 5-minute
// cap; on a fleet after a random first wait of up to offlineSpread
// (retries of executions that failed together drift apart).
const (
	offlineSpread   = 15 * time.Second
	offlineInterval = 15 * time.Second
	offlineBackoff  = 2
	offlineMaxDelay = 5 * time.Minute
)

// busyBoardRetry is the rule for a busy or offline board (OfflineErrors):
// attempts retries, exact (no jitter) or spread by full jitter.
func busyBoardRetry(attempts int, exact bool) retryPolicy {
	return retryPolicy{errors: OfflineErrors, interval: offlineInterval, maxAttempts: attempts, backoff: offlineBackoff, maxDelay: offlineMaxDelay, exact: exact}
}

// offlineRetry is busyBoardRetry on a fleet: without jitter, so its least
// total wait is its only one, and as many attempts as that wait needs to
// cover OfflineWait. The last attempt is then at least OfflineWait after
// the first failure: a board back at any time within OfflineWait gets its
// task.
func (t FleetTiming) offlineRetry() retryPolicy {
	r := busyBoardRetry(1, true)
	for r.leastWait() < t.OfflineWait {
		r.maxAttempts++
	}
	return r
}

// OfflineRetries is how often a busy or offline board is tried again
// after its first failure, and the least and the most time those tries
// span (the most adds the spread wait).
func (t FleetTiming) OfflineRetries() (retries int, least, most time.Duration) {
	r := t.offlineRetry()
	return r.maxAttempts, r.leastWait(), offlineSpread + r.worstCaseWait()
}

func (t FleetTiming) retries() []retryPolicy {
	return []retryPolicy{apiFaultRetry, t.offlineRetry()}
}
