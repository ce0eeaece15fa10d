package pipeline

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

// listingCalls is how many SDK calls one page makes (list, describe).
const listingCalls = 2

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
