package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

// testdata/fleet-board.asl.json (deliverTo=board:shop-1),
// fleet-group.asl.json (group:site1), fleet-all.asl.json (all) and
// fleet-routed.asl.json (routePrefix=to/, keyPattern=to/*) are the fleet
// definitions constructs/pipeline synthesizes (stacks/fleet_test.go keeps
// them in step). Here they run against a scripted ECS: container
// instances listed by cluster query, described, and RunTask pinned to one
// of them.

const (
	resList     = "arn:aws:states:::aws-sdk:ecs:listContainerInstances"
	resDescribe = "arn:aws:states:::aws-sdk:ecs:describeContainerInstances"
	resRunTask  = "arn:aws:states:::ecs:runTask.sync"
)

func loadFleet(t *testing.T, name string) *Machine {
	t.Helper()
	def, err := os.ReadFile("testdata/" + name + ".asl.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeBoard is one container instance. attempts scripts its RunTasks in
// order, the last repeating: "ok" (exit 0, no report), "offline" (RunTask
// failure AGENT), "exit N" (the task ran and exited N, no report) or
// "report {...}" (the task sent that Report with its task token, then
// exited with the report's exitCode). backAt, if set, makes every
// attempt before that much waiting (the fakeSleep's total) "offline".
type fakeBoard struct {
	name     string // "" = no edge-drop.board attribute
	instance string
	attempts []string
	backAt   time.Duration
}

// fakeECS answers the three ECS calls of the fleet definition. matches
// maps a cluster query to the boards it selects; any other query is an
// Ecs.InvalidParameterException, so the test asserts the exact query.
type fakeECS struct {
	boards   []fakeBoard
	matches  map[string][]string // query → instance ids
	pageSize int
	// throttled is how many calls (list or describe) answer
	// Ecs.ThrottlingException first.
	throttled int
	// tokens completes the reports ("report ..." attempts); clock is the
	// time waited so far (backAt).
	tokens *TaskTokens
	clock  *fakeSleep

	mu    sync.Mutex
	calls map[string][]map[string]any
	tries map[string]int
}

func (f *fakeECS) board(instance string) fakeBoard {
	for _, b := range f.boards {
		if b.instance == instance {
			return b
		}
	}
	panic("no board " + instance)
}

func arnOf(instance string) string {
	return "arn:aws:ecs:eu-west-1:123456789012:container-instance/edge-drop/" + instance
}

func (f *fakeECS) handler(_ context.Context, resource string, params any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := params.(map[string]any)
	if f.calls == nil {
		f.calls, f.tries = map[string][]map[string]any{}, map[string]int{}
	}
	f.calls[resource] = append(f.calls[resource], p)
	if f.throttled > 0 && resource != resRunTask {
		f.throttled--
		return nil, &Error{Name: "Ecs.ThrottlingException", Cause: "Rate exceeded"}
	}
	switch resource {
	case resList:
		ids, ok := f.matches[p["Filter"].(string)]
		if !ok {
			return nil, &Error{Name: "Ecs.InvalidParameterException", Cause: "unexpected query " + p["Filter"].(string)}
		}
		start := 0
		if tok, ok := p["NextToken"].(string); ok {
			fmt.Sscanf(tok, "page-%d", &start)
		}
		end := min(start+f.pageSize, len(ids))
		out := map[string]any{"ContainerInstanceArns": []any{}}
		for _, id := range ids[start:end] {
			out["ContainerInstanceArns"] = append(out["ContainerInstanceArns"].([]any), arnOf(id))
		}
		if end < len(ids) {
			out["NextToken"] = fmt.Sprintf("page-%d", end)
		}
		return out, nil
	case resDescribe:
		var instances []any
		for _, arn := range p["ContainerInstances"].([]any) {
			b := f.board(arn.(string)[strings.LastIndex(arn.(string), "/")+1:])
			attrs := []any{map[string]any{"Name": "ecs.os-type", "Value": "linux"}}
			if b.name != "" {
				attrs = append(attrs, map[string]any{"Name": "edge-drop.board", "Value": b.name})
			}
			instances = append(instances, map[string]any{
				"ContainerInstanceArn": arn, "Ec2InstanceId": b.instance, "AgentConnected": true,
				"Status": "ACTIVE", "Attributes": attrs,
			})
		}
		return map[string]any{"ContainerInstances": instances, "Failures": []any{}}, nil
	case resRunTask:
		expr := p["PlacementConstraints"].([]any)[0].(map[string]any)["Expression"].(string)
		id := strings.TrimPrefix(expr, "ec2InstanceId == ")
		b := f.board(id)
		i := min(f.tries[id], len(b.attempts)-1)
		f.tries[id]++
		task := "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/" + id
		a := b.attempts[i]
		if b.backAt > 0 && f.clock.total() < b.backAt {
			a = "offline"
		}
		switch {
		case strings.HasPrefix(a, "report "):
			var report struct{ ExitCode int }
			_ = json.Unmarshal([]byte(strings.TrimPrefix(a, "report ")), &report)
			if err := f.tokens.SendTaskSuccess(taskEnv(p)[contract.EnvTaskToken], strings.TrimPrefix(a, "report ")); err != nil {
				return nil, err
			}
			if report.ExitCode != 0 { // the task exits after reporting; its report came first
				stopped := ecsResult(report.ExitCode, "Essential container in task exited")
				cause, _ := json.Marshal(stopped)
				return nil, &Error{Name: "States.TaskFailed", Cause: string(cause)}
			}
			return ecsResult(0, "Essential container in task exited"), nil
		case a == "ok":
			return ecsResult(0, "Essential container in task exited"), nil
		case a == "offline":
			return nil, &Error{Name: "AmazonECS.Unknown", Cause: `{"Failures":[{"Arn":"` + arnOf(id) + `","Reason":"AGENT"}]}`}
		default:
			var code int
			fmt.Sscanf(a, "exit %d", &code)
			stopped := ecsResult(code, "Essential container in task exited")
			stopped["TaskArn"] = task
			cause, _ := json.Marshal(stopped)
			return nil, &Error{Name: "States.TaskFailed", Cause: string(cause)}
		}
	}
	return nil, &Error{Name: "States.Runtime", Cause: "unexpected resource " + resource}
}

// taskEnv is a RunTask's container environment, by name.
func taskEnv(params map[string]any) map[string]string {
	env := map[string]string{}
	o := params["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
	for _, e := range o["Environment"].([]any) {
		env[e.(map[string]any)["Name"].(string)] = e.(map[string]any)["Value"].(string)
	}
	return env
}

// placements lists the instance of every RunTask, in call order.
func (f *fakeECS) placements() []string {
	var out []string
	for _, p := range f.calls[resRunTask] {
		expr := p["PlacementConstraints"].([]any)[0].(map[string]any)
		out = append(out, expr["Expression"].(string)+" ("+expr["Type"].(string)+")")
	}
	return out
}

func outcomes(t *testing.T, e *Execution) []map[string]any {
	t.Helper()
	list, ok := e.Output.([]any)
	if !ok {
		t.Fatalf("output is not a list: %s", canon(t, e.Output))
	}
	var out []map[string]any
	for _, o := range list {
		out = append(out, o.(map[string]any))
	}
	return out
}

// tallied runs the execution and returns it with TallyOutcomes' output
// (every outcome, and those not delivered), which the cause points to.
func tallied(t *testing.T, m *Machine, event any, opts Options) (*Execution, map[string]any) {
	t.Helper()
	var tally map[string]any
	opts.Observer = func(ev Event) {
		if ev.Kind == EventStateExited && ev.State == "TallyOutcomes" {
			tally = ev.Output.(map[string]any)["tally"].(map[string]any)
		}
	}
	return m.Execute(context.Background(), event, opts), tally
}

func siteBoards(attempts ...[]string) []fakeBoard {
	var out []fakeBoard
	for i, a := range attempts {
		out = append(out, fakeBoard{name: fmt.Sprintf("shop-%d", i+1), instance: fmt.Sprintf("mi-%017d", i+1), attempts: a})
	}
	return out
}

func ids(bs []fakeBoard) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.instance)
	}
	return out
}

const groupQuery = "attribute:edge-drop.group.site1 exists"

func TestFleetGroupDeliversToEveryBoardOverTwoPages(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := siteBoards([]string{"ok"}, []string{"ok"}, []string{"ok"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 2}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	got := outcomes(t, e)
	assertEqual(t, "boards", len(got), 3)
	for i, o := range got {
		assertJSON(t, o, fmt.Sprintf(`{"board":"shop-%d","instance":"mi-%017d","status":"delivered","exitCode":0,
			"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef","cause":"delivered (exit 0, the task sent no report)"}`, i+1, i+1))
	}
	// Two pages: the second asks with the first's NextToken.
	lists := ecs.calls[resList]
	assertEqual(t, "list calls", len(lists), 2)
	assertJSON(t, lists[0], `{"Cluster":"<cluster>","Filter":"`+groupQuery+`","Status":"ACTIVE","MaxResults":10}`)
	assertJSON(t, lists[1], `{"Cluster":"<cluster>","Filter":"`+groupQuery+`","Status":"ACTIVE","MaxResults":10,"NextToken":"page-2"}`)
	assertEqual(t, "describe calls", len(ecs.calls[resDescribe]), 2)
	// Each task pinned to its board, with the object's environment.
	placed := ecs.placements()
	slices.Sort(placed)
	assertEqual(t, "placements", placed, []string{
		"ec2InstanceId == mi-00000000000000001 (memberOf)", "ec2InstanceId == mi-00000000000000002 (memberOf)",
		"ec2InstanceId == mi-00000000000000003 (memberOf)"})
	run := ecs.calls[resRunTask][0]
	assertEqual(t, "launch type", run["LaunchType"], any("EXTERNAL"))
	// The object's environment, and the state's task token last (its value
	// differs per attempt).
	env := run["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)["Environment"].([]any)
	token := env[len(env)-1].(map[string]any)
	if token["Name"] != contract.EnvTaskToken || token["Value"] == "" {
		t.Errorf("the last variable is %v, want %s with the task token", token, contract.EnvTaskToken)
	}
	assertJSON(t, env[:len(env)-1], `[
		{"Name":"EDGE_DROP_BUCKET","Value":"edge-drop-inbox"},{"Name":"EDGE_DROP_KEY","Value":"demo-1.txt"},
		{"Name":"EDGE_DROP_EVENT_SEQUENCER","Value":"00617F08299329D189"},
		{"Name":"EDGE_DROP_EVENT_ETAG","Value":"b1946ac92492d2347c6235b4d2611184"},
		{"Name":"EDGE_DROP_EVENT_SIZE","Value":"5"}]`)
}

func TestFleetOfflineBoardIsRetriedThenDelivered(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := siteBoards([]string{"ok"}, []string{"offline", "offline", "offline", "ok"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25}
	sl := &fakeSleep{}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	assertEqual(t, "statuses", []any{outcomes(t, e)[0]["status"], outcomes(t, e)[1]["status"]}, []any{"delivered", "delivered"})
	// The spread wait, then the schedule without jitter.
	assertEqual(t, "waits after the spread (s)", spread(t, sl), []float64{15, 30})
}

// spread checks the first wait (the random spread, 0-14 s) and returns
// the others.
func spread(t *testing.T, sl *fakeSleep) []float64 {
	t.Helper()
	w := sl.seconds()
	if len(w) == 0 || w[0] < 0 || w[0] >= 15 || w[0] != float64(int(w[0])) {
		t.Fatalf("waits %v: the first must be the spread, a whole 0-14 s", w)
	}
	return w[1:]
}

func TestFleetBoardOfflinePastOfflineWaitFailsTheExecutionNamingIt(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := siteBoards([]string{"ok"}, []string{"offline"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25}
	sl := &fakeSleep{}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
	assertEqual(t, "status", e.Status, StatusFailed)
	assertEqual(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	// offlineWait=30m: after the spread, 10 retries without jitter whose
	// waits add up to 1,965 s >= 1,800 s.
	assertEqual(t, "waits after the spread (s)", spread(t, sl), []float64{15, 30, 60, 120, 240, 300, 300, 300, 300, 300})
	assertEqual(t, "attempts on the offline board", ecs.tries["mi-00000000000000002"], 12)
	assertEqual(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 1 of the 2 boards of group:site1: offline ["shop-2"], failed [] (outcomes: output of TallyOutcomes)`)
	assertJSON(t, tally["undelivered"], `[{"board":"shop-2","instance":"mi-00000000000000002","status":"offline",
		"cause":"AmazonECS.Unknown: {\"Failures\":[{\"Arn\":\"`+arnOf("mi-00000000000000002")+`\",\"Reason\":\"AGENT\"}]}"}]`)
}

func TestFleetTaskExitIsAFailedOutcomeWithTheExitCode(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := siteBoards([]string{"ok"}, []string{"exit 3"}, []string{"ok"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), Options{Task: ecs.handler})
	assertEqual(t, "status", e.Status, StatusFailed)
	assertEqual(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	assertEqual(t, "no retry of a task that ran", ecs.tries["mi-00000000000000002"], 1)
	assertEqual(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 1 of the 3 boards of group:site1: offline [], failed ["shop-2"] (outcomes: output of TallyOutcomes)`)
	assertJSON(t, tally["undelivered"], `[{"board":"shop-2","cause":"exit 3 unsafe_key: unsafe or invalid object key","exitCode":3,
		"instance":"mi-00000000000000002","status":"failed","taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/mi-00000000000000002"}]`)
	assertJSON(t, tally["boards"], `3`)
}

func TestFleetZeroBoardsIsNoBoards(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	ecs := &fakeECS{matches: map[string][]string{groupQuery: nil}, pageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler})
	assertEqual(t, "status", e.Status, StatusFailed)
	assertEqual(t, "error", e.Error, "EdgeDrop.NoBoards")
	assertEqual(t, "cause", e.Cause, "no registered board matches group:site1 (cluster query: "+groupQuery+"): s3://edge-drop-inbox/demo-1.txt was not delivered")
	assertEqual(t, "describe/run calls", len(ecs.calls[resDescribe])+len(ecs.calls[resRunTask]), 0)
}

func TestFleetMemberWithoutABoardNameGetsNoTask(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := append(siteBoards([]string{"ok"}), fakeBoard{instance: "mi-0000000000000000f", attempts: []string{"ok"}})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), Options{Task: ecs.handler})
	assertEqual(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	assertEqual(t, "placements", ecs.placements(), []string{"ec2InstanceId == mi-00000000000000001 (memberOf)"})
	if !strings.Contains(e.Cause, `failed ["mi-0000000000000000f"]`) {
		t.Errorf("cause: %s", e.Cause)
	}
	assertJSON(t, tally["undelivered"], `[{"board":"mi-0000000000000000f","instance":"mi-0000000000000000f","status":"failed",
		"cause":"the container instance has no edge-drop.board attribute: name it (make register prints the put-attributes command)"}]`)
}

func TestFleetRoutedKeyGoesToTheNamedBoardOrGroup(t *testing.T) {
	m := loadFleet(t, "fleet-routed")
	boards := siteBoards([]string{"ok"}, []string{"ok"})
	query := "attribute:edge-drop.board == site1 or attribute:edge-drop.group.site1 exists"
	ecs := &fakeECS{boards: boards, matches: map[string][]string{query: ids(boards)}, pageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "to/site1/reports/demo-1.txt"), Options{Task: ecs.handler})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	assertEqual(t, "boards", len(outcomes(t, e)), 2)
	env := ecs.calls[resRunTask][0]["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)["Environment"].([]any)
	assertJSON(t, env[len(env)-2], `{"Name":"EDGE_DROP_STRIP_COMPONENTS","Value":"2"}`)
	assertJSON(t, env[1], `{"Name":"EDGE_DROP_KEY","Value":"to/site1/reports/demo-1.txt"}`)
}

// A routed target that is not a name never reaches a cluster query: the
// execution fails before any ECS call, naming the key.
func TestFleetHostileRoutedTargetFailsBeforeAnyECSCall(t *testing.T) {
	m := loadFleet(t, "fleet-routed")
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
		ecs := &fakeECS{pageSize: 25}
		ev := s3Event(t, "x").(map[string]any)
		ev["detail"].(map[string]any)["object"].(map[string]any)["key"] = key
		e := m.Execute(context.Background(), ev, Options{Task: ecs.handler})
		if e.Status != StatusFailed || e.Error != "EdgeDrop.BadTarget" || !strings.Contains(e.Cause, cause) {
			t.Errorf("%s: %s %s %q, want EdgeDrop.BadTarget with %q", key, e.Status, e.Error, e.Cause, cause)
		}
		if n := len(ecs.calls); n != 0 {
			t.Errorf("%s: %d kinds of ECS call, want none: %v", key, n, ecs.calls)
		}
	}
}

func TestFleetBoardAndAllTargetsQueryTheirBoards(t *testing.T) {
	boards := siteBoards([]string{"ok"}, []string{"ok"})
	for name, tc := range map[string]struct {
		query string
		match []string
	}{
		"fleet-board": {"attribute:edge-drop.board == shop-1", ids(boards[:1])},
		"fleet-all":   {"attribute:edge-drop.board exists", ids(boards)},
	} {
		ecs := &fakeECS{boards: boards, matches: map[string][]string{tc.query: tc.match}, pageSize: 25}
		e := loadFleet(t, name).Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler})
		assertEqual(t, name+" status", e.Status, StatusSucceeded)
		var got []string
		for _, o := range outcomes(t, e) {
			got = append(got, o["board"].(string)+" "+o["status"].(string))
		}
		want := []string{"shop-1 delivered", "shop-2 delivered"}[:len(tc.match)]
		assertEqual(t, name+" outcomes", got, want)
	}
}

func TestFleetListingRetriesECSThrottling(t *testing.T) {
	boards := siteBoards([]string{"ok"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25, throttled: 3}
	sl := &fakeSleep{}
	e := loadFleet(t, "fleet-group").Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Sleep: sl.sleep, Rand: func() float64 { return 1 }})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	assertEqual(t, "list calls", len(ecs.calls[resList]), 4)
	assertEqual(t, "waits (s)", sl.seconds(), []float64{2, 4, 8})
}

// offlineWait is a guarantee (issue 17): with offlineWait=1m a board that
// comes back 40 s (or 59 s) after its first failure still gets the file,
// whatever the random draws; FULL jitter could wait close to nothing in
// all and report it offline (Rand 0 here: every jittered wait is 0).
func TestFleetBoardBackWithinOfflineWaitGetsTheFile(t *testing.T) {
	m := loadFleet(t, "fleet-wait-1m")
	for _, back := range []time.Duration{40 * time.Second, 59 * time.Second} {
		sl := &fakeSleep{}
		boards := siteBoards([]string{"ok"}, []string{"ok"})
		boards[1].backAt = back
		ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25, clock: sl}
		e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Sleep: sl.sleep, Rand: func() float64 { return 0 }})
		assertEqual(t, "status (back after "+back.String()+")", e.Status, StatusSucceeded)
		assertEqual(t, "board 2", outcomes(t, e)[1]["status"], any(contract.OutcomeDelivered))
	}
}

// A board that never comes back is given up only once the waits (the
// spread aside) add up to offlineWait.
func TestFleetOfflineBoardIsTriedForAllOfOfflineWait(t *testing.T) {
	m := loadFleet(t, "fleet-wait-1m")
	sl := &fakeSleep{}
	boards := siteBoards([]string{"ok"}, []string{"offline"})
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Sleep: sl.sleep, Rand: func() float64 { return 0 }})
	assertEqual(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	waits := spread(t, sl)
	assertEqual(t, "waits after the spread (s)", waits, []float64{15, 30, 60})
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
	m := loadFleet(t, "fleet-group")
	boards := siteBoards(
		[]string{`report {"mode":"download","status":"up_to_date","exitCode":0,"summary":"up_to_date"}`},
		[]string{`report {"mode":"download","status":"conflict","exitCode":0,"summary":"conflict (copy kept as demo-1.sync-conflict-20261206-101010.txt)","conflictCopy":"demo-1.sync-conflict-20261206-101010.txt"}`},
		[]string{`report {"mode":"download","status":"gone","exitCode":4,"summary":"gone"}`},
		[]string{"exit 4"}, // gone without a report
	)
	tokens := NewTaskTokens()
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25, tokens: tokens}
	e := m.Execute(context.Background(), s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Tokens: tokens})
	assertEqual(t, "status", e.Status, StatusSucceeded)
	got := outcomes(t, e)
	assertJSON(t, got[0], `{"board":"shop-1","instance":"mi-00000000000000001","status":"up_to_date","exitCode":0,"cause":"up_to_date"}`)
	assertJSON(t, got[1], `{"board":"shop-2","instance":"mi-00000000000000002","status":"conflict","exitCode":0,
		"cause":"conflict (copy kept as demo-1.sync-conflict-20261206-101010.txt)"}`)
	assertJSON(t, got[2], `{"board":"shop-3","instance":"mi-00000000000000003","status":"gone","exitCode":4,"cause":"gone"}`)
	assertJSON(t, got[3], `{"board":"shop-4","instance":"mi-00000000000000004","status":"gone","exitCode":4,
		"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/mi-00000000000000004","cause":"exit 4 not_found: object not found"}`)
}

func TestFleetFailedReportFailsTheBoardWithItsWords(t *testing.T) {
	m := loadFleet(t, "fleet-group")
	boards := siteBoards([]string{"ok"},
		[]string{`report {"mode":"download","status":"failed","exitCode":6,"class":"local_io","summary":"failed (exit 6 local_io: no space left on device)"}`},
		[]string{`report {"mode":"download","status":"weird","exitCode":0,"summary":"?"}`})
	tokens := NewTaskTokens()
	ecs := &fakeECS{boards: boards, matches: map[string][]string{groupQuery: ids(boards)}, pageSize: 25, tokens: tokens}
	e, tally := tallied(t, m, s3Event(t, "demo-1.txt"), Options{Task: ecs.handler, Tokens: tokens})
	assertEqual(t, "error", e.Error, "EdgeDrop.SomeBoardsFailed")
	assertEqual(t, "cause", e.Cause, `s3://edge-drop-inbox/demo-1.txt was not delivered to 2 of the 3 boards of group:site1: offline [], failed ["shop-2","shop-3"] (outcomes: output of TallyOutcomes)`)
	assertJSON(t, tally["undelivered"], `[{"board":"shop-2","instance":"mi-00000000000000002","status":"failed","exitCode":6,
		"cause":"failed (exit 6 local_io: no space left on device)"},
		{"board":"shop-3","instance":"mi-00000000000000003","status":"failed","exitCode":0,"cause":"the task reported status weird: ?"}]`)
}

// A 63-character target is a name: it reaches the cluster query.
func TestFleetRoutedTargetOf63CharactersIsAName(t *testing.T) {
	m := loadFleet(t, "fleet-routed")
	name := strings.Repeat("x", 63)
	query := "attribute:edge-drop.board == " + name + " or attribute:edge-drop.group." + name + " exists"
	ecs := &fakeECS{matches: map[string][]string{query: nil}, pageSize: 25}
	e := m.Execute(context.Background(), s3Event(t, "to/"+name+"/c.txt"), Options{Task: ecs.handler})
	assertEqual(t, "error", e.Error, "EdgeDrop.NoBoards")
	assertEqual(t, "queries", len(ecs.calls[resList]), 1)
}
