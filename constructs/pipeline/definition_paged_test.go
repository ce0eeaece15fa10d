package pipeline_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fleetsim"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// The paged delivery at 10,000 boards, in the interpreter: the definitions
// this package synthesizes (testdata/fleet-paged.asl.json and
// fleet-page.asl.json, kept equal to the synth by stacks), ECS answered by
// fleetsim's stand-in whose boards acknowledge without a process. Each
// board must get exactly one task and one outcome, and each execution's
// history must stay within what FleetTiming promises (and under 25,000).

// PageMachineRef is how the parent's definition names its child.
const pageMachineRef = "${PipelinePageStateMachine42EFD0AD}"

func TestPagedDeliveryToTenThousandBoardsInTheInterpreter(t *testing.T) {
	const n = 10_000
	parent, child := asltest.Definition(t, "fleet-paged"), asltest.Definition(t, "fleet-page")
	fleet := &fleetsim.Fleet{Boards: n}
	s := fleet.Run(context.Background(), parent, map[string]*asl.Machine{pageMachineRef: child}, fleetsim.UploadEvent("demo1.txt"))
	if s.Status != asl.StatusSucceeded {
		t.Fatalf("%s: %v", s.Status, s.Output)
	}

	// One task and one outcome per board.
	if len(s.TasksPerBoard) != n || s.RunTasks != n {
		t.Errorf("%d boards got %d tasks, want %d and %d", len(s.TasksPerBoard), s.RunTasks, n, n)
	}
	for b, runs := range s.TasksPerBoard {
		if runs != 1 {
			t.Errorf("board %s got %d tasks", b, runs)
		}
	}
	b, _ := json.Marshal(s.Output)
	var summary contract.FleetSummary
	if err := json.Unmarshal(b, &summary); err != nil || summary.Boards != n || summary.Counts[contract.OutcomeDelivered] != n || summary.Undelivered != 0 {
		t.Errorf("summary %s (%v)", b, err)
	}

	// The history arithmetic, per execution.
	timing := pipeline.FleetTiming{TaskTimeout: 30 * time.Minute, OfflineWait: 30 * time.Minute}
	children, most := 0, 0
	for exec, events := range s.History {
		bound := timing.PageEvents(pipeline.BoardsPerChild)
		if exec == "parent" {
			bound = pipeline.PagedEvents(n)
		} else {
			children++
			most = max(most, events)
		}
		if events > bound || events > pipeline.MaxHistoryEvents {
			t.Errorf("%s: %d history events, over its bound %d (limit %d)", exec, events, bound, pipeline.MaxHistoryEvents)
		}
	}
	if children != n/pipeline.BoardsPerChild {
		t.Errorf("%d child executions, want %d", children, n/pipeline.BoardsPerChild)
	}
	// A delivered board costs 24 events (docs/fleet.md: 14, and 10 for the
	// ledger's two writes): a child's 100 boards and its 10 chunks of
	// describing.
	if want := 10 + 100*24 + 10*19; most != want {
		t.Errorf("the fullest child: %d history events, want %d", most, want)
	}
	t.Logf("| boards | executions | history events: parent (bound) | child, most (bound at worst) | state transitions | interpreter s |\n|---:|---:|---:|---:|---:|---:|\n| %d | %d | %d (%d) | %d (%d) | %d | %.1f |",
		n, s.Executions, s.History["parent"], pipeline.PagedEvents(n), most, timing.PageEvents(pipeline.BoardsPerChild), s.Transitions, s.Took.Seconds())
}

// Boards that fail are counted and named (at most NamedBoardsCap), and the
// delivery fails; a child execution that fails as a whole counts its page
// as failed, never as delivered.
func TestPagedDeliveryReportsFailedBoardsAndFailedPages(t *testing.T) {
	parent, child := asltest.Definition(t, "fleet-paged"), asltest.Definition(t, "fleet-page")
	failing := &fleetsim.Fleet{Boards: 250, Report: map[string]any{"status": contract.OutcomeFailed, "exitCode": 6, "summary": "failed (exit 6 local_io: no space left on device)"}}
	s := failing.Run(context.Background(), parent, map[string]*asl.Machine{pageMachineRef: child}, fleetsim.UploadEvent("demo1.txt"))
	out, _ := s.Output.(map[string]any)
	cause, _ := out["cause"].(string)
	if s.Status != asl.StatusFailed || out["error"] != contract.ErrSomeBoardsFailed || !strings.Contains(cause, "was not delivered to 250 of the 250 boards of all") {
		t.Fatalf("%s %v", s.Status, s.Output)
	}
	if named := strings.Count(cause, `"b`); named != pipeline.NamedBoardsCap {
		t.Errorf("the cause names %d boards, want %d: %s", named, pipeline.NamedBoardsCap, cause)
	}

	broken, err := asl.Parse([]byte(`{"StartAt":"Broken","States":{"Broken":{"Type":"Fail","Error":"States.Timeout","Cause":"the child timed out"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s = (&fleetsim.Fleet{Boards: 150}).Run(context.Background(), parent, map[string]*asl.Machine{pageMachineRef: broken}, fleetsim.UploadEvent("demo1.txt"))
	out, _ = s.Output.(map[string]any)
	cause, _ = out["cause"].(string)
	if s.Status != asl.StatusFailed || !strings.Contains(cause, "150 of the 150 boards") || !strings.Contains(cause, "2 pages failed") {
		t.Errorf("failed children: %s %v", s.Status, s.Output)
	}
}

// A redelivery ({"edgeDrop": {"board": B}}) in a paged fleet reaches board
// B only, through one page; a B that is not a name fails before any
// cluster query; a B the fleet does not have is NoBoards.
func TestPagedRedeliveryReachesOnlyTheNamedBoard(t *testing.T) {
	parent, child := asltest.Definition(t, "fleet-paged"), asltest.Definition(t, "fleet-page")
	children := map[string]*asl.Machine{pageMachineRef: child}
	redeliver := func(board any) map[string]any {
		in := fleetsim.UploadEvent("demo1.txt")
		in[contract.RedeliverField] = map[string]any{contract.RedeliverBoard: board}
		return in
	}

	s := (&fleetsim.Fleet{Boards: 10_000}).Run(context.Background(), parent, children, redeliver("b7777"))
	if s.Status != asl.StatusSucceeded || s.RunTasks != 1 || s.TasksPerBoard["b7777"] != 1 || s.Executions != 2 {
		t.Fatalf("redelivery to b7777: %s, %d tasks %v, %d executions: %v", s.Status, s.RunTasks, s.TasksPerBoard, s.Executions, s.Output)
	}
	b, _ := json.Marshal(s.Output)
	var summary contract.FleetSummary
	if err := json.Unmarshal(b, &summary); err != nil || summary.Boards != 1 || summary.Counts[contract.OutcomeDelivered] != 1 {
		t.Errorf("summary %s (%v)", b, err)
	}

	s = (&fleetsim.Fleet{Boards: 10}).Run(context.Background(), parent, children, redeliver("not a/name"))
	out, _ := s.Output.(map[string]any)
	if s.Status != asl.StatusFailed || out["error"] != contract.ErrBadTarget || s.RunTasks != 0 || s.Executions != 1 {
		t.Errorf("a bad name: %s, %d tasks, %d executions: %v", s.Status, s.RunTasks, s.Executions, s.Output)
	}

	s = (&fleetsim.Fleet{Boards: 10}).Run(context.Background(), parent, children, redeliver("b11"))
	out, _ = s.Output.(map[string]any)
	if s.Status != asl.StatusFailed || out["error"] != contract.ErrNoBoards || s.RunTasks != 0 {
		t.Errorf("a board the fleet lacks: %s, %d tasks: %v", s.Status, s.RunTasks, s.Output)
	}
}
