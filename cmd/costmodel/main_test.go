package main

import (
	"os"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// docs/cost.md is what the generator writes from a run of the definitions
// the app synthesizes (stacks keeps their golden copies equal to the
// synth): a changed definition or price fails here until `make cost`.
func TestCostDocIsTheGeneratorsOutput(t *testing.T) {
	rows, err := Measure(asltest.Golden(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/cost.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != b.String() {
		t.Error("docs/cost.md is not the generator's output: run make cost")
	}
	// The numbers come from the run: one RunTask per board reached, and a
	// paged delivery's 101 executions.
	for _, r := range rows {
		if r.RunTasks != r.Reached || r.Reached != r.Boards {
			t.Errorf("%s on %d: %d RunTasks for %d boards reached", r.Target, r.Boards, r.RunTasks, r.Reached)
		}
		if r.Boards == 10_000 && r.Executions != 101 {
			t.Errorf("%s on 10,000: %d executions", r.Target, r.Executions)
		}
	}
}
