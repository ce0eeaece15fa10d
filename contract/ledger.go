package contract

// The delivery ledger: a DynamoDB table (<stackPrefix>-Ledger, stack output
// OutputLedgerTable) that only the state machines write (the direct
// DynamoDB integration) and the edge-drop CLI and status page read. One
// table, three kinds of item, keyed for the operator's questions:
//
//	question                          how
//	where is KEY, per board           Query pk = ObjectPK(KEY), sk begins_with SKBoardPrefix   (one query)
//	what does board B hold            Query index IndexByBoard, gpk = BoardPK(B)
//	B's last sync                     GetItem pk = BoardPK(B), sk = SKSync
//	what happened on day D            Query index IndexByTime, tpk = DayPK(D) (sorted by time)
//
// Both indexes project every attribute (ProjectionType ALL): the CLI and
// the page read status, etag, versionId, at and cause from them, and a
// narrower projection would cost a GetItem per row.
//
// Current items (one per object × board) are overwritten by newer outcomes
// only (a condition on the event's sequencer); history items (one per
// outcome) expire after the configured days (TTL attribute LedgerExpiresAt).
const (
	// Table keys.
	LedgerPK = "pk"
	LedgerSK = "sk"

	// IndexByBoard: every current object item of a board.
	IndexByBoard = "byBoard"
	LedgerGPK    = "gpk" // BoardPK(board)
	LedgerGSK    = "gsk" // ObjectPK(key)

	// IndexByTime: history items by day, sorted by time.
	IndexByTime = "byTime"
	LedgerTPK   = "tpk" // DayPK("2026-12-06")
	LedgerTSK   = "tsk" // "<at>#<board>#<key>"

	// LedgerExpiresAt is the TTL attribute (epoch seconds) of history items.
	LedgerExpiresAt = "expiresAt"
)

// Key prefixes. Keys and board names are stored as they are after the
// prefix: a board name never holds '#' (NamePattern), an object key may,
// which is harmless because the object part is always last.
const (
	PKObjectPrefix   = "obj#"
	PKBoardPrefix    = "board#"
	PKDayPrefix      = "day#"
	SKBoardPrefix    = "board#" // current object item: sk = SKBoardPrefix + board
	SKHistoryPrefix  = "hist#"  // history item: sk = SKHistoryPrefix + at + "#" + board + "#" + execution name
	SKSync           = "sync"   // a board's last sync
	SKSyncHistPrefix = "synchist#"
)

// ObjectPK is the partition of an object's items (the key as S3 has it,
// decoded, not as events encode it).
func ObjectPK(key string) string { return PKObjectPrefix + key }

// BoardPK is the partition of a board's sync item and its index entries.
func BoardPK(board string) string { return PKBoardPrefix + board }

// DayPK is a day's partition of IndexByTime; day is "YYYY-MM-DD" (UTC).
func DayPK(day string) string { return PKDayPrefix + day }

// Attributes of object items (current and history) and sync items. Every
// item also carries LedgerKind.
const (
	LedgerKind         = "kind" // KindObject, KindHistory, KindSync
	LedgerKey          = "key"
	LedgerBoard        = "board"
	LedgerStatus       = "status" // one of Outcomes
	LedgerMode         = "mode"   // ModeDownload, ModeSync, ModeDelete
	LedgerETag         = "etag"
	LedgerVersionID    = "versionId"
	LedgerSequencer    = "sequencer" // the S3 event's sequencer (current items: newer wins)
	LedgerExitCode     = "exitCode"
	LedgerCause        = "cause" // the outcome in words (Outcome.Cause)
	LedgerAt           = "at"    // when the outcome was recorded, in LedgerTimeLayout
	LedgerExecution    = "execution"
	LedgerTaskArn      = "taskArn"
	LedgerConflictCopy = "conflictCopy"
	// Sync items.
	LedgerStart       = "start"
	LedgerEnd         = "end"
	LedgerCounts      = "counts"      // SyncCounts as a map
	LedgerLastOKStart = "lastOkStart" // start of the last sync that ended synced: every object older is on the board
)

// LedgerTimeLayout is the one format of every time in the ledger (at,
// start, end, lastOkStart and the time in tsk): RFC 3339 in UTC with
// exactly three fractional digits, as Step Functions writes its context
// object's times ($$.State.EnteredTime, "2026-12-06T23:57:54.123Z"). Fixed
// width, so that byTime's sort key orders by time: with a variable number
// of digits "…:54Z" would sort after "…:54.123Z".
const LedgerTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Values of LedgerKind.
const (
	KindObject  = "object"
	KindHistory = "history"
	KindSync    = "sync"
)

// Stack outputs the CLI finds its resources by (CloudFormation
// DescribeStacks of the pipeline stack; the local demo writes the same
// names into its endpoints file).
const (
	OutputBucketName          = "BucketName"
	OutputStateMachineArn     = "StateMachineArn"
	OutputSyncStateMachineArn = "SyncStateMachineArn"
	OutputLedgerTable         = "LedgerTableName"
	OutputClusterName         = "ClusterName"
	OutputAlarmTopicArn       = "AlarmTopicArn"
)

// A redelivery (`edge-drop redeliver KEY [--board B]`) starts the pipeline's
// state machine with the Object Created event S3 would have sent for the
// object as it is now (source SourceCLI instead of aws.s3), plus a
// top-level field RedeliverField = {RedeliverBoard: B} that narrows the
// delivery to board B (without it, the configured target).
const (
	SourceCLI      = "edge-drop.cli"
	RedeliverField = "edgeDrop"
	RedeliverBoard = "board"
)
