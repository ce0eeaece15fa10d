package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fleetsim"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// testdata/fleet-board.asl.json (deliverTo=board:shop-1),
// fleet-group.asl.json (group:site1), fleet-all.asl.json (all) and
// fleet-routed.asl.json (routePrefix=to/, keyPattern=to/*) are the fleet
// definitions this package synthesizes (stacks/fleet_test.go keeps
// them in step). Here they run against a scripted ECS (asltest.ECS):
// container instances listed by cluster query, described, and RunTask
// pinned to one of them.

// tallied runs the execution and returns it with TallyOutcomes' tally
// (every outcome, and those not delivered), which the cause points to.
func tallied(t *testing.T, m *asl.Machine, event any, opts asl.Options) (*asl.Execution, map[string]any) {
	t.Helper()
	var out map[string]any
	opts.Observer = tallyObserver(&out)
	e := m.Execute(context.Background(), event, opts)
	tally, _ := out["tally"].(map[string]any)
	return e, tally
}

const groupQuery = "attribute:edge-drop.group.site1 exists"

func TestFleetGroupDeliversToEveryBoardOverTwoPages(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"ok"}, []string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 2}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	got := outcomes(t, e)
	asltest.Equal(t, "boards", len(got), 3)
	for i, o := range got {
		asltest.AssertJSON(t, o, fmt.Sprintf(`{"board":"shop-%d","instance":"mi-%017d","status":"delivered","exitCode":0,
			"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"delivered (exit 0, the task sent no report)"}`, i+1, i+1))
	}
	// Two pages: the second asks with the first's NextToken.
	lists := ecs.Calls(asltest.ResList)
	asltest.Equal(t, "list calls", len(lists), 2)
	asltest.AssertJSON(t, lists[0], `{"Cluster":"<cluster>","Filter":"`+groupQuery+`","Status":"ACTIVE","MaxResults":10}`)
	asltest.AssertJSON(t, lists[1], `{"Cluster":"<cluster>","Filter":"`+groupQuery+`","Status":"ACTIVE","MaxResults":10,"NextToken":"page-2"}`)
	asltest.Equal(t, "describe calls", len(ecs.Calls(asltest.ResDescribe)), 2)
	// Each task pinned to its board, with the object's environment.
	placed := ecs.Placements()
	slices.Sort(placed)
	asltest.Equal(t, "placements", placed, []string{
		"ec2InstanceId == mi-00000000000000001 (memberOf)", "ec2InstanceId == mi-00000000000000002 (memberOf)",
		"ec2InstanceId == mi-00000000000000003 (memberOf)"})
	run := ecs.Calls(asltest.ResRunTask)[0]
	asltest.Equal(t, "launch type", run["LaunchType"], any("EXTERNAL"))
	// The object's environment, and the state's task token last (its value
	// differs per attempt).
	env := run["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)["Environment"].([]any)
	token := env[len(env)-1].(map[string]any)
	if token["Name"] != contract.EnvTaskToken || token["Value"] == "" {
		t.Errorf("the last variable is %v, want %s with the task token", token, contract.EnvTaskToken)
	}
	asltest.AssertJSON(t, env[:len(env)-1], `[
		{"Name":"EDGE_DROP_BUCKET","Value":"edge-drop-inbox"},{"Name":"EDGE_DROP_KEY","Value":"demo-1.txt"},
		{"Name":"EDGE_DROP_EVENT_SEQUENCER","Value":"00617F08299329D189"},
		{"Name":"EDGE_DROP_EVENT_ETAG","Value":"b1946ac92492d2347c6235b4d2611184"},
		{"Name":"EDGE_DROP_EVENT_SIZE","Value":"5"}]`)
}

func TestFleetOfflineBoardIsRetriedThenDelivered(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"offline", "offline", "offline", "ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25}
	sl := &asltest.Sleeps{}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 1 }})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	asltest.Equal(t, "statuses", []any{outcomes(t, e)[0]["status"], outcomes(t, e)[1]["status"]}, []any{"delivered", "delivered"})
	// The spread wait, then the schedule without jitter.
	asltest.Equal(t, "waits after the spread (s)", spread(t, sl), []float64{15, 30})
}

// spread checks the first wait (the random spread, 0-14 s) and returns
// the others.
func spread(t *testing.T, sl *asltest.Sleeps) []float64 {
	t.Helper()
	w := sl.Seconds()
	if len(w) == 0 || w[0] < 0 || w[0] >= 15 || w[0] != float64(int(w[0])) {
		t.Fatalf("waits %v: the first must be the spread, a whole 0-14 s", w)
	}
	return w[1:]
}

func TestFleetBoardOfflinePastOfflineWaitFailsTheExecutionNamingIt(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"offline"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25}
	sl := &asltest.Sleeps{}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 1 }})
	asltest.Equal(t, "status", e.Status, asl.StatusFailed)
	asltest.Equal(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	// offlineWait=30m: after the spread, 10 retries without jitter whose
	// waits add up to 1,965 s >= 1,800 s.
	asltest.Equal(t, "waits after the spread (s)", spread(t, sl), []float64{15, 30, 60, 120, 240, 300, 300, 300, 300, 300})
	asltest.Equal(t, "attempts on the offline board", ecs.Tries("mi-00000000000000002"), 12)
	asltest.Equal(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 1 of the 2 boards of group:site1: offline ["shop-2"], failed [] (outcomes: output of TallyOutcomes)`)
	asltest.AssertJSON(t, tally["undelivered"], `[{"board":"shop-2","instance":"mi-00000000000000002","status":"offline",
		"cause":"AmazonECS.Unknown: {\"Failures\":[{\"Arn\":\"`+asltest.ContainerInstanceARN("mi-00000000000000002")+`\",\"Reason\":\"AGENT\"}]}"}]`)
}

func TestFleetTaskExitIsAFailedOutcomeWithTheExitCode(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"exit 3"}, []string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "status", e.Status, asl.StatusFailed)
	asltest.Equal(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	asltest.Equal(t, "no retry of a task that ran", ecs.Tries("mi-00000000000000002"), 1)
	asltest.Equal(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 1 of the 3 boards of group:site1: offline [], failed ["shop-2"] (outcomes: output of TallyOutcomes)`)
	asltest.AssertJSON(t, tally["undelivered"], `[{"board":"shop-2","cause":"exit 3 unsafe_key: unsafe or invalid object key","exitCode":3,
		"instance":"mi-00000000000000002","status":"failed","taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/mi-00000000000000002"}]`)
	asltest.AssertJSON(t, tally["boards"], `3`)
}

func TestFleetZeroBoardsIsNoBoards(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	ecs := &asltest.ECS{Matches: map[string][]string{groupQuery: nil}, PageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "status", e.Status, asl.StatusFailed)
	asltest.Equal(t, "error", e.Error, "EdgeDrop.NoBoards")
	asltest.Equal(t, "cause", e.Cause, "no registered board matches group:site1 (cluster query: "+groupQuery+"): s3://edge-drop-inbox/demo-1.txt was not delivered")
	asltest.Equal(t, "describe/run calls", len(ecs.Calls(asltest.ResDescribe))+len(ecs.Calls(asltest.ResRunTask)), 0)
}

func TestFleetMemberWithoutABoardNameGetsNoTask(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := append(asltest.SiteBoards([]string{"ok"}), asltest.Board{Instance: "mi-0000000000000000f", Attempts: []string{"ok"}})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	asltest.Equal(t, "placements", ecs.Placements(), []string{"ec2InstanceId == mi-00000000000000001 (memberOf)"})
	if !strings.Contains(e.Cause, `failed ["mi-0000000000000000f"]`) {
		t.Errorf("cause: %s", e.Cause)
	}
	asltest.AssertJSON(t, tally["undelivered"], `[{"board":"mi-0000000000000000f","instance":"mi-0000000000000000f","status":"failed",
		"cause":"the container instance has no edge-drop.board attribute: name it (make register prints the put-attributes command)"}]`)
}

func TestFleetRoutedKeyGoesToTheNamedBoardOrGroup(t *testing.T) {
	m := asltest.Definition(t, "fleet-routed")
	boards := asltest.SiteBoards([]string{"ok"}, []string{"ok"})
	query := "attribute:edge-drop.board == site1 or attribute:edge-drop.group.site1 exists"
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{query: asltest.IDs(boards)}, PageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "to/site1/reports/demo-1.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	asltest.Equal(t, "boards", len(outcomes(t, e)), 2)
	env := ecs.Calls(asltest.ResRunTask)[0]["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)["Environment"].([]any)
	asltest.AssertJSON(t, env[len(env)-2], `{"Name":"EDGE_DROP_STRIP_COMPONENTS","Value":"2"}`)
	asltest.AssertJSON(t, env[1], `{"Name":"EDGE_DROP_KEY","Value":"to/site1/reports/demo-1.txt"}`)
}

// A routed target that is not a name never reaches a cluster query: the
// execution fails before any ECS call, naming the key.
func TestFleetHostileRoutedTargetFailsBeforeAnyECSCall(t *testing.T) {
	m := asltest.Definition(t, "fleet-routed")
	for key, cause := range map[string]string{
		"to/a%20b/x.txt":                          "a%20b is not a valid board or group name",
		"to/x+or+attribute:ecs.os-type/y.txt":     "is not a valid board or group name",
		"to/shop%27%20or%20ec2InstanceId/y.txt":   "is not a valid board or group name",
		"to/a.b/c.txt":                            "a.b is not a valid board or group name",
		"to/-x/c.txt":                             "-x is not a valid board or group name",
		"to/_x/c.txt":                             "_x is not a valid board or group name",
		"to/(x)/c.txt":                            "(x) is not a valid board or group name",
		"to/x=y/c.txt":                            "x=y is not a valid board or group name",
		"to/~x*/c.txt":                            "~x* is not a valid board or group name",
		"to//x.txt":                               "names no board or group: keys are to/<board-or-group>/<path>",
		"to/x.txt":                                "names no board or group",
		"to/%E2%9C%93/c.txt":                      "%E2%9C%93 is not a valid board or group name",
		"to/\u00e9t\u00e9/c.txt":                  "is not a valid board or group name",
		"to/shop\"1/c.txt":                        "is not a valid board or group name",
		"to/shop%0Aattribute:edge-drop.board/c.t": "is not a valid board or group name",
		// Names are 1-63 characters (contract.NamePattern): a 64-character
		// target never reaches the cluster query.
		"to/" + strings.Repeat("x", 64) + "/c.txt": strings.Repeat("x", 64) + " is not a valid board or group name",
	} {
		ecs := &asltest.ECS{PageSize: 25}
		ev := s3Event(t, "x").(map[string]any)
		ev["detail"].(map[string]any)["object"].(map[string]any)["key"] = key
		e := m.Execute(context.Background(), ev, asl.Options{Task: ecs.Handle})
		if e.Status != asl.StatusFailed || e.Error != "EdgeDrop.BadTarget" || !strings.Contains(e.Cause, cause) {
			t.Errorf("%s: %s %s %q, want EdgeDrop.BadTarget with %q", key, e.Status, e.Error, e.Cause, cause)
		}
		if n := ecs.CallKinds(); n != 0 {
			t.Errorf("%s: %d kinds of ECS call, want none: %v", key, n, ecs.Queries())
		}
	}
}

func TestFleetBoardAndAllTargetsQueryTheirBoards(t *testing.T) {
	boards := asltest.SiteBoards([]string{"ok"}, []string{"ok"})
	for name, tc := range map[string]struct {
		query string
		match []string
	}{
		"fleet-board": {"attribute:edge-drop.board == shop-1", asltest.IDs(boards[:1])},
		"fleet-all":   {"attribute:edge-drop.board exists", asltest.IDs(boards)},
	} {
		ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{tc.query: tc.match}, PageSize: 25}
		e := asltest.Definition(t, name).Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle})
		asltest.Equal(t, name+" status", e.Status, asl.StatusSucceeded)
		var got []string
		for _, o := range outcomes(t, e) {
			got = append(got, o["board"].(string)+" "+o["status"].(string))
		}
		want := []string{"shop-1 delivered", "shop-2 delivered"}[:len(tc.match)]
		asltest.Equal(t, name+" outcomes", got, want)
	}
}

func TestFleetListingRetriesECSThrottling(t *testing.T) {
	boards := asltest.SiteBoards([]string{"ok"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25, Throttled: 3}
	sl := &asltest.Sleeps{}
	e := asltest.Definition(t, "fleet-group").Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 1 }})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	asltest.Equal(t, "list calls", len(ecs.Calls(asltest.ResList)), 4)
	asltest.Equal(t, "waits (s)", sl.Seconds(), []float64{2, 4, 8})
}

// offlineWait is a guarantee (issue 17): with offlineWait=1m a board that
// comes back 40 s (or 59 s) after its first failure still gets the file,
// whatever the random draws; FULL jitter could wait close to nothing in
// all and report it offline (Rand 0 here: every jittered wait is 0).
func TestFleetBoardBackWithinOfflineWaitGetsTheFile(t *testing.T) {
	m := asltest.Definition(t, "fleet-wait-1m")
	for _, back := range []time.Duration{40 * time.Second, 59 * time.Second} {
		sl := &asltest.Sleeps{}
		boards := asltest.SiteBoards([]string{"ok"}, []string{"ok"})
		boards[1].BackAt = back
		ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25, Clock: sl}
		e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 0 }})
		asltest.Equal(t, "status (back after "+back.String()+")", e.Status, asl.StatusSucceeded)
		asltest.Equal(t, "board 2", outcomes(t, e)[1]["status"], any(contract.OutcomeDelivered))
	}
}

// A board that never comes back is given up only once the waits (the
// spread aside) add up to offlineWait.
func TestFleetOfflineBoardIsTriedForAllOfOfflineWait(t *testing.T) {
	m := asltest.Definition(t, "fleet-wait-1m")
	sl := &asltest.Sleeps{}
	boards := asltest.SiteBoards([]string{"ok"}, []string{"offline"})
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 0 }})
	asltest.Equal(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	waits := spread(t, sl)
	asltest.Equal(t, "waits after the spread (s)", waits, []float64{15, 30, 60})
	var sum float64
	for _, w := range waits[:len(waits)-1] {
		sum += w
	}
	if sum >= 60 {
		t.Errorf("one retry too many: %v already covers offlineWait", waits[:len(waits)-1])
	}
}

// Outcomes in words: the task's report decides the board's status and
// cause (no task ARN: a report does not carry it); only failed and
// offline fail the execution.
func TestFleetOutcomesComeFromTheReports(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards(
		[]string{`report {"mode":"download","status":"up_to_date","exitCode":0,"summary":"up_to_date"}`},
		[]string{`report {"mode":"download","status":"conflict","exitCode":0,"summary":"conflict (copy kept as demo-1.sync-conflict-20261206-101010.txt)","conflictCopy":"demo-1.sync-conflict-20261206-101010.txt"}`},
		[]string{`report {"mode":"download","status":"gone","exitCode":4,"summary":"gone"}`},
		[]string{"exit 4"}, // gone without a report
	)
	tokens := asl.NewTaskTokens()
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25, Tokens: tokens}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Tokens: tokens})
	asltest.Equal(t, "status", e.Status, asl.StatusSucceeded)
	got := outcomes(t, e)
	asltest.AssertJSON(t, got[0], `{"board":"shop-1","instance":"mi-00000000000000001","status":"up_to_date","exitCode":0,"cause":"up_to_date"}`)
	asltest.AssertJSON(t, got[1], `{"board":"shop-2","instance":"mi-00000000000000002","status":"conflict","exitCode":0,
		"cause":"conflict (copy kept as demo-1.sync-conflict-20261206-101010.txt)"}`)
	asltest.AssertJSON(t, got[2], `{"board":"shop-3","instance":"mi-00000000000000003","status":"gone","exitCode":4,"cause":"gone"}`)
	asltest.AssertJSON(t, got[3], `{"board":"shop-4","instance":"mi-00000000000000004","status":"gone","exitCode":4,
		"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/mi-00000000000000004","cause":"exit 4 not_found: object not found"}`)
}

func TestFleetFailedReportFailsTheBoardWithItsWords(t *testing.T) {
	m := asltest.Definition(t, "fleet-group")
	boards := asltest.SiteBoards([]string{"ok"},
		[]string{`report {"mode":"download","status":"failed","exitCode":6,"class":"local_io","summary":"failed (exit 6 local_io: no space left on device)"}`},
		[]string{`report {"mode":"download","status":"weird","exitCode":0,"summary":"?"}`})
	tokens := asl.NewTaskTokens()
	ecs := &asltest.ECS{Boards: boards, Matches: map[string][]string{groupQuery: asltest.IDs(boards)}, PageSize: 25, Tokens: tokens}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), asl.Options{Task: ecs.Handle, Tokens: tokens})
	asltest.Equal(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	asltest.Equal(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 2 of the 3 boards of group:site1: offline [], failed ["shop-2","shop-3"] (outcomes: output of TallyOutcomes)`)
	asltest.AssertJSON(t, tally["undelivered"], `[{"board":"shop-2","instance":"mi-00000000000000002","status":"failed","exitCode":6,
		"cause":"failed (exit 6 local_io: no space left on device)"},
		{"board":"shop-3","instance":"mi-00000000000000003","status":"failed","exitCode":0,"cause":"the task reported status weird: ?"}]`)
}

// A 63-character target is a name: it reaches the cluster query.
func TestFleetRoutedTargetOf63CharactersIsAName(t *testing.T) {
	m := asltest.Definition(t, "fleet-routed")
	name := strings.Repeat("x", 63)
	query := "attribute:edge-drop.board == " + name + " or attribute:edge-drop.group." + name + " exists"
	ecs := &asltest.ECS{Matches: map[string][]string{query: nil}, PageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "to/"+name+"/c.txt"), asl.Options{Task: ecs.Handle})
	asltest.Equal(t, "error", e.Error, "EdgeDrop.NoBoards")
	asltest.Equal(t, "queries", len(ecs.Calls(asltest.ResList)), 1)
}

// A redelivery ({"edgeDrop": {"board": B}}, as edge-drop redeliver --board
// starts it) reaches board B only. Extract keeps only the object's fields:
// the fan-out reads B from the execution's input (it once read the state's
// input, found nothing, and delivered to every board of the target).
func TestRedeliveryReachesOnlyTheNamedBoard(t *testing.T) {
	for _, name := range []string{"fleet-all", "fleet-group", "fleet-wait-1m"} {
		in := fleetsim.UploadEvent("demo1.txt")
		in[contract.RedeliverField] = map[string]any{contract.RedeliverBoard: "b3"}
		s := (&fleetsim.Fleet{Boards: 5}).Run(context.Background(), asltest.Definition(t, name), nil, in)
		if s.Status != asl.StatusSucceeded || s.RunTasks != 1 || s.TasksPerBoard["b3"] != 1 {
			t.Errorf("%s: %s, %d tasks %v: %v", name, s.Status, s.RunTasks, s.TasksPerBoard, s.Output)
		}
	}
}
