package asl_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// mapDef wraps Map state fields into a one-state machine; the iteration runs
// the given states starting at the first name in start.
func mapDef(fields, start, states string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `"ItemProcessor":{"StartAt":"` + start + `","States":{` + states + `}},"End":true}}}`
}

const passItem = `"P":{"Type":"Pass","End":true}`

// fleetDef is the fleet pattern: one pinned task per board, each iteration
// retries its task and catches its own failure into a per-board outcome.
const fleetDef = `{"StartAt":"Fleet","States":{"Fleet":{"Type":"Map","ItemsPath":"$.boards","MaxConcurrency":2,
	"ItemSelector":{"board.$":"$$.Map.Item.Value","cluster.$":"$.cluster"},
	"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Deploy","States":{
		"Deploy":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","Parameters":{"Cluster.$":"$.cluster","Board.$":"$.board.id"},
			"ResultSelector":{"exitCode.$":"$.Containers[0].ExitCode"},"ResultPath":"$.task",
			"Retry":[{"ErrorEquals":["ECS.ThrottlingException"],"MaxAttempts":2}],
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.failure","Next":"Failed"}],"Next":"Delivered"},
		"Delivered":{"Type":"Pass","Parameters":{"board.$":"$.board.id","status":"delivered","exitCode.$":"$.task.exitCode"},"End":true},
		"Failed":{"Type":"Pass","Parameters":{"board.$":"$.board.id","status":"failed","cause.$":"$.failure.Cause"},"End":true}}},
	"ResultPath":"$.outcomes","OutputPath":"$.outcomes","End":true}}}`

func TestMapFields(t *testing.T) {
	runCases(t, []execCase{
		{name: "ItemsPath default is the whole input", def: mapDef(``, "P", passItem), input: `[1,{"a":2},"x"]`, output: `[1,{"a":2},"x"]`, path: "M"},
		{name: "empty array", def: mapDef(`"ItemsPath":"$.xs",`, "P", passItem), input: `{"xs":[]}`, output: `[]`},
		{name: "ItemsPath", def: mapDef(`"ItemsPath":"$.xs",`, "P", `"P":{"Type":"Pass","Parameters":{"v.$":"$"},"End":true}`), input: `{"xs":[1,2]}`, output: `[{"v":1},{"v":2}]`},
		{name: "ItemsPath not an array", def: mapDef(`"ItemsPath":"$.xs",`, "P", passItem), input: `{"xs":{"a":1}}`, status: StatusFailed, errName: ErrRuntime, causeHas: "ItemsPath '$.xs' must select a JSON array"},
		{name: "input not an array", def: mapDef(``, "P", passItem), input: `{"a":1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "The input must select a JSON array"},
		{name: "ItemsPath missing", def: mapDef(`"ItemsPath":"$.nope",`, "P", passItem), input: `{}`, status: StatusFailed, errName: ErrRuntime, causeHas: "Invalid path '$.nope' in field ItemsPath"},
		{name: "ItemSelector with the context object", def: mapDef(`"ItemsPath":"$.xs","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","shared.$":"$.s","lit":true},`, "P", passItem),
			input: `{"xs":["a","b"],"s":7}`, output: `[{"i":0,"v":"a","shared":7,"lit":true},{"i":1,"v":"b","shared":7,"lit":true}]`},
		{name: "Parameters is the legacy ItemSelector", def: mapDef(`"ItemsPath":"$.xs","Parameters":{"v.$":"$$.Map.Item.Value","n.$":"$.n"},`, "P", passItem),
			input: `{"xs":[1,2],"n":"k"}`, output: `[{"v":1,"n":"k"},{"v":2,"n":"k"}]`},
		{name: "ItemSelector path missing", def: mapDef(`"ItemSelector":{"v.$":"$.nope"},`, "P", passItem), input: `[1]`, status: StatusFailed, errName: ErrRuntime, causeHas: "ItemSelector"},
		{name: "Iterator is the legacy ItemProcessor", def: `{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"r","End":true}}},"End":true}}}`,
			input: `[1,2]`, output: `["r","r"]`},
		{name: "InputPath ResultSelector ResultPath OutputPath", def: mapDef(`"InputPath":"$.in","ItemsPath":"$.xs","ResultSelector":{"all.$":"$","first.$":"$[0]"},"ResultPath":"$.res","OutputPath":"$.res",`, "P", passItem),
			input: `{"in":{"xs":[3,4]},"other":1}`, output: `{"all":[3,4],"first":3}`},
		{name: "ResultPath keeps the input", def: mapDef(`"ItemsPath":"$.xs","ResultPath":"$.out",`, "P", `"P":{"Type":"Pass","Result":0,"End":true}`),
			input: `{"xs":[1,2]}`, output: `{"xs":[1,2],"out":[0,0]}`},
		{name: "ResultPath null", def: mapDef(`"ItemsPath":"$.xs","ResultPath":null,`, "P", passItem), input: `{"xs":[1]}`, output: `{"xs":[1]}`},
		{name: "ResultSelector path missing", def: mapDef(`"ResultSelector":{"x.$":"$.nope"},`, "P", passItem), input: `[1]`, status: StatusFailed, errName: ErrRuntime, causeHas: "ResultSelector"},
		{name: "MaxConcurrencyPath", def: mapDef(`"ItemsPath":"$.xs","MaxConcurrencyPath":"$.mc",`, "P", passItem), input: `{"xs":[1,2,3],"mc":1}`, output: `[1,2,3]`},
		{name: "MaxConcurrencyPath not an integer", def: mapDef(`"ItemsPath":"$.xs","MaxConcurrencyPath":"$.mc",`, "P", passItem), input: `{"xs":[1],"mc":-1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "non-negative integer"},
		{name: "iteration with several states", def: mapDef(``, "A", `"A":{"Type":"Choice","Choices":[{"Variable":"$","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"},"Big":{"Type":"Pass","Result":"big","End":true},"Small":{"Type":"Succeed","OutputPath":"$"}`),
			input: `[1,2]`, output: `[1,"big"]`},
		{name: "Fail inside an iteration fails the Map", def: mapDef(``, "F", `"F":{"Type":"Fail","Error":"Bad","Cause":"item"}`), input: `[1]`, status: StatusFailed, errName: "Bad", causeHas: "item"},
		{name: "Map Catch catches a Fail inside", def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad","Cause":"item"}}},
			"Catch":[{"ErrorEquals":["Bad"],"ResultPath":"$","Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`, input: `[1]`, output: `{"Error":"Bad","Cause":"item"}`, path: "M,H"},
		{name: "Map States.TaskFailed does not match other errors", def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad"}}},
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`, input: `[1]`, status: StatusFailed, errName: "Bad"},
		{name: "States.Runtime inside is not caught by the Map", def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}},
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`, input: `[{}]`, status: StatusFailed, errName: ErrRuntime},
		{name: "Map Retry reruns every iteration", def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}},
			"Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":1,"IntervalSeconds":3}],"End":true}}}`, input: `[1]`,
			tasks: map[string][]asltest.Outcome{"r": {{Error: "Flaky"}, {Result: "ok"}}}, output: `["ok"]`, sleeps: []float64{3}, checkSleep: true},
		{name: "Retry inside an iteration", def: mapDef(``, "T", `"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":2}],"End":true}`), input: `[1]`,
			tasks: map[string][]asltest.Outcome{"r": {{Error: "Flaky"}, {Error: "Flaky"}, {Result: "ok"}}}, output: `["ok"]`, sleeps: []float64{1, 2}, checkSleep: true},
		{name: "nested Map", def: `{"StartAt":"Outer","States":{"Outer":{"Type":"Map","ItemsPath":"$.rows","ItemSelector":{"row.$":"$$.Map.Item.Index","cells.$":"$$.Map.Item.Value"},
			"ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Map","ItemsPath":"$.cells","ItemSelector":{"row.$":"$.row","col.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
				"ItemProcessor":{"StartAt":"Cell","States":{"Cell":{"Type":"Pass","Parameters":{"at.$":"States.Format('{},{}={}', $.row, $.col, $.v)"},"OutputPath":"$.at","End":true}}},"End":true}}},"End":true}}}`,
			input: `{"rows":[["a","b"],["c"]]}`, output: `[["0,0=a","0,1=b"],["1,0=c"]]`},
	})
}

func TestMapFleetPattern(t *testing.T) {
	// Per board: the failures its attempts meet, in order, then success.
	failures := map[string][]*Error{
		"b2": {{Name: "ECS.TaskFailed", Cause: "exit 3"}},
		"b3": {{Name: "ECS.ThrottlingException", Cause: "slow down"}, {Name: "ECS.ThrottlingException", Cause: "slow down"}},
		"b4": {{Name: "ECS.ThrottlingException", Cause: "slow down"}, {Name: "ECS.ThrottlingException", Cause: "slow down"}, {Name: "ECS.ThrottlingException", Cause: "still slow"}},
	}
	var mu sync.Mutex
	attempts := map[string]int{}
	handler := func(_ context.Context, resource string, p any) (any, error) {
		params := p.(map[string]any)
		board := params["Board"].(string)
		mu.Lock()
		n := attempts[board]
		attempts[board]++
		mu.Unlock()
		if params["Cluster"] != "edge" || resource != "arn:aws:states:::ecs:runTask.sync" {
			return nil, &Error{Name: "Wrong", Cause: fmt.Sprint(resource, params)}
		}
		if n < len(failures[board]) {
			return nil, failures[board][n]
		}
		return map[string]any{"Containers": []any{map[string]any{"ExitCode": 0}}}, nil
	}
	m := asltest.MustParse(t, fleetDef)
	e := m.Execute(context.Background(), asltest.JSON(t, `{"cluster":"edge","boards":[{"id":"b1"},{"id":"b2"},{"id":"b3"},{"id":"b4"}]}`), Options{Task: handler, Sleep: (&asltest.Sleeps{}).Sleep})
	if e.Status != StatusSucceeded {
		t.Fatalf("status %s: %s: %s", e.Status, e.Error, e.Cause)
	}
	asltest.AssertJSON(t, e.Output, `[{"board":"b1","status":"delivered","exitCode":0},{"board":"b2","status":"failed","cause":"exit 3"},
		{"board":"b3","status":"delivered","exitCode":0},{"board":"b4","status":"failed","cause":"still slow"}]`)
	asltest.Equal(t, "attempts", fmt.Sprint(attempts), "map[b1:1 b2:1 b3:3 b4:3]")
	iters := e.Path[0].Iterations
	asltest.Equal(t, "b4's path", fmt.Sprintf("%s(%d) %s", iters[3][0].Name, iters[3][0].Attempts, iters[3][1].Name), "Deploy(3) Failed")
}

func TestMapContextObject(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"index.$":"$$.Map.Item.Index","value.$":"$$.Map.Item.Value","mapState.$":"$$.State.Name"},
		"ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Pass","Parameters":{"state.$":"$$.State.Name","exec.$":"$$.Execution.Name","input.$":"$$.Execution.Input[0].k","sel.$":"$"},"End":true}}},"End":true}}}`
	m := asltest.MustParse(t, def)
	e := m.Execute(context.Background(), asltest.JSON(t, `[{"k":"x"},{"k":"y"}]`), Options{Name: "exec-7"})
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.AssertJSON(t, e.Output, `[
		{"state":"Inner","exec":"exec-7","input":"x","sel":{"index":0,"value":{"k":"x"},"mapState":"M"}},
		{"state":"Inner","exec":"exec-7","input":"x","sel":{"index":1,"value":{"k":"y"},"mapState":"M"}}]`)

	// $$.Map belongs to ItemSelector: the iteration's states do not see it.
	m = asltest.MustParse(t, mapDef(``, "P", `"P":{"Type":"Pass","Parameters":{"i.$":"$$.Map.Item.Index"},"End":true}`))
	e = m.Execute(context.Background(), asltest.JSON(t, `[1]`), Options{})
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, ErrRuntime)
}

// gate is a task handler whose calls block until the test releases them; it
// records how many calls run at once and which saw their context cancelled.
type gate struct {
	calls           sync.WaitGroup // the engine does not wait for a cancelled handler: the test does
	mu              sync.Mutex
	running, peak   int
	entered         chan int // the item of each call, as it starts
	release         map[int]chan struct{}
	cancelledOnExit map[int]bool
}

func newGate(items int) *gate {
	g := &gate{entered: make(chan int, items), release: map[int]chan struct{}{}, cancelledOnExit: map[int]bool{}}
	for i := 0; i < items; i++ {
		g.release[i] = make(chan struct{})
	}
	return g
}

func (g *gate) handler(ctx context.Context, _ string, params any) (any, error) {
	item := int(mustInt(params.(map[string]any)["item"]))
	g.calls.Add(1)
	defer g.calls.Done()
	g.mu.Lock()
	g.running++
	g.peak = max(g.peak, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}()
	g.entered <- item
	select {
	case <-g.release[item]:
		if f, _ := params.(map[string]any)["fail"].(bool); f {
			return nil, &Error{Name: "BoardLost", Cause: fmt.Sprintf("board %d", item)}
		}
		return fmt.Sprintf("done %d", item), nil
	case <-ctx.Done():
		g.mu.Lock()
		g.cancelledOnExit[item] = true
		g.mu.Unlock()
		return nil, ctx.Err()
	}
}

// cancelled waits for every call to return and lists the cancelled items.
func (g *gate) cancelled() string {
	g.calls.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprint(g.cancelledOnExit)
}

func mustInt(v any) int64 {
	f, _ := ToFloat(v)
	return int64(f)
}

// waitEntered returns the item of the next call; it fails the test instead
// of hanging when none comes (a guard, not a timing assumption).
func (g *gate) waitEntered(t *testing.T) int {
	t.Helper()
	select {
	case i := <-g.entered:
		return i
	case <-time.After(10 * time.Second):
		t.Fatal("no task call started")
		return -1
	}
}

// gatedMap runs the gate's task for each of $.items (booleans: fail or not).
const gatedMap = `{"StartAt":"M","States":{"M":{"Type":"Map",%s"ItemsPath":"$.items","ItemSelector":{"item.$":"$$.Map.Item.Index","fail.$":"$$.Map.Item.Value"},
	"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}},"End":true}}}`

func startGated(t *testing.T, fields string, items []bool, g *gate) <-chan *Execution {
	t.Helper()
	m := asltest.MustParse(t, fmt.Sprintf(gatedMap, fields))
	in := make([]any, len(items))
	for i, f := range items {
		in[i] = f
	}
	done := make(chan *Execution, 1)
	go func() {
		done <- m.Execute(context.Background(), map[string]any{"items": in, "limit": 2}, Options{Task: g.handler})
	}()
	return done
}

func TestMapResultsKeepItemOrderWhateverTheCompletionOrder(t *testing.T) {
	const n = 4
	g := newGate(n)
	done := startGated(t, ``, make([]bool, n), g)
	for i := 0; i < n; i++ {
		g.waitEntered(t)
	}
	for i := n - 1; i >= 0; i-- { // complete in reverse order
		close(g.release[i])
	}
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.AssertJSON(t, e.Output, `["done 0","done 1","done 2","done 3"]`)
	asltest.Equal(t, "all ran at once (MaxConcurrency absent = no limit)", g.peak, n)
}

func TestMapMaxConcurrencyIsNeverExceeded(t *testing.T) {
	for _, c := range []struct {
		field     string
		items     int
		wantLimit int
	}{
		{`"MaxConcurrency":1,`, 5, 1},
		{`"MaxConcurrency":2,`, 7, 2},
		{`"MaxConcurrency":3,`, 7, 3},
		{`"MaxConcurrency":0,`, 45, MaxInlineConcurrency}, // AWS runs at most 40 inline iterations at once
		{`"MaxConcurrency":100,`, 45, MaxInlineConcurrency},
		{`"MaxConcurrencyPath":"$.limit",`, 5, 2}, // startGated's input has "limit":2
	} {
		t.Run(c.field, func(t *testing.T) {
			g := newGate(c.items)
			items := make([]bool, c.items)
			done := startGated(t, c.field, items, g)
			var started []int
			for i := 0; i < c.wantLimit; i++ {
				started = append(started, g.waitEntered(t))
			}
			// Free one slot at a time: each release lets exactly one more in.
			// Before each release, let any call that should not have started
			// run into the peak count (with a correct bound there is none, so
			// this cannot make the test flaky).
			for len(started) < c.items {
				for range 100 {
					runtime.Gosched()
				}
				close(g.release[started[len(started)-c.wantLimit]])
				started = append(started, g.waitEntered(t))
			}
			for _, i := range started[c.items-c.wantLimit:] {
				close(g.release[i])
			}
			e := <-done
			asltest.Equal(t, "status", e.Status, StatusSucceeded)
			asltest.Equal(t, "peak concurrency", g.peak, c.wantLimit)
			slices.Sort(started)
			for i, item := range started {
				if item != i {
					t.Fatalf("items that ran: %v, want each of 0..%d once", started, c.items-1)
				}
			}
		})
	}
}

func TestMapFailureCancelsTheOtherIterations(t *testing.T) {
	g := newGate(4)
	var events []string
	var mu sync.Mutex
	m := asltest.MustParse(t, fmt.Sprintf(gatedMap, `"MaxConcurrency":3,`))
	done := make(chan *Execution, 1)
	go func() {
		done <- m.Execute(context.Background(), map[string]any{"items": []any{false, true, false, false}}, Options{Task: g.handler, Observer: func(e Event) {
			if strings.HasPrefix(string(e.Kind), "MapIteration") {
				mu.Lock()
				events = append(events, fmt.Sprintf("%s:%d", e.Kind, e.Index))
				mu.Unlock()
			}
		}})
	}()
	for i := 0; i < 3; i++ {
		g.waitEntered(t)
	}
	close(g.release[1]) // item 1 fails; 0 and 2 are still running, 3 never starts
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, "BoardLost")
	asltest.Equal(t, "cause", e.Cause, "board 1")
	asltest.Equal(t, "cancelled", g.cancelled(), "map[0:true 2:true]")
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(events, ",")
	for _, want := range []string{"MapIterationFailed:1", "MapIterationAborted:0", "MapIterationAborted:2"} {
		if !strings.Contains(got, want) {
			t.Errorf("events %s lack %s", got, want)
		}
	}
	if strings.Contains(got, ":3") {
		t.Errorf("item 3 started after the failure: %s", got)
	}
	if iters := e.Path[0].Iterations; len(iters) != 4 || iters[3] != nil || len(iters[1]) != 1 || iters[1][0].Error != "BoardLost" {
		t.Errorf("iterations %+v", iters)
	}
}

func TestMapStopsWhenTheExecutionIsAborted(t *testing.T) {
	g := newGate(2)
	m := asltest.MustParse(t, fmt.Sprintf(gatedMap, ``))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Execution, 1)
	go func() { done <- m.Execute(ctx, map[string]any{"items": []any{false, false}}, Options{Task: g.handler}) }()
	g.waitEntered(t)
	g.waitEntered(t)
	cancel()
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusAborted)
	asltest.Equal(t, "cancelled", g.cancelled(), "map[0:true 1:true]")
}

func TestMapEventsAndPath(t *testing.T) {
	def := `{"StartAt":"Outer","States":{"Outer":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"Inner","States":{
		"Inner":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}},"End":true}}},"Next":"S"},"S":{"Type":"Succeed"}}}`
	m := asltest.MustParse(t, def)
	var events []string
	e := m.Execute(context.Background(), asltest.JSON(t, `[[1],[2,3]]`), Options{Task: asltest.NewTasks(nil).Handle, Observer: func(ev Event) {
		s := string(ev.Kind) + ":" + ev.State
		if ev.Iteration != "" {
			s = ev.Iteration + " " + s
		}
		if ev.Kind == EventStateEntered || ev.Kind == EventStateExited || strings.HasPrefix(string(ev.Kind), "MapIteration") {
			events = append(events, s)
		}
	}})
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	want := []string{
		"StateEntered:Outer",
		"Outer[0] MapIterationStarted:Outer",
		"Outer[0] StateEntered:Inner",
		"Outer[0]/Inner[0] MapIterationStarted:Inner",
		"Outer[0]/Inner[0] StateEntered:T", "Outer[0]/Inner[0] StateExited:T",
		"Outer[0]/Inner[0] MapIterationSucceeded:Inner",
		"Outer[0] StateExited:Inner",
		"Outer[0] MapIterationSucceeded:Outer",
		"Outer[1] MapIterationStarted:Outer",
		"Outer[1] StateEntered:Inner",
		"Outer[1]/Inner[0] MapIterationStarted:Inner",
		"Outer[1]/Inner[0] StateEntered:T", "Outer[1]/Inner[0] StateExited:T",
		"Outer[1]/Inner[0] MapIterationSucceeded:Inner",
		"Outer[1]/Inner[1] MapIterationStarted:Inner",
		"Outer[1]/Inner[1] StateEntered:T", "Outer[1]/Inner[1] StateExited:T",
		"Outer[1]/Inner[1] MapIterationSucceeded:Inner",
		"Outer[1] StateExited:Inner",
		"Outer[1] MapIterationSucceeded:Outer",
		"StateExited:Outer",
		"StateEntered:S", "StateExited:S",
	}
	asltest.Equal(t, "events", strings.Join(events, "\n"), strings.Join(want, "\n"))
	asltest.Equal(t, "top-level path", asltest.PathNames(e), "Outer,S")
	outer := e.Path[0].Iterations
	if len(outer) != 2 || len(outer[1]) != 1 || outer[1][0].Name != "Inner" || len(outer[1][0].Iterations) != 2 || outer[1][0].Iterations[1][0].Name != "T" {
		t.Errorf("iteration paths: %+v", outer)
	}
}

func TestMapItemLimit(t *testing.T) {
	m := asltest.MustParse(t, mapDef(``, "P", passItem))
	ok := m.Execute(context.Background(), make([]any, MaxMapItems), Options{})
	asltest.Equal(t, "status at the limit", ok.Status, StatusSucceeded)
	e := m.Execute(context.Background(), make([]any, MaxMapItems+1), Options{})
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, ErrRuntime)
	if !strings.Contains(e.Cause, "at most 10000 Map items per execution") {
		t.Errorf("cause %q", e.Cause)
	}

	// Nested Maps multiply: 200 rows of 100 cells are 200 + 20,000 items.
	nested := asltest.MustParse(t, `{"StartAt":"Rows","States":{"Rows":{"Type":"Map","ItemProcessor":{"StartAt":"Cells","States":{
		"Cells":{"Type":"Map","ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Pass","End":true}}},"End":true}}},"End":true}}}`)
	rows := make([]any, 200)
	for i := range rows {
		rows[i] = make([]any, 100)
	}
	e = nested.Execute(context.Background(), rows, Options{})
	asltest.Equal(t, "nested status", e.Status, StatusFailed)
	asltest.Equal(t, "nested error", e.Error, ErrRuntime)
}

func TestMapObserverPanicInAnIterationFailsTheExecution(t *testing.T) {
	m := asltest.MustParse(t, mapDef(`"MaxConcurrency":0,`, "P", passItem))
	e := m.Execute(context.Background(), []any{1, 2, 3}, Options{Observer: func(ev Event) {
		if ev.Iteration == "M[1]" && ev.Kind == EventStateEntered {
			panic("observer bug")
		}
	}})
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, ErrRuntime)
	asltest.Equal(t, "cause", e.Cause, "the Observer panicked: observer bug")
}

func TestMapParseErrors(t *testing.T) {
	proc := `"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	cases := []struct {
		name, fields string
		want         []string
	}{
		{"DISTRIBUTED", `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, []string{"ItemProcessor.ProcessorConfig", "DISTRIBUTED is not supported", `use "INLINE"`}},
		{"bad Mode", `"ItemProcessor":{"ProcessorConfig":{"Mode":"inline"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, []string{`Mode must be "INLINE"`}},
		{"ExecutionType inline", `"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, []string{"ExecutionType belongs to Distributed Map"}},
		{"ItemReader", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject"},` + proc, []string{"field ItemReader", "Distributed Map feature"}},
		{"ToleratedFailurePercentage", `"ToleratedFailurePercentage":10,` + proc, []string{"field ToleratedFailurePercentage", "Distributed Map feature", "catch failures inside the ItemProcessor"}},
		{"ToleratedFailureCount", `"ToleratedFailureCount":1,` + proc, []string{"field ToleratedFailureCount"}},
		{"ResultWriter", `"ResultWriter":{},` + proc, []string{"field ResultWriter"}},
		{"ItemBatcher", `"ItemBatcher":{},` + proc, []string{"field ItemBatcher"}},
		{"no ItemProcessor", ``, []string{"field ItemProcessor", "missing"}},
		{"both processors", proc + `,"Iterator":{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}`, []string{"field Iterator", "together with ItemProcessor"}},
		{"both selectors", `"ItemSelector":{},"Parameters":{},` + proc, []string{"field ItemSelector", "together with Parameters"}},
		{"ItemProcessor not an object", `"ItemProcessor":[]`, []string{"field ItemProcessor", "must be an object"}},
		{"no StartAt", `"ItemProcessor":{"States":{"P":{"Type":"Pass","End":true}}}`, []string{"ItemProcessor.StartAt", "missing"}},
		{"no States", `"ItemProcessor":{"StartAt":"P"}`, []string{"ItemProcessor.States", "missing or empty"}},
		{"unknown processor field", `"ItemProcessor":{"StartAt":"P","TimeoutSeconds":3,"States":{"P":{"Type":"Pass","End":true}}}`, []string{"ItemProcessor.TimeoutSeconds", "unsupported field"}},
		{"StartAt unknown", `"ItemProcessor":{"StartAt":"Q","States":{"P":{"Type":"Pass","End":true}}}`, []string{`StartAt "Q" does not name a state in the ItemProcessor of state "M"`}},
		{"transition out of the scope", `"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"After"}}}`, []string{`state "P": field Next: target state "After" does not exist in the ItemProcessor of state "M"`}},
		{"unreachable inner state", `"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true},"Q":{"Type":"Pass","End":true}}}`, []string{`state "Q" is not reachable from StartAt "P" in the ItemProcessor of state "M"`}},
		{"inner state invalid", `"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass"}}}`, []string{`state "P"`, "must have Next or End"}},
		{"duplicate name across scopes", `"ItemProcessor":{"StartAt":"After","States":{"After":{"Type":"Pass","End":true}}}`, []string{`state "After"`, "already used", "unique"}},
		{"Iterator with ProcessorConfig", `"Iterator":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, []string{"Iterator.ProcessorConfig", "use ItemProcessor"}},
		{"MaxConcurrency negative", `"MaxConcurrency":-1,` + proc, []string{"field MaxConcurrency", ">= 0"}},
		{"MaxConcurrency not integer", `"MaxConcurrency":1.5,` + proc, []string{"field MaxConcurrency", "integer"}},
		{"both concurrency fields", `"MaxConcurrency":1,"MaxConcurrencyPath":"$.m",` + proc, []string{"field MaxConcurrencyPath", "together with MaxConcurrency"}},
		{"ItemsPath not a string", `"ItemsPath":3,` + proc, []string{"field ItemsPath", "must be a path"}},
		{"ItemsPath bad", `"ItemsPath":"items",` + proc, []string{"field ItemsPath", "must start with '$'"}},
		{"ItemSelector bad path", `"ItemSelector":{"x.$":"nope"},` + proc, []string{"field ItemSelector", "x.$"}},
		{"Map Catch target missing", `"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Nowhere"}],` + proc, []string{`state "M": field Catch[0].Next`, `"Nowhere"`}},
		{"Map Retry bad", `"Retry":[{"ErrorEquals":["X"],"BackoffRate":0}],` + proc, []string{`state "M": field Retry`, "BackoffRate"}},
		{"unknown Map field", `"Resource":"r",` + proc, []string{"field Resource", "not supported in a Map state"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := `{"StartAt":"M","States":{"M":{"Type":"Map",` + c.fields + `,"Next":"After"},"After":{"Type":"Succeed"}}}`
			if c.fields == "" {
				def = `{"StartAt":"M","States":{"M":{"Type":"Map","Next":"After"},"After":{"Type":"Succeed"}}}`
			}
			_, err := Parse([]byte(def))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			for _, w := range append([]string{`state "`}, c.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
