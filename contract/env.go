package contract

// Environment variables of edge-drop-task. The task definition sets the
// fixed ones; the state machine sets the per-object ones as container
// overrides; a person running the binary by hand may use flags instead.
const (
	// Per object, from the state machine (the S3 event).
	EnvBucket = "EDGE_DROP_BUCKET"
	EnvKey    = "EDGE_DROP_KEY" // as in the event: URL-encoded
	// What the event said of the object, so that the task can tell an
	// event that a newer upload has already superseded.
	EnvEventSequencer = "EDGE_DROP_EVENT_SEQUENCER"
	EnvEventETag      = "EDGE_DROP_EVENT_ETAG"
	EnvEventSize      = "EDGE_DROP_EVENT_SIZE"
	// Routing by key (fleet): how many leading path components of the key
	// (the routing prefix and the target) are not part of the local path,
	// like tar's --strip-components. Unset or 0: the key is the path.
	EnvStripComponents = "EDGE_DROP_STRIP_COMPONENTS"

	// Fixed, from the task definition.
	EnvDataDir = "EDGE_DROP_DATA_DIR"
	EnvTimeout = "EDGE_DROP_TIMEOUT"
	// The largest object the board accepts, in bytes (0 = no limit).
	EnvMaxBytes = "EDGE_DROP_MAX_BYTES"

	// Mode selects what the task does: ModeDownload (the default when
	// unset), ModeSync or ModeDelete.
	EnvMode = "EDGE_DROP_MODE"
	// Sync mode: which keys to mirror. KeyPrefix is the ListObjectsV2
	// prefix (a raw key prefix); KeyPattern is a Step Functions
	// StringMatches pattern applied to the key as S3 events encode it
	// (see testdata/stringmatches.json), default "*".
	EnvKeyPrefix  = "EDGE_DROP_KEY_PREFIX"
	EnvKeyPattern = "EDGE_DROP_KEY_PATTERN"
	// Sync mode: objects downloaded at once (each with EDGE_DROP_CONCURRENCY
	// ranged GETs).
	EnvSyncObjects = "EDGE_DROP_SYNC_OBJECTS"
	// Sync mode: "true" removes delivered files whose objects are gone
	// (opt-in; default false).
	EnvMirrorDeletes = "EDGE_DROP_MIRROR_DELETES"

	// The board's budgets, from the task definition (the CDK config's
	// boardMaxRate and boardRateSchedule) or by hand. MaxRate caps the
	// bytes per second of all the task's downloads together (ParseRate);
	// RateSchedule is a timetable of such caps in the board's local time
	// (ParseRateSchedule); the lower of the two applies.
	EnvMaxRate      = "EDGE_DROP_MAX_RATE"
	EnvRateSchedule = "EDGE_DROP_RATE_SCHEDULE"
	// MinFree is the free space a delivery must leave on the data dir's
	// file system (a size, a percentage, or the smaller of both).
	EnvMinFree = "EDGE_DROP_MIN_FREE"
	// An interrupted download's temp file and progress are kept for the
	// next delivery of the same version to resume, up to this age and
	// this many bytes in all.
	EnvPartialMaxAge   = "EDGE_DROP_PARTIAL_MAX_AGE"
	EnvPartialMaxBytes = "EDGE_DROP_PARTIAL_MAX_BYTES"

	// Tuning, for a person running the binary by hand.
	EnvPartSize       = "EDGE_DROP_PART_SIZE"
	EnvConcurrency    = "EDGE_DROP_CONCURRENCY"
	EnvRequestTimeout = "EDGE_DROP_REQUEST_TIMEOUT"
)

// EnvPrefix starts every variable above.
const EnvPrefix = "EDGE_DROP_"

// Values of EnvMode.
const (
	ModeDownload = "download" // deliver EDGE_DROP_KEY (an Object Created event)
	ModeSync     = "sync"     // deliver every matching object under the prefix that the board lacks
	ModeDelete   = "delete"   // remove the delivered file of EDGE_DROP_KEY (an Object Deleted event)
)

// Modes lists the values of EnvMode.
var Modes = []string{ModeDownload, ModeSync, ModeDelete}
