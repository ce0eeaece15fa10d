package contract

import "fmt"

// ExitCode is a process exit status of edge-drop-task. The numbers are part
// of the contract: the state machine's DeliveryFailed state reports them
// (with their class) as the failure's cause, the local pipeline prints them,
// and operators read them in logs. Never renumber one.
type ExitCode int

const (
	ExitOK        ExitCode = 0  // delivered, or already up to date
	ExitUsage     ExitCode = 2  // bad configuration or usage: a missing or invalid variable or flag
	ExitUnsafeKey ExitCode = 3  // unsafe or invalid object key (would escape the data dir, a key ending in / that holds bytes, ...)
	ExitNotFound  ExitCode = 4  // object not found (404 / NoSuchKey, for the decoded and the raw key)
	ExitDenied    ExitCode = 5  // access denied (403), or no AWS credentials at all
	ExitLocalIO   ExitCode = 6  // local I/O error (disk full, permission, read-only file system, ...)
	ExitNetwork   ExitCode = 7  // network or S3 error that persisted after retries, or the overall timeout
	ExitIntegrity ExitCode = 8  // integrity failure (length, checksum or ETag mismatch; object kept changing)
	ExitCanceled  ExitCode = 9  // canceled (SIGTERM / SIGINT)
	ExitTooLarge  ExitCode = 10 // the object is larger than the board accepts (EDGE_DROP_MAX_BYTES)
	// ExitPartial: a sync listed the whole prefix but some objects failed
	// (each logged on its own line); every other object was delivered.
	// Running the sync again retries only the failed ones.
	ExitPartial ExitCode = 11
)

// ExitCodes lists every code, in order.
var ExitCodes = []ExitCode{ExitOK, ExitUsage, ExitUnsafeKey, ExitNotFound, ExitDenied, ExitLocalIO, ExitNetwork, ExitIntegrity, ExitCanceled, ExitTooLarge, ExitPartial}

var exitInfo = map[ExitCode]struct{ class, words string }{
	ExitOK:        {"ok", "delivered"},
	ExitUsage:     {"usage", "bad task configuration"},
	ExitUnsafeKey: {"unsafe_key", "unsafe or invalid object key"},
	ExitNotFound:  {"not_found", "object not found"},
	ExitDenied:    {"access_denied", "access denied"},
	ExitLocalIO:   {"local_io", "local disk error on the board"},
	ExitNetwork:   {"network", "network or S3 error after retries"},
	ExitIntegrity: {"integrity", "integrity check failed"},
	ExitCanceled:  {"canceled", "canceled"},
	ExitTooLarge:  {"too_large", "object larger than the board accepts"},
	ExitPartial:   {"partial", "sync incomplete: some objects failed, the rest were delivered"},
}

// Class is the code's short stable name, the "class" field of the task's log.
func (c ExitCode) Class() string {
	if i, ok := exitInfo[c]; ok {
		return i.class
	}
	return fmt.Sprintf("code_%d", int(c))
}

// String is the class.
func (c ExitCode) String() string { return c.Class() }

// Words says what the code means, for a person reading a failure.
func (c ExitCode) Words() string {
	if i, ok := exitInfo[c]; ok {
		return i.words
	}
	return "unknown exit code"
}

// Describe is the one-line summary of a failed task's exit code, the same in
// the cloud (DeliveryFailed's cause) and locally: "exit 3 unsafe_key: unsafe
// or invalid object key".
func (c ExitCode) Describe() string {
	return fmt.Sprintf("exit %d %s: %s", int(c), c.Class(), c.Words())
}
