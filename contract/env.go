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

	// Tuning, for a person running the binary by hand.
	EnvPartSize       = "EDGE_DROP_PART_SIZE"
	EnvConcurrency    = "EDGE_DROP_CONCURRENCY"
	EnvRequestTimeout = "EDGE_DROP_REQUEST_TIMEOUT"
)

// EnvPrefix starts every variable above.
const EnvPrefix = "EDGE_DROP_"
