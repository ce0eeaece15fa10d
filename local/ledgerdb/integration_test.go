package ledgerdb

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/ledger"
	"github.com/edge-drop/edge-drop/local/asl"
)

// recordStates runs the ledger states of the synthesized fleet definition
// after the board's outcome, on event.
func recordStates(t *testing.T, s *Server, outcome map[string]any, event map[string]any) *asl.Execution {
	t.Helper()
	m := afterOutcome(t, "fleet-all.asl.json", outcome,
		contract.StateRecordOutcome, contract.StateRecordHistory, contract.StateLedgerNotWritten)
	var transitions int
	ex := m.Execute(context.Background(), event, asl.Options{Task: s.Integration, Observer: func(e asl.Event) {
		if e.Kind == asl.EventStateEntered {
			transitions++
		}
	}})
	if ex.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s %s", ex.Status, ex.Error, ex.Cause)
	}
	// The ledger's cost per board delivery: the states entered after the
	// outcome (at most 2 when the writes succeed or the condition fails).
	if added := transitions - 1; added > 2 && ex.Path[len(ex.Path)-1].Name != contract.StateLedgerNotWritten {
		t.Errorf("the ledger added %d state transitions to a board's delivery, want at most 2", added)
	}
	t.Logf("state transitions added by the ledger: %d (%s)", transitions-1, ex.Path[len(ex.Path)-1].Name)
	return ex
}

func s3Event(key, etag, sequencer string) map[string]any {
	return map[string]any{"detail": map[string]any{"object": map[string]any{"key": key, "etag": etag, "sequencer": sequencer}}}
}

// The synthesized ledger states write what internal/ledger reads: the
// current item (one Query for the object), the history (byTime), an older
// event never overwriting a newer one; the iteration's output stays the
// outcome; a table that is not there is counted, not a failure.
func TestLedgerStatesWriteWhatTheReaderReads(t *testing.T) {
	ctx := context.Background()
	s := start(t)
	r := &ledger.Reader{DB: s.Client(), Table: "EdgeDrop-Ledger"}

	outcome := map[string]any{"board": "a", "instance": "mi-1", "status": "delivered", "exitCode": 0, "taskArn": "arn:aws:ecs:eu-west-1:1:task/c/t1", "cause": "delivered"}
	// No table yet: the write fails, LedgerNotWritten keeps the outcome.
	ex := recordStates(t, s, outcome, s3Event("my+file%2B1.txt", "\"e1\"", "0A"))
	if got, _ := json.Marshal(ex.Output); string(got) != mustJSON(outcome) || ex.Path[len(ex.Path)-1].Name != contract.StateLedgerNotWritten {
		t.Fatalf("without a table: output %s, path %v", got, ex.Path)
	}

	createLedger(t, s)
	ex = recordStates(t, s, outcome, s3Event("my+file%2B1.txt", "\"e1\"", "0B"))
	if got, _ := json.Marshal(ex.Output); string(got) != mustJSON(outcome) || len(ex.Path) != 3 {
		t.Fatalf("output %s, path %v: want the outcome after Outcome, RecordBoardOutcome, RecordBoardHistory", got, ex.Path)
	}
	// An older event (sequencer 0A < 0B) fails: the current item stays.
	older := map[string]any{"board": "a", "instance": "mi-1", "status": "failed", "exitCode": 6, "taskArn": nil, "cause": "failed (exit 6)"}
	recordStates(t, s, older, s3Event("my+file%2B1.txt", "\"e0\"", "0A"))

	s.ResetRequests()
	rows, err := r.Object(ctx, "my file+1.txt")
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests("") != 1 {
		t.Errorf("status of one object took %d requests, want 1", s.Requests(""))
	}
	if len(rows) != 1 || rows[0].Board != "a" || rows[0].Status != "delivered" || rows[0].ETag != "e1" || rows[0].Mode != contract.ModeDownload ||
		rows[0].ExitCode == nil || *rows[0].ExitCode != 0 || rows[0].TaskArn != "arn:aws:ecs:eu-west-1:1:task/c/t1" ||
		time.Since(rows[0].At) > time.Minute || rows[0].Execution == "" {
		t.Fatalf("current rows: %+v", rows)
	}
	board, err := r.Board(ctx, "a")
	if err != nil || len(board) != 1 || board[0].Key != "my file+1.txt" {
		t.Fatalf("byBoard: %+v %v", board, err)
	}
	day := time.Now().UTC().Format("2006-01-02")
	hist, err := r.Day(ctx, day, "", 0)
	if err != nil || len(hist) != 2 || hist[0].Kind != contract.KindHistory || hist[1].Status != "failed" || hist[1].ExitCode == nil || *hist[1].ExitCode != 6 || hist[1].TaskArn != "" {
		t.Fatalf("history of %s: %+v %v", day, hist, err)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
