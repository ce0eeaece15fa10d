package ledgerdb

import (
	"context"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/ledger"
	"github.com/edge-drop/edge-drop/local/asl"
)

// The sync state machine's ledger states (sync-group.asl.json, asltest.GoldenDir)
// record each board's last sync: start, end, status, counts, and
// lastOkStart only when it ended synced (an offline sync keeps the one
// before).
func TestSyncStatesRecordTheLastSync(t *testing.T) {
	ctx := context.Background()
	s := start(t)
	createLedger(t, s)
	run := func(outcome map[string]any) {
		t.Helper()
		m := afterOutcome(t, "sync-group.asl.json", outcome,
			contract.StateRecordSync, contract.StateRecordSyncHistory, contract.StateSyncLedgerFailed)
		ex := m.Execute(ctx, map[string]any{}, asl.Options{Task: s.Integration})
		if ex.Status != asl.StatusSucceeded || ex.Path[len(ex.Path)-1].Name != contract.StateRecordSyncHistory {
			t.Fatalf("%s %s %s %+v", ex.Status, ex.Error, ex.Cause, ex.Path)
		}
	}
	run(map[string]any{"board": "b", "instance": "mi-2", "status": contract.OutcomeSynced, "exitCode": 0, "taskArn": nil, "cause": "synced (3 new, 0 updated, 0 deleted)",
		"sync": map[string]any{"listed": 5, "new": 3, "updated": 0, "upToDate": 2}})
	r := &ledger.Reader{DB: s.Client(), Table: "EdgeDrop-Ledger"}
	syncs, err := r.Syncs(ctx, []string{"b"})
	first := syncs["b"]
	if err != nil || first.Status != contract.OutcomeSynced || first.LastOKStart.IsZero() || !first.LastOKStart.Equal(first.Start) ||
		first.End.Before(first.Start) || time.Since(first.End) > time.Minute || first.Counts["new"] != 3 || first.Counts["listed"] != 5 {
		t.Fatalf("after a synced sync: %+v %v", first, err)
	}
	time.Sleep(5 * time.Millisecond) // a later execution start
	run(map[string]any{"board": "b", "instance": "mi-2", "status": contract.OutcomeOffline, "exitCode": nil, "taskArn": nil, "cause": "offline (AmazonECS.Unknown: AGENT)"})
	syncs, _ = r.Syncs(ctx, []string{"b"})
	if got := syncs["b"]; got.Status != contract.OutcomeOffline || !got.LastOKStart.Equal(first.LastOKStart) || got.Counts != nil {
		t.Fatalf("after an offline sync: %+v, want lastOkStart %v kept and no counts", got, first.LastOKStart)
	}
}
