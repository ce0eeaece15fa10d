package pipeline_test

// The definition tests (definition_*_test.go) run the state machine
// definitions this package synthesizes, as kept in testdata/*.asl.json
// (the stacks tests keep each copy equal to the synth; `make golden`
// rewrites them), in the local interpreter against scripted ECS calls.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// s3Event is the EventBridge event of an upload of key.
func s3Event(t *testing.T, key string) any {
	t.Helper()
	return asltest.JSON(t, asltest.S3Event(t, key))
}

// board is a board of the scripted cluster whose every RunTask does
// attempt (asltest.Board.Attempts).
func board(instance, name, attempt string) asltest.Board {
	return asltest.Board{Instance: instance, Name: name, Attempts: []string{attempt}}
}

// outcomes is a fleet execution's output: one outcome per board.
func outcomes(t *testing.T, e *asl.Execution) []map[string]any {
	t.Helper()
	list, ok := e.Output.([]any)
	if !ok {
		t.Fatalf("output is not a list: %s", asltest.Canon(t, e.Output))
	}
	var out []map[string]any
	for _, o := range list {
		out = append(out, o.(map[string]any))
	}
	return out
}

// tallyObserver keeps in *out the output of the TallyOutcomes state (the
// delete branch's DeleteTallyOutcomes), where a failed execution's cause
// points to.
func tallyObserver(out *map[string]any) func(asl.Event) {
	return func(ev asl.Event) {
		if ev.Kind == asl.EventStateExited && strings.HasSuffix(ev.State, contract.StateTally) {
			*out, _ = ev.Output.(map[string]any)
		}
	}
}

// runDefinition runs the golden definition name on event against the
// scripted cluster f, its reports sent with their task tokens, retrying
// without waiting.
func runDefinition(t *testing.T, name string, f *asltest.ECS, event any) *asl.Execution {
	t.Helper()
	return runDefinitionWith(t, name, f, event, asl.Options{})
}

// runDefinitionWith is runDefinition with more options.
func runDefinitionWith(t *testing.T, name string, f *asltest.ECS, event any, opts asl.Options) *asl.Execution {
	t.Helper()
	f.Tokens = asl.NewTaskTokens()
	opts.Task, opts.Tokens, opts.Sleep = f.Handle, f.Tokens, asltest.NoWait
	return asltest.Definition(t, name).Execute(context.Background(), event, opts)
}

// tallyOf runs a definition and returns its outcomes, sorted by board: the
// output of its tally state (for a failed execution, where make sync
// reads them).
func tallyOf(t *testing.T, name string, f *asltest.ECS, event any) (*asl.Execution, []contract.Outcome) {
	t.Helper()
	var tally map[string]any
	e := runDefinitionWith(t, name, f, event, asl.Options{Observer: tallyObserver(&tally)})
	fleet, _ := tally["fleet"].(map[string]any)
	b, _ := json.Marshal(fleet["outcomes"])
	var out []contract.Outcome
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b contract.Outcome) int { return strings.Compare(a.Board, b.Board) })
	return e, out
}
