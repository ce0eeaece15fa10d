package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// What a board holds after one task run, in words. The task says it in its
// Report; the state machine turns the Report (or, without one, the exit
// code) into the board's Outcome; the demo, the CLI and the ledger print
// the same words. Never rename one: operators and the ledger read them.
const (
	// OutcomeDelivered: the file at the path now holds this version; new
	// bytes were written.
	OutcomeDelivered = "delivered"
	// OutcomeUpToDate: the board already held this version, and the file
	// is the one edge-drop wrote (its identity matches the delivery
	// record) or its content was verified against the object again.
	OutcomeUpToDate = "up_to_date"
	// OutcomeConflict: delivered, and the bytes that were at the path (a
	// file edge-drop did not deliver, or one changed since) were kept
	// beside it as Report.ConflictCopy. Also: two keys map to one path
	// (routing), and the rule (newest LastModified wins, ties to the
	// larger key) gave the path to one of them: Report.Reason names both;
	// without ConflictCopy and as the losing key, nothing was written.
	OutcomeConflict = "conflict"
	// OutcomeGone: the object was deleted before its delivery ran; nothing
	// was written. Not a failure.
	OutcomeGone = "gone"
	// OutcomeSynced: a sync listed the whole prefix and every object is on
	// the board (Report.Sync has the counts).
	OutcomeSynced = "synced"
	// OutcomeDeleted: a mirrored delete removed the delivered file.
	OutcomeDeleted = "deleted"
	// OutcomeKept: a mirrored delete kept the file (Report.Reason says why:
	// changed since delivery, not delivered by edge-drop, ...).
	OutcomeKept = "kept"
	// OutcomeFailed: the run did not do its job; Report.ExitCode and
	// Reason say why.
	OutcomeFailed = "failed"
	// OutcomeOffline: the board was busy or offline for all of offlineWait
	// (the state machine's word; no task ran).
	OutcomeOffline = "offline"
)

// Outcomes lists every word above.
var Outcomes = []string{OutcomeDelivered, OutcomeUpToDate, OutcomeConflict, OutcomeGone, OutcomeSynced,
	OutcomeDeleted, OutcomeKept, OutcomeFailed, OutcomeOffline}

// OutcomeIsFailure says whether an outcome means the board did not do what
// was asked: those fail a fleet execution and fire its alarm.
func OutcomeIsFailure(status string) bool {
	return status == OutcomeFailed || status == OutcomeOffline
}

// EnvTaskToken carries the Step Functions task token of the state that
// started the task ($$.Task.Token of a runTask.sync state). When set, the
// task sends its Report as the state's output (states:SendTaskSuccess,
// which AWS allows for Task states using the job run pattern) before it
// exits; without it, or when sending fails, the state machine falls back
// to the exit code.
const EnvTaskToken = "EDGE_DROP_TASK_TOKEN"

// MaxReportedKeys bounds Report.FailedKeys (and any other list of keys in a
// Report): the report travels in the state machine's 256 KiB payload, once
// per board of a fleet.
const MaxReportedKeys = 5

// MaxSummary bounds Report.Summary in bytes (the task cuts it, at a rune
// boundary, ending in "…").
const MaxSummary = 512

// Report is what edge-drop-task says about one run: its last line on stdout
// (JSON, with "msg":"report" beside these fields) and, with EnvTaskToken,
// the output of the state that ran it. Every field is optional but Mode,
// Status, ExitCode and Summary.
type Report struct {
	Mode     string `json:"mode"`     // ModeDownload, ModeSync or ModeDelete
	Status   string `json:"status"`   // one of Outcomes (never OutcomeOffline)
	ExitCode int    `json:"exitCode"` // the process's exit code
	Class    string `json:"class,omitempty"`
	// Summary is the outcome in one line of words (at most MaxSummary
	// bytes): "delivered", "up_to_date", "conflict (copy kept as …)",
	// "synced (3 new, 1 updated, 0 deleted)", "kept (changed since
	// delivery)", "failed (exit 6 local_io: …)".
	Summary string `json:"summary"`

	// Download and delete: the object and where it is on the board.
	Key       string `json:"key,omitempty"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Path      string `json:"path,omitempty"` // relative to the data dir
	// ConflictCopy is the name (relative to the data dir) under which the
	// bytes that were at Path were kept.
	ConflictCopy string `json:"conflictCopy,omitempty"`
	// Reason says why, for kept and failed.
	Reason string `json:"reason,omitempty"`

	// Sync: the counts, and the first failed keys (at most MaxReportedKeys).
	Sync       *SyncCounts `json:"sync,omitempty"`
	FailedKeys []string    `json:"failedKeys,omitempty"`

	// Keys: a key-list task's (EnvKeys) outcome per key, in the list's
	// order (at most MaxReportedKeyOutcomes); Status and ExitCode are the
	// worst of them (WorstOutcome, WorstExit).
	Keys []KeyOutcome `json:"keys,omitempty"`

	// TaskArn is the ECS task's own ARN, from its task metadata endpoint
	// (empty when not run by ECS, or when the endpoint did not answer).
	TaskArn string `json:"taskArn,omitempty"`
}

// SyncCounts are a sync's tallies.
type SyncCounts struct {
	Listed        int `json:"listed"`
	New           int `json:"new"`      // files that were not on the board
	Updated       int `json:"updated"`  // files replaced by a newer version (or re-fetched after a change on the board)
	UpToDate      int `json:"upToDate"` // already there, verified
	Deleted       int `json:"deleted"`  // mirrored deletes that removed a file
	Kept          int `json:"kept"`     // mirrored deletes that kept a file (changed, not ours)
	Conflicts     int `json:"conflicts"`
	SkippedUnsafe int `json:"skippedUnsafe"` // keys no board path can hold safely
	Failed        int `json:"failed"`
	Folders       int `json:"folders"`
}

// Words is a sync's counts in words: "3 new, 1 updated, 0 deleted".
func (c SyncCounts) Words() string {
	w := fmt.Sprintf("%d new, %d updated, %d deleted", c.New, c.Updated, c.Deleted)
	for _, extra := range []struct {
		n    int
		what string
	}{{c.Kept, "kept"}, {c.Conflicts, "conflicts"}, {c.SkippedUnsafe, "skipped_unsafe"}, {c.Failed, "failed"}} {
		if extra.n > 0 {
			w += fmt.Sprintf(", %d %s", extra.n, extra.what)
		}
	}
	return w
}

// Cut shortens s to at most n bytes at a rune boundary, ending in "…" when
// it cut anything.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	i := max(n-len(ell), 0)
	for i > 0 && !isRuneStart(s[i]) {
		i--
	}
	return strings.TrimRight(s[:i], " ") + ell
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Outcome is one board's result in a fleet execution's output (and in the
// ledger): the task's Report condensed, or what the state machine knows
// when no task ran or none reported.
type Outcome struct {
	Board    string `json:"board"`
	Instance string `json:"instance"`
	Status   string `json:"status"`   // one of Outcomes
	ExitCode *int   `json:"exitCode"` // null (or absent) when no task exited
	// TaskArn is null (or absent) when no task ran, or when the task's
	// report is the outcome and does not carry Report.TaskArn.
	TaskArn *string `json:"taskArn"`
	// Cause is the outcome in words: Report.Summary when the task
	// reported, else what the state machine knows (the exit code's
	// description, RunTask's failures, ECS's stop reason).
	Cause string      `json:"cause"`
	Sync  *SyncCounts `json:"sync,omitempty"`
}

// Words is the outcome as a person reads it: the cause when it already
// says the status (the task's summary: "up_to_date", "conflict (copy kept
// as …)", "synced (3 new, 1 updated, 0 deleted)", "kept (changed since
// delivery)", "failed (exit 6 local_io: …)"), else the status with the
// cause in brackets ("failed (exit 3 unsafe_key: unsafe or invalid object
// key)", "offline (AmazonECS.Unknown: …)"), or the bare status ("delivered",
// "synced (counts)" when only the counts are known).
func (o Outcome) Words() string {
	switch {
	case o.Cause == o.Status || strings.HasPrefix(o.Cause, o.Status+" "):
		return o.Cause
	case o.Cause != "":
		return o.Status + " (" + o.Cause + ")"
	case o.Status == OutcomeSynced && o.Sync != nil:
		return o.Status + " (" + o.Sync.Words() + ")"
	}
	return o.Status
}

// ParseOutcome reads one board's Outcome as a state machine writes it (a
// state's output, JSON): an object whose status is one of Outcomes.
func ParseOutcome(b []byte) (Outcome, error) {
	var o Outcome
	if err := json.Unmarshal(b, &o); err != nil {
		return Outcome{}, fmt.Errorf("not an outcome: %v", err)
	}
	if !slices.Contains(Outcomes, o.Status) {
		return Outcome{}, fmt.Errorf("not an outcome: status %q is none of %v", o.Status, Outcomes)
	}
	return o, nil
}
