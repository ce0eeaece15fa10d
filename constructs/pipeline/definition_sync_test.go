package pipeline_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// testdata/sync-group.asl.json (deliverTo=group:site1, mirrorDeletes,
// syncEvery 30m) and sync-routed.asl.json (routePrefix=to/) are the sync
// state machine's definitions: the task in sync mode on every board of
// the target, or on the one board its input names.

// runSync runs the sync definition name on input (JSON text).
func runSync(t *testing.T, name string, f *asltest.ECS, input string) *asl.Execution {
	t.Helper()
	var in any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		t.Fatal(err)
	}
	return runDefinition(t, name, f, in)
}

func TestSyncDefinitionRunsTheTaskInSyncModeOnEveryBoard(t *testing.T) {
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-1", "shop-1", "ok"), board("mi-2", "shop-2", "ok")},
		Matches: map[string][]string{groupQuery: {"mi-1", "mi-2"}},
	}
	e := runSync(t, "sync-group", f, `{}`)
	if e.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	asltest.Equal(t, "queries", f.Queries(), []string{groupQuery})
	for _, b := range []string{"shop-1", "shop-2"} {
		env := f.Runs()[b]
		if env[contract.EnvMode] != contract.ModeSync || env[contract.EnvMirrorDeletes] != "true" || env[contract.EnvKeyPattern] != "demo*.txt" ||
			env[contract.EnvKeyPrefix] != "demo" || env[contract.EnvBucket] == "" {
			t.Errorf("%s ran with %v", b, env)
		}
	}
	asltest.Equal(t, "outcomes", len(e.Output.([]any)), 2)
}

func TestSyncOfOneBoardStaysInsideTheTarget(t *testing.T) {
	one := groupQuery + " and attribute:edge-drop.board == shop-2"
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-2", "shop-2", "ok")},
		Matches: map[string][]string{one: {"mi-2"}, groupQuery + " and attribute:edge-drop.board == elsewhere": {}},
	}
	if e := runSync(t, "sync-group", f, `{"board": "shop-2"}`); e.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	asltest.Equal(t, "query", f.Queries(), []string{one})
	if _, ok := f.Runs()["shop-2"]; !ok || len(f.Runs()) != 1 {
		t.Errorf("runs %v", f.Runs())
	}
	// A board outside the group matches nothing: NoBoards, nothing ran.
	f = &asltest.ECS{Boards: f.Boards, Matches: f.Matches}
	e := runSync(t, "sync-group", f, `{"board": "elsewhere"}`)
	if e.Status != asl.StatusFailed || e.Error != contract.ErrNoBoards || len(f.Runs()) != 0 {
		t.Errorf("outside the target: %s %s %v", e.Status, e.Error, f.Runs())
	}
}

func TestSyncRefusesABoardThatIsNotAName(t *testing.T) {
	for _, input := range []string{
		`{"board": "shop-1 or attribute:edge-drop.board exists"}`,
		`{"board": "shop'1"}`, `{"board": "-shop"}`, `{"board": "_shop"}`, `{"board": 7}`, `{"board": ""}`, `{"board": null}`,
		`{"board": "` + strings.Repeat("x", 64) + `"}`, // names are 1-63 characters
	} {
		f := &asltest.ECS{}
		e := runSync(t, "sync-group", f, input)
		if e.Status != asl.StatusFailed || e.Error != contract.ErrBadTarget || len(f.Queries()) != 0 {
			t.Errorf("%s: %s %s, queries %v", input, e.Status, e.Error, f.Queries())
		}
	}
}

func TestSyncReportsEveryBoardsOutcome(t *testing.T) {
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-1", "shop-1", "ok"), board("mi-2", "shop-2", "offline"), board("mi-3", "shop-3", "exit 11")},
		Matches: map[string][]string{groupQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e := runSync(t, "sync-group", f, `{}`)
	if e.Status != asl.StatusFailed || e.Error != contract.ErrSomeBoardsFailed {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	for _, want := range []string{`offline ["shop-2"]`, `failed ["shop-3"]`, "2 of the 3 boards"} {
		if !strings.Contains(e.Cause, want) {
			t.Errorf("cause %q lacks %q", e.Cause, want)
		}
	}
}

func TestRoutedSyncListsEachBoardsRoute(t *testing.T) {
	all := "attribute:edge-drop.board exists"
	f := &asltest.ECS{
		Boards:  []asltest.Board{board("mi-1", "shop-1", "ok"), board("mi-2", "kiosk_2", "ok")},
		Matches: map[string][]string{all: {"mi-1", "mi-2"}},
	}
	if e := runSync(t, "sync-routed", f, `{}`); e.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	var got []string
	for b, env := range f.Runs() {
		got = append(got, b+" "+env[contract.EnvKeyPrefix]+" "+env[contract.EnvStripComponents])
	}
	slices.Sort(got)
	asltest.Equal(t, "routes", got, []string{"kiosk_2 to/kiosk_2/ 2", "shop-1 to/shop-1/ 2"})
}

// Outcomes in words (issue 17): a sync's board says what it synced, with
// the counts; a failed sync's cause names its first failed keys, so it
// reads without the task's log; a task without a report is synced by its
// exit code.
func TestSyncOutcomesInWords(t *testing.T) {
	f := &asltest.ECS{
		Boards: []asltest.Board{
			board("mi-1", "shop-1", `report {"mode":"sync","status":"synced","exitCode":0,"summary":"synced (3 new, 1 updated, 2 deleted)",
				"sync":{"listed":9,"new":3,"updated":1,"upToDate":5,"deleted":2,"kept":0,"conflicts":0,"skippedUnsafe":0,"failed":0,"folders":0}}`),
			board("mi-2", "shop-2", `report {"mode":"sync","status":"failed","exitCode":11,"class":"partial","summary":"failed (exit 11 partial: 2 of 10 objects failed)",
				"sync":{"listed":10,"new":8,"updated":0,"upToDate":0,"deleted":0,"kept":0,"conflicts":0,"skippedUnsafe":0,"failed":2,"folders":0},
				"failedKeys":["demo-a.txt","demo-b.txt"]}`),
			board("mi-3", "shop-3", "ok"),
		},
		Matches: map[string][]string{groupQuery: {"mi-1", "mi-2", "mi-3"}},
	}
	e, got := tallyOf(t, "sync-group", f, map[string]any{})
	if e.Status != asl.StatusFailed || e.Error != contract.ErrSomeBoardsFailed || !strings.Contains(e.Cause, `failed ["shop-2"]`) {
		t.Fatalf("%s %s: %s", e.Status, e.Error, e.Cause)
	}
	if len(got) != 3 {
		t.Fatalf("outcomes %+v", got)
	}
	want := []struct{ status, cause, words string }{
		{contract.OutcomeSynced, "synced (3 new, 1 updated, 2 deleted)", "synced (3 new, 1 updated, 2 deleted)"},
		{contract.OutcomeFailed, `failed (exit 11 partial: 2 of 10 objects failed); failed keys: ["demo-a.txt","demo-b.txt"]`,
			`failed (exit 11 partial: 2 of 10 objects failed); failed keys: ["demo-a.txt","demo-b.txt"]`},
		{contract.OutcomeSynced, "synced (exit 0, the task sent no report)", "synced (exit 0, the task sent no report)"},
	}
	for i, w := range want {
		if got[i].Status != w.status || got[i].Cause != w.cause || got[i].Words() != w.words {
			t.Errorf("%s: %+v (words %q), want %s %q", got[i].Board, got[i], got[i].Words(), w.status, w.cause)
		}
	}
	if got[0].Sync == nil || got[0].Sync.New != 3 || got[0].Sync.Deleted != 2 || got[2].Sync != nil {
		t.Errorf("sync counts: %+v %+v", got[0].Sync, got[2].Sync)
	}
}
