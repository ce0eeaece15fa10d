package ledgerdb

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// start starts dynalite until the test ends.
func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func createLedger(t *testing.T, s *Server) {
	t.Helper()
	if err := s.CreateTable(context.Background(), LedgerTable("EdgeDrop-Ledger")); err != nil {
		t.Fatal(err)
	}
}

// afterOutcome is a state machine of the named states of a golden
// definition (asltest.GoldenDir)'s per-board iteration (the Map state DeliverEach), after a
// Pass that stands for the board's outcome; first follows it.
func afterOutcome(t *testing.T, golden string, outcome map[string]any, first string, more ...string) *asl.Machine {
	t.Helper()
	raw := asltest.ReadGolden(t, golden)
	var def struct {
		States map[string]struct {
			ItemProcessor struct{ States map[string]any }
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	inner := def.States[contract.StateDeliverEach].ItemProcessor.States
	states := map[string]any{"Outcome": map[string]any{"Type": "Pass", "Result": outcome, "Next": first}}
	for _, n := range append([]string{first}, more...) {
		states[n] = inner[n]
	}
	b, _ := json.Marshal(map[string]any{"StartAt": "Outcome", "States": states})
	m, err := asl.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
