package localrun

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/ledger"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/ledgerdb"
)

// BenchmarkLedgerCost measures what the delivery ledger costs and gives,
// on the synthesized fleet (deliverTo=all, three boards) against dynalite:
// the state transitions of one board's delivery with the ledger's states
// and without them (the same iteration, its ledger states not counted),
// and the DynamoDB requests `edge-drop status KEY` makes (internal/ledger's
// Object). Run with -benchtime 1x; it prints a table.
func BenchmarkLedgerCost(b *testing.B) {
	asm := synthFleet(b, map[string]string{"deliverTo": "all"})
	db, err := ledgerdb.Start(context.Background(), ledgerdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var mu sync.Mutex
	entered := map[string][]string{} // by execution and iteration: the states entered
	h := start(b, asm, Options{Boards: threeBoards, Ledger: db, Observer: func(exec string, e asl.Event) {
		if e.Kind == asl.EventStateEntered && strings.HasPrefix(e.Iteration, contract.StateDeliverEach+"[") {
			mu.Lock()
			entered[exec+"/"+e.Iteration] = append(entered[exec+"/"+e.Iteration], e.State)
			mu.Unlock()
		}
	}})
	for i := range b.N {
		key := fmt.Sprintf("demo-ledger-%d.txt", i)
		h.put(key, []byte("bytes for the ledger\n"))
		if r := h.results(1)[key]; r.Execution.Status != asl.StatusSucceeded {
			b.Fatalf("%s %s", r.Execution.Status, r.Execution.Cause)
		}
	}
	b.StopTimer()
	with, without, boards := 0, 0, 0
	for _, states := range entered {
		boards++
		with += len(states)
		for _, s := range states {
			if s != contract.StateRecordOutcome && s != contract.StateRecordHistory && s != contract.StateLedgerNotWritten {
				without++
			}
		}
	}
	r := &ledger.Reader{DB: db.Client(), Table: h.p.Tables[0]}
	db.ResetRequests()
	rows, err := r.Object(context.Background(), "demo-ledger-0.txt")
	if err != nil || len(rows) != len(threeBoards) {
		b.Fatalf("status: %d rows, %v", len(rows), err)
	}
	queries := db.Requests("")
	added := float64(with-without) / float64(boards)
	fmt.Fprintf(os.Stdout, "\n%-48s %10s\n", "ledger cost (fleet of 3, deliverTo=all)", "value")
	fmt.Fprintf(os.Stdout, "%-48s %10.1f\n", "transitions per board delivery, without ledger", float64(without)/float64(boards))
	fmt.Fprintf(os.Stdout, "%-48s %10.1f\n", "transitions per board delivery, with ledger", float64(with)/float64(boards))
	fmt.Fprintf(os.Stdout, "%-48s %10.1f  (bound: 2)\n", "added by the ledger", added)
	fmt.Fprintf(os.Stdout, "%-48s %10d  (bound: 1)\n", "DynamoDB requests of edge-drop status KEY", queries)
	if added > 2 || queries != 1 {
		b.Errorf("the ledger adds %.1f transitions per board (want ≤ 2), status makes %d requests (want 1)", added, queries)
	}
}
