package pipeline

import (
	"time"
)

// FleetTiming is what bounds a fleet delivery in time and in history
// events: the task's timeout and how long an offline board is retried.
type FleetTiming struct {
	TaskTimeout time.Duration
	OfflineWait time.Duration
}

// Offline retries: the first wait is short (an agent reconnecting after a
// blip), then doubling to a 5-minute cap, spread by full jitter.
const (
	offlineInterval = 15 * time.Second
	offlineBackoff  = 2
	offlineMaxDelay = 5 * time.Minute
)

// apiFaultRetry is the single-board path's rule for throttling and
// service faults (retries[0]) on the errors that are not offline.
var apiFaultRetry = retryPolicy{errors: APIFaultErrors, interval: 5 * time.Second, maxAttempts: 5, backoff: 2, maxDelay: time.Minute}

// sdkRetry is the rule of ListBoards and DescribeBoards: the SDK
// integration names ECS's errors Ecs.<Exception>; throttling (many
// executions listing at once) and service faults are retried briefly.
var sdkRetry = retryPolicy{errors: []string{"Ecs.ThrottlingException", "Ecs.ServerException"}, interval: 2 * time.Second, maxAttempts: sdkRetries, backoff: 2, maxDelay: 30 * time.Second}

const sdkRetries = 5

// listingCalls is how many SDK calls one page makes (list, describe).
const listingCalls = 2

// offlineRetry is the rule for busy or offline boards: as many attempts
// as fit in OfflineWait at the worst case (no jitter), at least one.
func (t FleetTiming) offlineRetry() retryPolicy {
	r := retryPolicy{errors: OfflineErrors, interval: offlineInterval, maxAttempts: 1, backoff: offlineBackoff, maxDelay: offlineMaxDelay}
	for {
		more := r
		more.maxAttempts++
		if more.worstCaseWait() > t.OfflineWait {
			return r
		}
		r = more
	}
}

func (t FleetTiming) retries() []retryPolicy {
	return []retryPolicy{apiFaultRetry, t.offlineRetry()}
}

// History events (Step Functions keeps at most 25,000 per execution; an
// execution that would write more fails). Counted per state type as the
// execution history records them.
const (
	MaxHistoryEvents = 25000
	// ExecutionStarted, Extract, KeyMatchesPattern, SizeWithinLimit, the
	// three routing states, ChooseBoards, TallyOutcomes, the verdict, the
	// end state and ExecutionSucceeded/Failed.
	fixedEvents = 1 + 2*10 + 1
	// Per page: ListBoards (entered, scheduled, started, succeeded,
	// exited), AnyBoardsOnPage, DescribeBoards, the Map (entered,
	// started, succeeded, exited), CollectOutcomes, FlattenOutcomes,
	// MoreBoards; and each SDK call's retries at worst.
	pageEvents = 5 + 2 + 5 + 4 + 2 + 2 + 2 + listingCalls*sdkRetries*attemptEvents
	// Per board around its task attempts: MapIterationStarted/Succeeded,
	// BoardIsNamed, DeliverToBoard entered/exited, and the longest outcome
	// path (ClassifyBoardFailure, ReadBoardTask, ClassifyBoardExit, the
	// outcome Pass).
	boardEvents = 2 + 2 + 2 + 2*4
	// One attempt of a task that never starts (scheduled, started,
	// failed); a task that ran adds TaskSubmitted.
	attemptEvents = 3
)

// EventsPerBoard is the most history events one board can cost: every
// retry of both rules used up, then the longest outcome path.
func (t FleetTiming) EventsPerBoard() int {
	attempts := 1
	for _, r := range t.retries() {
		attempts += r.maxAttempts
	}
	return boardEvents + attempts*attemptEvents + 1
}

// Payload: a state's input or output holds at most 256 KiB. While the Map
// runs, the state holds the outcomes so far, the page's description and
// the page's outcomes.
const (
	MaxPayloadBytes = 256 << 10
	// An outcome: a 63-character name, the mi-… id, the task ARN and a
	// cause such as RunTask's failures as JSON.
	outcomeBytes = 512
	// DescribeContainerInstances' answer per instance (every attribute
	// and resource of an ECS Anywhere board), and the rest of the state.
	describedBytes = 4 << 10
	stateBytes     = 16 << 10
)

// MaxFleet is the largest number of boards one execution can deliver to:
// the fewer of the boards whose outcomes fit the payload quota and of
// those that fit the history limit when every board costs EventsPerBoard.
func (t FleetTiming) MaxFleet() int {
	byPayload := (MaxPayloadBytes - stateBytes - BoardsPerPage*(describedBytes+outcomeBytes)) / outcomeBytes
	per := t.EventsPerBoard()
	n := 0
	for n < byPayload {
		m := n + 1
		pages := (m + BoardsPerPage - 1) / BoardsPerPage
		if fixedEvents+pages*pageEvents+m*per > MaxHistoryEvents {
			return n
		}
		n = m
	}
	return n
}

// boardBudget is the longest one iteration can take: every retry's wait
// and failed attempt, then the task for its whole timeout.
func (t FleetTiming) boardBudget() time.Duration {
	d := t.TaskTimeout + attemptAllowance
	for _, r := range t.retries() {
		d += r.worstCaseWait() + time.Duration(r.maxAttempts)*attemptAllowance
	}
	return d
}

// ExecutionTimeout is the state machine's TimeoutSeconds for a fleet: the
// largest fleet (MaxFleet) through MaxConcurrency slots, each board as long
// as its worst case (list scheduling ends within n/C+1 board times), plus
// the listing and the margin. So every board ends in an outcome rather
// than the execution TIMED_OUT.
func (t FleetTiming) ExecutionTimeout() time.Duration {
	n := t.MaxFleet()
	rounds := n/MaxConcurrency + 1
	pages := (n + BoardsPerPage - 1) / BoardsPerPage
	listing := time.Duration(pages*listingCalls) * (sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance)
	return (time.Duration(rounds)*t.boardBudget() + listing + executionMargin).Round(time.Minute)
}
