package pipeline

import (
	"fmt"
	"time"
)

// FleetTiming is what bounds a fleet delivery in time and in history
// events: the task's timeout and how long an offline board is retried.
type FleetTiming struct {
	TaskTimeout time.Duration
	OfflineWait time.Duration
}

// Offline retries: a random first wait of up to offlineSpread (retries of
// executions that failed together drift apart), then 15 s doubling to a
// 5-minute cap, without jitter, until the waits cover offlineWait.
const (
	offlineSpread   = 15 * time.Second
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

// offlineRetry is the rule for busy or offline boards: without jitter,
// so its least total wait is its only one, and as many attempts as that
// wait needs to cover OfflineWait. The last attempt is then at least
// OfflineWait after the first failure: a board back at any time within
// OfflineWait gets its task.
func (t FleetTiming) offlineRetry() retryPolicy {
	r := retryPolicy{errors: OfflineErrors, interval: offlineInterval, maxAttempts: 1, backoff: offlineBackoff, maxDelay: offlineMaxDelay, exact: true}
	for r.leastWait() < t.OfflineWait {
		r.maxAttempts++
	}
	return r
}

// leastWait is the shortest this rule can wait in total: all of
// worstCaseWait without jitter, nothing with FULL jitter.
func (r retryPolicy) leastWait() time.Duration {
	if !r.exact {
		return 0
	}
	return r.worstCaseWait()
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
	// BoardIsNamed, DeliverToBoard entered/exited, the way to the retries
	// (SpreadBoardRetries, WaitForBoard, RetryDeliverToBoard entered and
	// exited), and the longest outcome path (ClassifyBoardFailure,
	// ReadBoardTask, ClassifyBoardExit, the outcome Pass).
	boardEvents = 2 + 2 + 2 + 2*3 + 2*4 + ledgerEvents
	// The ledger's writes after the outcome at worst: RecordBoardOutcome
	// and RecordBoardHistory entered/exited with both attempts failed
	// (one retry each), then LedgerNotWritten (ledger.go).
	ledgerEvents = 2*(2+2*attemptEvents) + 2
	// One attempt of a task that never starts (scheduled, started,
	// failed); a task that ran adds TaskSubmitted.
	attemptEvents = 3
)

// EventsPerBoard is the most history events one board can cost: both
// task states' attempts with every retry used up, then the longest
// outcome path.
func (t FleetTiming) EventsPerBoard() int {
	return boardEvents + t.attempts()*attemptEvents + 1
}

// attempts is the most RunTask attempts of one board: DeliverToBoard's
// one, then RetryDeliverToBoard's with every retry of both its rules.
func (t FleetTiming) attempts() int {
	n := 2
	for _, r := range t.retries() {
		n += r.maxAttempts
	}
	return n
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
// and failed attempt of both task states, the spread wait, then the task
// for its whole timeout.
func (t FleetTiming) boardBudget() time.Duration {
	d := t.TaskTimeout + time.Duration(t.attempts())*attemptAllowance + offlineSpread
	for _, r := range t.retries() {
		d += r.worstCaseWait()
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

// Paged deliveries (pages.go): one child execution per page of
// BoardsPerChild boards.

// childFixedEvents: ExecutionStarted, ChooseBoards, TallyOutcomes,
// SummarizePage, PageReported, ExecutionSucceeded.
const childFixedEvents = 1 + 2*4 + 1

// childChunkEvents is one chunk of BoardsPerPage boards in a child: the
// Pass that picks it, AnyBoardsOnPage, DescribeBoards (with its retries at
// worst), the Map, CollectOutcomes, FlattenOutcomes, MoreBoards.
const childChunkEvents = 2 + 2 + 5 + 4 + 2 + 2 + 2 + sdkRetries*attemptEvents

// parentPageEvents is one page in the parent: ListBoardPage (with its
// retries at worst), AnyBoardsInPage, DeliverToPage (entered, scheduled,
// started, submitted, succeeded, exited; a failed child adds its failure
// and CountPageAsFailed instead of AddPageSummary), AddPageSummary,
// FlattenBoardNames, MorePages.
const parentPageEvents = 5 + sdkRetries*attemptEvents + 2 + 6 + 2 + 2 + 2

// PageEvents is the most history events of a child execution delivering
// to n boards (at most BoardsPerChild): every board at its worst.
func (t FleetTiming) PageEvents(n int) int {
	chunks := (n + BoardsPerPage - 1) / BoardsPerPage
	return childFixedEvents + chunks*childChunkEvents + n*t.EventsPerBoard()
}

// PagedEvents is the most history events of the parent of a paged
// delivery to n boards.
func PagedEvents(n int) int {
	pages := (n + BoardsPerChild - 1) / BoardsPerChild
	return fixedEvents + pages*parentPageEvents
}

// PageTimeout is a child execution's TimeoutSeconds: its BoardsPerChild
// boards through MaxConcurrency slots at their worst, describing them in
// chunks (each call with every retry), and the margin.
func (t FleetTiming) PageTimeout() time.Duration {
	rounds := BoardsPerChild/MaxConcurrency + 1
	chunks := (BoardsPerChild + BoardsPerPage - 1) / BoardsPerPage
	describe := time.Duration(chunks) * (sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance)
	return (time.Duration(rounds)*t.boardBudget() + describe + executionMargin).Round(time.Minute)
}

// PagedTimeout is the parent's TimeoutSeconds for maxBoards boards: the
// pages run one after the other, each its listing at worst and its child
// for all of PageTimeout, and the margin. So a child ends (in its own
// summary or TIMED_OUT, which the parent catches) before the parent does.
func (t FleetTiming) PagedTimeout(maxBoards int) time.Duration {
	pages := (maxBoards + BoardsPerChild - 1) / BoardsPerChild
	list := sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance
	return (time.Duration(pages)*(list+attemptAllowance+t.PageTimeout()) + executionMargin).Round(time.Minute)
}

// MaxExecutionDuration is the STANDARD workflow's limit: one year.
const MaxExecutionDuration = 365 * 24 * time.Hour

// CheckPagedFleet says whether maxBoards boards can be delivered within
// one STANDARD execution's year with these timings (a 24-h task with a
// 2-h offlineWait cannot reach 10,000 boards one page after another).
func (t FleetTiming) CheckPagedFleet(maxBoards int) error {
	if maxBoards <= t.MaxFleet() {
		return nil
	}
	if d := t.PagedTimeout(maxBoards); d > MaxExecutionDuration {
		most := 0
		for n := BoardsPerChild; t.PagedTimeout(n) <= MaxExecutionDuration; n += BoardsPerChild {
			most = n
		}
		return fmt.Errorf("maxBoards=%d with taskTimeout=%s and offlineWait=%s needs an execution of up to %d days, over Step Functions' one year: lower maxBoards to %d or less, or taskTimeout or offlineWait",
			maxBoards, t.TaskTimeout, t.OfflineWait, int(d.Hours()/24+0.5), most)
	}
	return nil
}
