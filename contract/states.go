package contract

// State names of the state machines: constructs/pipeline builds them, the
// local demo, the CLI and the tests read them (an execution's path, the
// state whose output holds the outcomes). A state's name is its identity in
// the execution history and in alarms' runbooks: rename one only together
// with everything that reads it. constructs/pipeline's
// TestContractStateNamesAreStatesOfTheDefinitions checks that every name
// here is a state of a synthesized definition.

// The delivery state machine, in the order an upload meets them.
const (
	StateExtract  = "Extract"           // keep what the task needs from the S3 event
	StateMatches  = "KeyMatchesPattern" // keyPattern (StringMatches)
	StateSkipped  = "Skipped"           // the key does not match: nothing to deliver
	StateSize     = "SizeWithinLimit"   // maxObjectMiB
	StateTooLarge = "TooLarge"          // ErrTooLarge, before anything runs on a board
)

// One board ECS picks (deliverTo=any): the task, then its outcome from the
// task's report or, without one, its exit code.
const (
	StateDownload          = "DownloadToBoard"
	StateReported          = "TaskReported"
	StateReportedDelivered = "ReportedDelivered"
	StateReportedGone      = "ReportedGone"
	StateDescribeReport    = "DescribeReportedFailure"
	StateNoReport          = "ExitedWithoutReport"
	StateDescribeResult    = "DescribeUnexpectedResult"
	StateExitGone          = "ExitNotFound"
	StateDelivered         = "Delivered"
	// StateGone ends an execution whose object was deleted before its
	// delivery ran: nothing to deliver, not a failure (no alarm).
	StateGone   = "Gone"
	StateFailed = "DeliveryFailed" // ErrDeliveryFailed
)

// The single-board failure path, between DownloadToBoard's Catch and
// DeliveryFailed: the caught error in one readable line ($.failure.reason).
const (
	StateClassifyFailure   = "ClassifyFailure"
	StateReadStoppedTask   = "ReadStoppedTask"
	StateClassifyExit      = "ClassifyExit"
	StateDescribeExit      = "DescribeExitCode"
	StateDescribeOtherExit = "DescribeOtherExitCode"
	StateDescribeStopped   = "DescribeStoppedTask"
	StateDescribeError     = "DescribeError"
	StateDescribeErrorName = "DescribeErrorName"
)

// Routing by key (routePrefix): the target is read from the key and
// checked before it reaches a cluster query.
const (
	StateRouted      = "KeyIsRouted"
	StateReadRoute   = "ReadRoute"
	StateRouteIsName = "RouteIsAName"
	StateBadTarget   = "BadTarget" // ErrBadTarget
	StateUnroutedKey = "NotRouted" // ErrBadTarget
)

// The fan-out over the boards a cluster query selects (every target but
// "any", deletes and syncs): pages of boards, one Map iteration per board,
// then the verdict.
const (
	StateChooseBoards    = "ChooseBoards"
	StateListBoards      = "ListBoards"
	StateListMoreBoards  = "ListMoreBoards"
	StateAnyBoardsOnPage = "AnyBoardsOnPage"
	StateDescribeBoards  = "DescribeBoards"
	StateDeliverEach     = "DeliverToEachBoard"
	StateCollect         = "CollectOutcomes"
	StateFlatten         = "FlattenOutcomes"
	StateMoreBoards      = "MoreBoards"
	// StateTally's output holds every board's Outcome at $.fleet.outcomes,
	// also when the execution fails (make sync and the CLI read it there).
	StateTally          = "TallyOutcomes"
	StateVerdict        = "EveryBoardDelivered"
	StateNoBoards       = "NoBoards"         // ErrNoBoards
	StateSomeBoardsFail = "SomeBoardsFailed" // ErrSomeBoardsFailed
	// StateFleetDelivered's output is the list of Outcomes, one per board.
	StateFleetDelivered = "DeliveredToEveryBoard"
)

// One board's iteration of the fan-out: its task, pinned to the board, and
// its Outcome (the iteration's output).
const (
	StateBoardIsNamed         = "BoardIsNamed"
	StateUnnamedBoard         = "BoardHasNoName"
	StateDeliverBoard         = "DeliverToBoard"
	StateSpreadRetries        = "SpreadBoardRetries"
	StateWaitForBoard         = "WaitForBoard"
	StateRetryBoard           = "RetryDeliverToBoard"
	StateBoardReported        = "BoardReported"
	StateBoardReport          = "BoardReport"
	StateBoardReportSync      = "BoardReportWithCounts"
	StateBoardReportKeys      = "BoardReportWithFailedKeys"
	StateBoardReportOdd       = "BoardReportUnknownStatus"
	StateBoardNoReport        = "BoardExitedWithoutReport"
	StateBoardOddResult       = "BoardUnexpectedResult"
	StateClassifyBoardFailure = "ClassifyBoardFailure"
	StateBoardOffline         = "BoardOffline"
	StateReadBoardTask        = "ReadBoardTask"
	StateClassifyBoardExit    = "ClassifyBoardExit"
	StateBoardGone            = "BoardObjectGone"
	StateBoardExitCode        = "BoardFailedExitCode"
	StateBoardOtherExitCode   = "BoardFailedOtherExitCode"
	StateBoardTaskStopped     = "BoardTaskStopped"
	StateBoardError           = "BoardFailedError"
	StateBoardErrorName       = "BoardFailedErrorName"
)

// Mirrored deletes (mirrorDeletes): the event's kind is read first.
const (
	StateEventKind      = "CreatedOrDeleted"
	StateExtractDeleted = "ExtractDeleted"
	StateDeletedMatches = "DeletedKeyMatchesPattern"
	// DeletePrefix starts the names of the delete fan-out's states
	// (DeleteChooseBoards, DeleteDeliverToBoard, ...): a state machine
	// with two fan-outs gives one of them a prefix.
	DeletePrefix = "Delete"
)

// The sync state machine, before its fan-out.
const (
	StateSyncWhich   = "WhichBoards"
	StateBoardNameOK = "BoardIsAName"
	StateBadBoard    = "BadBoard" // ErrBadTarget
	StateSyncOne     = "SyncOneBoard"
	StateSyncAll     = "SyncEveryBoard"
)

// SyncInputBoard is the field of the sync's input that names one board:
// {} syncs every board of the target, {"board": "shop-1"} that board.
const SyncInputBoard = "board"

// The ledger's writes (contract/ledger.go), after each board's outcome in
// the fan-outs (the delete fan-out's names start with DeletePrefix): the
// current item, the history item, and where a write that failed after its
// retry goes (the delivery goes on; a metric filter on the execution log
// counts the state's entries, and an alarm watches the count).
const (
	StateRecordOutcome     = "RecordBoardOutcome"
	StateRecordHistory     = "RecordBoardHistory"
	StateRecordSync        = "RecordBoardSync"
	StateRecordSyncHistory = "RecordBoardSyncHistory"
	StateLedgerNotWritten  = "LedgerNotWritten"
	StateSyncLedgerFailed  = "SyncLedgerNotWritten"
)

// A redelivery ({RedeliverField: {RedeliverBoard: B}} in the input)
// narrows the fan-out to board B of the target; a B that is not a name
// fails before any cluster query.
const (
	StateRedeliverWhich = "RedeliverToOneBoard"
	StateRedeliverName  = "RedeliverBoardIsAName"
	StateRedeliverOne   = "ChooseRedeliveryBoard"
	StateBadRedeliver   = "BadRedeliveryBoard" // ErrBadTarget
)

// A paged delivery (maxBoards past one execution's reach): the parent
// lists the boards a page at a time and starts one child execution per page.
const (
	StateListBoardPage     = "ListBoardPage"
	StateListNextBoardPage = "ListNextBoardPage"
	StateAnyBoardsInPage   = "AnyBoardsInPage"
	StateDeliverToPage     = "DeliverToPage"
	StatePageNotDelivered  = "CountPageAsFailed"
	StateAddPage           = "AddPageSummary"
	StateFlattenNames      = "FlattenBoardNames"
	StateMorePages         = "MorePages"
	StateTallyPages        = "TallyPages"
)

// The page (child) state machine of a paged delivery, around the fan-out;
// its output is the page's contract.FleetSummary.
const (
	StateFirstBoards   = "FirstBoardsOfPage"
	StateNextBoards    = "NextBoardsOfPage"
	StateSummarizePage = "SummarizePage"
	StatePageDelivered = "PageReported"
)

// A coalesced batch (coalesceWindow): the keys of a burst, delivered one
// part (constructs/pipeline.CoalesceBatchSize keys) at a time.
const (
	StateReadBatch        = "ReadBatch"
	StateAnyKeysInBatch   = "AnyKeysInBatch"
	StateDeliverParts     = "DeliverEachPart"
	StateDeliverPart      = "DeliverPart"
	StatePartNotDelivered = "PartNotDelivered"
	StateEveryPart        = "EveryPartDelivered"
	StateBatchDelivered   = "BatchDelivered"
	StateBatchFailed      = "BatchNotDelivered"
)
