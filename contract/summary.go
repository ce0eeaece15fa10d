package contract

// A delivery to a fleet larger than one execution serves runs one child
// execution per page of boards; each child's output, and the parent's
// (its DeliveredToEveryBoard output and TallyPages' result), is a
// FleetSummary. The per-board outcomes stay in each child's history
// (TallyOutcomes' output).
const (
	SummaryBoards      = "boards"
	SummaryCounts      = "counts"
	SummaryOffline     = "offlineBoards"
	SummaryFailed      = "failedBoards"
	SummaryPagesFailed = "pagesFailed"
	SummaryUndelivered = "undelivered"
)

// FleetSummary is a paged delivery in numbers.
type FleetSummary struct {
	Boards int `json:"boards"`
	// Counts holds one count per word of Outcomes.
	Counts map[string]int `json:"counts"`
	// OfflineBoards and FailedBoards name the first boards with those
	// outcomes (at most constructs/pipeline.NamedBoardsCap each).
	OfflineBoards []string `json:"offlineBoards"`
	FailedBoards  []string `json:"failedBoards"`
	// PagesFailed counts child executions that failed as a whole: their
	// boards count as failed.
	PagesFailed int `json:"pagesFailed"`
	// Undelivered is failed + offline (the parent's summary only).
	Undelivered int `json:"undelivered"`
}
