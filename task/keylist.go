package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// keyList delivers every key of a coalesced batch (contract.EnvKeys), one
// after another, each exactly as a task started for it alone would: its
// own lock, record, newest-version check against its event, conflict copy
// and outcome. One key's failure does not stop the others. The report's
// Keys hold each key's outcome; its status and exit code are the worst
// of them, so a batch with one failed key fails on the board's outcome.
func (r *runner) keyList(ctx context.Context, api *s3.Client, dl download.Options, code func(error) (exitcode.Code, error)) contract.Report {
	if os.Getenv("GOGC") == "" { // many objects: the GC runs from the start
		debug.SetGCPercent(50)
	}
	dl.OnTransfer = nil
	outcomes := make([]contract.KeyOutcome, 0, len(r.cfg.Keys))
	var codes []exitcode.Code
	var statuses []string
	for _, k := range r.cfg.Keys {
		var rep contract.Report
		if k.Deleted {
			rep = r.deleteOne(ctx, api, dl, k.Key, code)
		} else {
			one := dl
			one.Key = k.Key
			one.Event = download.Event{Sequencer: k.Sequencer, ETag: k.ETag, Size: -1}
			if k.Size != nil {
				one.Event.Size = *k.Size
			}
			rep = r.downloadOne(ctx, api, one, code)
		}
		c := exitcode.Code(rep.ExitCode)
		if rep.Status == contract.OutcomeGone {
			c = exitcode.OK // no failure; exit 4 only when every key is gone (below)
		}
		codes = append(codes, c)
		statuses = append(statuses, rep.Status)
		outcomes = append(outcomes, contract.KeyOutcome{
			Key: rep.Key, Status: rep.Status, ExitCode: rep.ExitCode,
			Summary: contract.Cut(rep.Summary, contract.MaxKeySummary),
		})
	}
	return keyListReport(outcomes, statuses, codes)
}

// keyListReport condenses the keys' outcomes: the worst status and exit
// code, a summary that counts the outcomes, the first failed keys.
func keyListReport(outcomes []contract.KeyOutcome, statuses []string, codes []exitcode.Code) contract.Report {
	worst := contract.WorstExit(codes...)
	status := contract.WorstOutcome(statuses...)
	if status == contract.OutcomeGone {
		worst = exitcode.NotFound // as a task for one gone key exits
	}
	counts := map[string]int{}
	var failedKeys []string
	for _, o := range outcomes {
		counts[o.Status]++
		if o.Status == contract.OutcomeFailed {
			failedKeys = append(failedKeys, o.Key)
		}
	}
	words := ""
	for _, s := range contract.Outcomes {
		if counts[s] > 0 {
			words += fmt.Sprintf(", %d %s", counts[s], s)
		}
	}
	noun := "keys"
	if len(outcomes) == 1 {
		noun = "key"
	}
	rep := contract.Report{
		Mode: contract.ModeDownload, Status: status, ExitCode: int(worst), Keys: outcomes, FailedKeys: failedKeys,
		Summary: fmt.Sprintf("%s (%d %s%s)", status, len(outcomes), noun, words),
	}
	if worst != exitcode.OK {
		rep.Class = worst.Class()
	}
	if status == contract.OutcomeFailed {
		rep.Reason = fmt.Sprintf("%d of %d keys failed; the worst: %s", counts[contract.OutcomeFailed], len(outcomes), worst.Describe())
	}
	if len(rep.Keys) > contract.MaxReportedKeyOutcomes {
		rep.Keys = rep.Keys[:contract.MaxReportedKeyOutcomes]
	}
	return rep
}
