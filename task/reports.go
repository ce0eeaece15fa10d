package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/bucketsync"
	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/prune"
)

// The Report of each outcome (contract.Report): what the state machine,
// the demo and the ledger read of a run. Summary is the outcome in words;
// finish cuts it to contract.MaxSummary.

// failed is the report of a run that did not do its job.
func failed(mode string, code exitcode.Code, err error) contract.Report {
	return contract.Report{
		Mode: mode, Status: contract.OutcomeFailed, ExitCode: int(code), Class: code.Class(),
		Summary: fmt.Sprintf("%s (exit %d %s: %s)", contract.OutcomeFailed, int(code), code.Class(), err),
		Reason:  err.Error(),
	}
}

// goneReport: the object was deleted before its delivery ran (404 for the
// decoded and the raw key). The exit code stays 4; the status says it is
// no failure.
func goneReport(bucket, key string, err error) contract.Report {
	return contract.Report{
		Mode: contract.ModeDownload, Status: contract.OutcomeGone, ExitCode: int(exitcode.NotFound), Class: exitcode.NotFound.Class(),
		Key:     key,
		Summary: fmt.Sprintf("%s (s3://%s/%s was deleted before its delivery ran; nothing written)", contract.OutcomeGone, bucket, key),
		Reason:  err.Error(),
	}
}

func downloadReport(res download.Result) contract.Report {
	rep := contract.Report{
		Mode: contract.ModeDownload, ExitCode: int(exitcode.OK),
		Key: res.Key, ETag: res.ETag, VersionID: res.VersionID, Path: res.Rel,
		ConflictCopy: res.ConflictCopy, Reason: res.Reason,
	}
	switch {
	case res.Folder:
		rep.Status, rep.Summary = contract.OutcomeDelivered, contract.OutcomeDelivered+" (folder marker: its directory is there)"
	case res.Lost != "":
		rep.Status = contract.OutcomeConflict
		rep.Summary = fmt.Sprintf("%s (%s holds %s; %s not delivered)", contract.OutcomeConflict, res.Lost, res.Rel, res.Key)
	case res.ConflictCopy != "":
		rep.Status = contract.OutcomeConflict
		rep.Summary = fmt.Sprintf("%s (copy kept as %s)", contract.OutcomeConflict, res.ConflictCopy)
	case res.Displaced != "":
		rep.Status = contract.OutcomeConflict
		rep.Summary = fmt.Sprintf("%s (%s took %s from %s)", contract.OutcomeConflict, res.Key, res.Rel, res.Displaced)
	case res.UpToDate && res.Reverified:
		rep.Status, rep.Summary = contract.OutcomeUpToDate, contract.OutcomeUpToDate+" (verified against the object's checksum)"
	case res.UpToDate:
		rep.Status, rep.Summary = contract.OutcomeUpToDate, contract.OutcomeUpToDate
	default:
		rep.Status, rep.Summary = contract.OutcomeDelivered, contract.OutcomeDelivered
	}
	return rep
}

func deleteReport(res prune.Result) contract.Report {
	rep := contract.Report{Mode: contract.ModeDelete, ExitCode: int(exitcode.OK), Key: res.Key, Path: res.Rel, Reason: res.Reason}
	switch res.Outcome {
	case prune.Removed:
		rep.Status, rep.Summary = contract.OutcomeDeleted, contract.OutcomeDeleted
	case prune.Nothing:
		rep.Status, rep.Summary = contract.OutcomeDeleted, contract.OutcomeDeleted+" (nothing was on the board)"
	case prune.Unsafe:
		rep.Status = contract.OutcomeDeleted
		rep.Summary = fmt.Sprintf("%s (nothing was on the board: skipped_unsafe %s)", contract.OutcomeDeleted, strconv.Quote(res.Key))
	default: // kept (why)
		rep.Status, rep.Summary = contract.OutcomeKept, string(res.Outcome)
	}
	return rep
}

// syncReport is a sync's report: its counts, and when it failed the exit
// code, the cause and the first failed keys.
func syncReport(sum bucketsync.Summary, code exitcode.Code, err error) contract.Report {
	counts := contract.SyncCounts{
		Listed: sum.Listed, New: sum.New, Updated: sum.Updated, UpToDate: sum.UpToDate, Deleted: sum.Deleted, Kept: sum.Kept,
		Conflicts: sum.Conflicts, SkippedUnsafe: sum.Unsafe, Failed: sum.Failed, Folders: sum.Folders,
	}
	words := counts.Words()
	for _, extra := range []struct {
		n    int
		what string
	}{{sum.Skipped - sum.Unsafe, "skipped_too_large"}, {sum.Vanished, "gone"}} {
		if extra.n > 0 {
			words += fmt.Sprintf(", %d %s", extra.n, extra.what)
		}
	}
	rep := contract.Report{Mode: contract.ModeSync, ExitCode: int(code), Sync: &counts, FailedKeys: sum.FirstFailed()}
	if err == nil {
		rep.Status, rep.Summary = contract.OutcomeSynced, fmt.Sprintf("%s (%s)", contract.OutcomeSynced, words)
		return rep
	}
	rep.Status, rep.Class, rep.Reason = contract.OutcomeFailed, code.Class(), err.Error()
	rep.Summary = fmt.Sprintf("%s (exit %d %s: %s; %s)", contract.OutcomeFailed, int(code), code.Class(), strings.TrimSuffix(err.Error(), "."), words)
	return rep
}
