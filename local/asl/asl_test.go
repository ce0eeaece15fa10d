package asl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

type execCase struct {
	name       string
	def        string
	input      string
	tasks      map[string][]asltest.Outcome
	status     string // default SUCCEEDED
	output     string // checked when non-empty
	errName    string
	causeHas   string
	path       string // comma-separated visited states, checked when non-empty
	sleeps     []float64
	checkSleep bool
}

func runCases(t *testing.T, cases []execCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sl := &asltest.Sleeps{}
			e := run(t, tc.def, tc.input, asltest.NewTasks(tc.tasks), sl)
			want := tc.status
			if want == "" {
				want = StatusSucceeded
			}
			if e.Status != want {
				t.Fatalf("status %s (error %q cause %q), want %s", e.Status, e.Error, e.Cause, want)
			}
			if tc.output != "" {
				asltest.AssertJSON(t, e.Output, tc.output)
			}
			asltest.Equal(t, "error", e.Error, tc.errName)
			if tc.causeHas != "" && !strings.Contains(e.Cause, tc.causeHas) {
				t.Errorf("cause %q does not contain %q", e.Cause, tc.causeHas)
			}
			if tc.path != "" {
				asltest.Equal(t, "path", asltest.PathNames(e), tc.path)
			}
			if tc.checkSleep {
				got := sl.Seconds()
				if len(got) != len(tc.sleeps) {
					t.Fatalf("sleeps %v, want %v", got, tc.sleeps)
				}
				for i := range got {
					if d := got[i] - tc.sleeps[i]; d > 1e-9 || d < -1e-9 {
						t.Fatalf("sleeps %v, want %v", got, tc.sleeps)
					}
				}
			}
		})
	}
}

func TestPassAndDataFlow(t *testing.T) {
	runCases(t, []execCase{
		{name: "pass through", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input: `{"a":1}`, output: `{"a":1}`},
		{name: "Result replaces input", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":[1,2]},"End":true}}}`,
			input: `{"a":1}`, output: `{"x":[1,2]}`},
		{name: "falsy Result is still a result", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":0,"End":true}}}`,
			input: `{"a":1}`, output: `0`},
		{name: "Result with ResultPath nested creates objects", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":"$.a.b.c","End":true}}}`,
			input: `{"a":{"k":1}}`, output: `{"a":{"k":1,"b":{"c":"v"}}}`},
		{name: "ResultPath $ replaces", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":"$","End":true}}}`,
			input: `{"a":1}`, output: `"v"`},
		{name: "ResultPath null discards", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v","ResultPath":null,"End":true}}}`,
			input: `{"a":1}`, output: `{"a":1}`},
		{name: "ResultPath overwrites existing", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"ResultPath":"$.a","End":true}}}`,
			input: `{"a":1,"b":2}`, output: `{"a":2,"b":2}`},
		{name: "ResultPath bracket notation and index", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":9,"ResultPath":"$['odd key'].list[1]","End":true}}}`,
			input: `{"odd key":{"list":[1,2,3]}}`, output: `{"odd key":{"list":[1,9,3]}}`},
		{name: "ResultPath on non-object input fails", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":9,"ResultPath":"$.x","End":true}}}`,
			input: `"str"`, status: StatusFailed, errName: ErrResultPathMatchFailure, causeHas: "'P'"},
		{name: "InputPath and Parameters", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.detail","Parameters":{"bucket.$":"$.bucket.name","key.$":"$.object.key","static":"s","nested":{"size.$":"$.object.size"},"arr":[{"e.$":"$.object.etag"},"lit"]},"End":true}}}`,
			input:  `{"detail":{"bucket":{"name":"b"},"object":{"key":"k.txt","size":12,"etag":"abc"}}}`,
			output: `{"bucket":"b","key":"k.txt","static":"s","nested":{"size":12},"arr":[{"e":"abc"},"lit"]}`},
		{name: "InputPath null gives empty object", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"End":true}}}`,
			input: `{"a":1}`, output: `{}`},
		{name: "OutputPath selects", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","OutputPath":"$.r","End":true}}}`,
			input: `{"a":1}`, output: `{"x":1}`},
		{name: "OutputPath null gives empty object", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input: `{"a":1}`, output: `{}`},
		{name: "Parameters path missing is States.Runtime", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.missing"},"End":true}}}`,
			input: `{"a":1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "'$.missing' specified for the field 'x.$'"},
		{name: "InputPath missing is States.Runtime", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`,
			input: `{"a":1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "InputPath"},
		{name: "OutputPath missing is States.Runtime", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.nope","End":true}}}`,
			input: `{"a":1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "OutputPath"},
		{name: "indefinite path yields array", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"ids.$":"$.items[*].id","big.$":"$.items[?@.n > 1].id","none.$":"$.items[?@.n > 100]"},"End":true}}}`,
			input: `{"items":[{"id":"a","n":1},{"id":"b","n":2}]}`, output: `{"ids":["a","b"],"big":["b"],"none":[]}`},
		{name: "context object", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"state.$":"$$.State.Name","in.$":"$$.Execution.Input.a","sm.$":"$$.StateMachine.Name","name.$":"$$.Execution.Name","hasId.$":"$$.Execution.Id","ts.$":"$$.State.EnteredTime","start.$":"$$.Execution.StartTime"},"OutputPath":"$.in","End":true}}}`,
			input: `{"a":"x"}`, output: `"x"`},
		{name: "large integers are preserved", def: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"n.$":"$.n"},"End":true}}}`,
			input: `{"n":12345678901234567890}`, output: `{"n":12345678901234567890}`},
		{name: "Succeed with InputPath/OutputPath", def: `{"StartAt":"S","States":{"S":{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}}}`,
			input: `{"a":{"b":3}}`, output: `3`},
		{name: "Wait passes input through", def: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"S"},"S":{"Type":"Succeed"}}}`,
			input: `{"a":1}`, output: `{"a":1}`, checkSleep: true, sleeps: []float64{5}, path: "W,S"},
		{name: "Wait SecondsPath", def: `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
			input: `{"s":3}`, output: `{"s":3}`, checkSleep: true, sleeps: []float64{3}},
		{name: "Wait SecondsPath not a number", def: `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
			input: `{"s":"x"}`, status: StatusFailed, errName: ErrRuntime, causeHas: "SecondsPath"},
		{name: "Wait Timestamp in the past does not sleep long", def: `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2000-01-01T00:00:00Z","End":true}}}`,
			input: `{}`, output: `{}`, checkSleep: true, sleeps: []float64{0}},
	})
}

func TestFailState(t *testing.T) {
	runCases(t, []execCase{
		{name: "static", def: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"because"}}}`,
			input: `{}`, status: StatusFailed, errName: "Boom", causeHas: "because"},
		{name: "paths", def: `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}`,
			input: `{"e":"E1","c":"C1"}`, status: StatusFailed, errName: "E1", causeHas: "C1"},
		{name: "intrinsic cause", def: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","CausePath":"States.Format('exit {} ({})', $.code, $.why)"}}}`,
			input: `{"code":3,"why":"oops"}`, status: StatusFailed, errName: "E", causeHas: "exit 3 (oops)"},
		{name: "no error or cause", def: `{"StartAt":"F","States":{"F":{"Type":"Fail"}}}`,
			input: `{}`, status: StatusFailed, errName: ""},
		{name: "ErrorPath not a string", def: `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e"}}}`,
			input: `{"e":1}`, status: StatusFailed, errName: ErrRuntime, causeHas: "ErrorPath"},
	})
}

func TestChoice(t *testing.T) {
	def := func(rule string) string {
		return `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"No"},"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`
	}
	type rc struct {
		rule, input, want string
	}
	rules := []rc{
		{`{"Variable":"$.s","StringEquals":"abc","Next":"Yes"}`, `{"s":"abc"}`, "yes"},
		{`{"Variable":"$.s","StringEquals":"abc","Next":"Yes"}`, `{"s":"abd"}`, "no"},
		{`{"Variable":"$.s","StringEquals":"1","Next":"Yes"}`, `{"s":1}`, "no"},
		{`{"Variable":"$.s","StringEqualsPath":"$.t","Next":"Yes"}`, `{"s":"a","t":"a"}`, "yes"},
		{`{"Variable":"$.s","StringLessThan":"b","Next":"Yes"}`, `{"s":"a"}`, "yes"},
		{`{"Variable":"$.s","StringGreaterThan":"b","Next":"Yes"}`, `{"s":"a"}`, "no"},
		{`{"Variable":"$.s","StringLessThanEquals":"a","Next":"Yes"}`, `{"s":"a"}`, "yes"},
		{`{"Variable":"$.s","StringGreaterThanEqualsPath":"$.t","Next":"Yes"}`, `{"s":"b","t":"a"}`, "yes"},
		{`{"Variable":"$.n","NumericEquals":3,"Next":"Yes"}`, `{"n":3.0}`, "yes"},
		{`{"Variable":"$.n","NumericEquals":3,"Next":"Yes"}`, `{"n":"3"}`, "no"},
		{`{"Variable":"$.n","NumericLessThan":3,"Next":"Yes"}`, `{"n":2.5}`, "yes"},
		{`{"Variable":"$.n","NumericGreaterThan":3,"Next":"Yes"}`, `{"n":3}`, "no"},
		{`{"Variable":"$.n","NumericLessThanEquals":3,"Next":"Yes"}`, `{"n":3}`, "yes"},
		{`{"Variable":"$.n","NumericGreaterThanEquals":-1,"Next":"Yes"}`, `{"n":-1}`, "yes"},
		{`{"Variable":"$.n","NumericLessThanPath":"$.m","Next":"Yes"}`, `{"n":1,"m":2}`, "yes"},
		{`{"Variable":"$.b","BooleanEquals":true,"Next":"Yes"}`, `{"b":true}`, "yes"},
		{`{"Variable":"$.b","BooleanEquals":true,"Next":"Yes"}`, `{"b":"true"}`, "no"},
		{`{"Variable":"$.b","BooleanEqualsPath":"$.c","Next":"Yes"}`, `{"b":false,"c":false}`, "yes"},
		{`{"Variable":"$.t","TimestampEquals":"2024-01-01T00:00:00Z","Next":"Yes"}`, `{"t":"2024-01-01T01:00:00+01:00"}`, "yes"},
		{`{"Variable":"$.t","TimestampLessThan":"2024-01-01T00:00:00Z","Next":"Yes"}`, `{"t":"2023-12-31T23:59:59.5Z"}`, "yes"},
		{`{"Variable":"$.t","TimestampGreaterThan":"2024-01-01T00:00:00Z","Next":"Yes"}`, `{"t":"not a time"}`, "no"},
		{`{"Variable":"$.t","TimestampGreaterThanEqualsPath":"$.u","Next":"Yes"}`, `{"t":"2024-01-02T00:00:00Z","u":"2024-01-01T00:00:00Z"}`, "yes"},
		{`{"Variable":"$.t","TimestampLessThanEquals":"2024-01-01T00:00:00Z","Next":"Yes"}`, `{"t":"2024-01-01T00:00:00Z"}`, "yes"},
		{`{"Variable":"$.x","IsNull":true,"Next":"Yes"}`, `{"x":null}`, "yes"},
		{`{"Variable":"$.x","IsNull":false,"Next":"Yes"}`, `{"x":null}`, "no"},
		{`{"Variable":"$.x","IsPresent":true,"Next":"Yes"}`, `{"y":1}`, "no"},
		{`{"Variable":"$.x","IsPresent":false,"Next":"Yes"}`, `{"y":1}`, "yes"},
		{`{"Variable":"$.x","IsPresent":true,"Next":"Yes"}`, `{"x":null}`, "yes"},
		{`{"Variable":"$.x","IsString":true,"Next":"Yes"}`, `{"x":"s"}`, "yes"},
		{`{"Variable":"$.x","IsNumeric":true,"Next":"Yes"}`, `{"x":"1"}`, "no"},
		{`{"Variable":"$.x","IsNumeric":true,"Next":"Yes"}`, `{"x":1e3}`, "yes"},
		{`{"Variable":"$.x","IsBoolean":false,"Next":"Yes"}`, `{"x":0}`, "yes"},
		{`{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}`, `{"x":"2016-03-14T01:59:00Z"}`, "yes"},
		{`{"Variable":"$.x","IsTimestamp":true,"Next":"Yes"}`, `{"x":"2016-03-14"}`, "no"},
		{`{"And":[{"Variable":"$.a","NumericGreaterThan":1},{"Variable":"$.b","StringEquals":"x"}],"Next":"Yes"}`, `{"a":2,"b":"x"}`, "yes"},
		{`{"And":[{"Variable":"$.a","NumericGreaterThan":1},{"Variable":"$.b","StringEquals":"x"}],"Next":"Yes"}`, `{"a":2,"b":"y"}`, "no"},
		{`{"Or":[{"Variable":"$.a","NumericGreaterThan":5},{"Variable":"$.b","StringEquals":"x"}],"Next":"Yes"}`, `{"a":2,"b":"x"}`, "yes"},
		{`{"Not":{"Variable":"$.a","StringEquals":"x"},"Next":"Yes"}`, `{"a":"y"}`, "yes"},
		{`{"And":[{"Variable":"$.a","IsPresent":true},{"Not":{"Variable":"$.a","IsNull":true}}],"Next":"Yes"}`, `{"a":1}`, "yes"},
		{`{"Variable":"$$.State.Name","StringEquals":"C","Next":"Yes"}`, `{}`, "yes"},
		{`{"Variable":"$.items[0].k","StringEquals":"v","Next":"Yes"}`, `{"items":[{"k":"v"}]}`, "yes"},
	}
	var cases []execCase
	for i, r := range rules {
		cases = append(cases, execCase{name: strings.ReplaceAll(r.rule, "/", "_") + "#" + string(rune('a'+i%26)), def: def(r.rule), input: r.input, output: `"` + r.want + `"`})
	}
	cases = append(cases,
		execCase{name: "no match and no Default", def: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","Next":"S"}]},"S":{"Type":"Succeed"}}}`,
			input: `{"a":"y"}`, status: StatusFailed, errName: ErrNoChoiceMatched, causeHas: "'C'"},
		execCase{name: "missing Variable is States.Runtime", def: def(`{"Variable":"$.missing","StringEquals":"x","Next":"Yes"}`),
			input: `{"a":"y"}`, status: StatusFailed, errName: ErrRuntime, causeHas: "$.missing"},
		execCase{name: "first matching rule wins", def: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"A"},{"Variable":"$.n","NumericGreaterThan":0,"Next":"B"}]},"A":{"Type":"Pass","Result":"A","End":true},"B":{"Type":"Pass","Result":"B","End":true}}}`,
			input: `{"n":5}`, output: `"A"`, path: "C,A"},
		execCase{name: "InputPath and OutputPath on Choice", def: `{"StartAt":"C","States":{"C":{"Type":"Choice","InputPath":"$.d","OutputPath":"$.k","Choices":[{"Variable":"$.k","StringMatches":"demo*.txt","Next":"S"}]},"S":{"Type":"Succeed"}}}`,
			input: `{"d":{"k":"demo-1.txt"}}`, output: `"demo-1.txt"`},
	)
	runCases(t, cases)
}

// retryMachine builds a one-Task machine with the given Retry list and extra
// fields; a "Caught" state exists when the extra fields route to it.
func retryMachine(retry, extra string) string {
	caught := ""
	if strings.Contains(extra, `"Caught"`) {
		caught = `,"Caught":{"Type":"Pass","End":true}`
	}
	return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[` + retry + `],` + extra + `"End":true}` + caught + `}}`
}

func TestRetry(t *testing.T) {
	boom := asltest.Outcome{Error: "Boom", Cause: "b"}
	ok := asltest.Outcome{Result: map[string]any{"ok": true}}
	runCases(t, []execCase{
		{name: "defaults 1,2,4 then fail", def: retryMachine(`{"ErrorEquals":["Boom"]}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{1, 2, 4}},
		{name: "backoff 2,4,8 capped by MaxDelaySeconds", def: retryMachine(`{"ErrorEquals":["Boom"],"IntervalSeconds":2,"MaxAttempts":5,"BackoffRate":2,"MaxDelaySeconds":10}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{2, 4, 8, 10, 10}},
		{name: "fractional backoff", def: retryMachine(`{"ErrorEquals":["Boom"],"IntervalSeconds":1,"MaxAttempts":3,"BackoffRate":1.5}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{1, 1.5, 2.25}},
		{name: "FULL jitter scales by Rand", def: retryMachine(`{"ErrorEquals":["Boom"],"IntervalSeconds":2,"MaxAttempts":3,"JitterStrategy":"FULL"}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{1, 2, 4}},
		{name: "succeeds after retries", def: retryMachine(`{"ErrorEquals":["Boom"]}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom, boom, ok}}, output: `{"ok":true}`,
			checkSleep: true, sleeps: []float64{1, 2}},
		{name: "MaxAttempts 0 never retries", def: retryMachine(`{"ErrorEquals":["Boom"],"MaxAttempts":0}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom, ok}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{}},
		{name: "non-matching retrier", def: retryMachine(`{"ErrorEquals":["Other"]}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom, ok}}, status: StatusFailed, errName: "Boom",
			checkSleep: true, sleeps: []float64{}},
		{name: "States.ALL retries any error", def: retryMachine(`{"ErrorEquals":["States.ALL"],"MaxAttempts":1}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom, ok}}, output: `{"ok":true}`},
		{name: "States.TaskFailed retries task errors", def: retryMachine(`{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {boom, ok}}, output: `{"ok":true}`},
		{name: "separate counters per retrier", def: retryMachine(`{"ErrorEquals":["A"],"MaxAttempts":1,"IntervalSeconds":3},{"ErrorEquals":["B"],"MaxAttempts":1,"IntervalSeconds":5}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {{Error: "A"}, {Error: "B"}, ok}}, output: `{"ok":true}`,
			checkSleep: true, sleeps: []float64{3, 5}},
		{name: "exhausted retrier does not fall through to a later one", def: retryMachine(`{"ErrorEquals":["A"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":5}`, ""),
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {{Error: "A"}, {Error: "A"}, ok}}, status: StatusFailed, errName: "A",
			checkSleep: true, sleeps: []float64{1}},
		{name: "retry then catch", def: retryMachine(`{"ErrorEquals":["Boom"],"MaxAttempts":2}`, `"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught","ResultPath":"$.error"}],`),
			input: `{"in":1}`, tasks: map[string][]asltest.Outcome{"r": {boom}}, output: `{"in":1,"error":{"Error":"Boom","Cause":"b"}}`,
			path: "T,Caught", checkSleep: true, sleeps: []float64{1, 2}},
		{name: "States.Runtime is never retried or caught", def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","ResultSelector":{"x.$":"$.missing"},"Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`,
			input: `{}`, tasks: map[string][]asltest.Outcome{"r": {ok}}, status: StatusFailed, errName: ErrRuntime, causeHas: "ResultSelector",
			checkSleep: true, sleeps: []float64{}},
	})
}

func TestCatch(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[
		{"ErrorEquals":["A","B"],"Next":"HandleAB"},
		{"ErrorEquals":["States.TaskFailed"],"Next":"HandleTask","ResultPath":"$.err"},
		{"ErrorEquals":["States.ALL"],"Next":"HandleAll","ResultPath":null}],"Next":"Done"},
		"HandleAB":{"Type":"Pass","End":true},"HandleTask":{"Type":"Pass","End":true},"HandleAll":{"Type":"Pass","End":true},"Done":{"Type":"Succeed"}}}`
	runCases(t, []execCase{
		{name: "first catcher, default ResultPath replaces input", def: def, input: `{"x":1}`,
			tasks: map[string][]asltest.Outcome{"r": {{Error: "B", Cause: "why"}}}, output: `{"Error":"B","Cause":"why"}`, path: "T,HandleAB"},
		{name: "TaskFailed catcher with ResultPath", def: def, input: `{"x":1}`,
			tasks: map[string][]asltest.Outcome{"r": {{Error: "Other", Cause: "c"}}}, output: `{"x":1,"err":{"Error":"Other","Cause":"c"}}`, path: "T,HandleTask"},
		{name: "no error goes to Next", def: def, input: `{"x":1}`,
			tasks: map[string][]asltest.Outcome{"r": {{Result: "r"}}}, output: `"r"`, path: "T,Done"},
		{name: "catch ResultPath on non-object input", def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H","ResultPath":"$.e"}],"End":true},"H":{"Type":"Pass","End":true}}}`,
			input: `[1]`, tasks: map[string][]asltest.Outcome{"r": {{Error: "X"}}}, status: StatusFailed, errName: ErrResultPathMatchFailure},
	})
}

func TestCatchTimeoutOnlyWithExplicitNames(t *testing.T) {
	// States.TaskFailed does not match States.Timeout; States.ALL and the
	// explicit name do.
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"slow","TimeoutSeconds":1,"Catch":[
		{"ErrorEquals":["States.TaskFailed"],"Next":"TF"},{"ErrorEquals":["States.Timeout"],"Next":"TO"}],"End":true},
		"TF":{"Type":"Pass","End":true},"TO":{"Type":"Pass","End":true}}}`
	m := asltest.MustParse(t, def)
	var cancelled sync.WaitGroup
	cancelled.Add(1)
	start := time.Now()
	e := m.Execute(context.Background(), map[string]any{}, Options{Task: func(ctx context.Context, _ string, _ any) (any, error) {
		<-ctx.Done()
		cancelled.Done()
		return nil, ctx.Err()
	}})
	cancelled.Wait() // the handler's context was cancelled
	if e.Status != StatusSucceeded || asltest.PathNames(e) != "T,TO" {
		t.Fatalf("status %s path %s error %s", e.Status, asltest.PathNames(e), e.Error)
	}
	asltest.AssertJSON(t, e.Output, `{"Error":"States.Timeout","Cause":"The task 'T' exceeded its TimeoutSeconds of 1"}`)
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestTaskTimeoutPathAndRetry(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"slow","TimeoutSecondsPath":"$.t","HeartbeatSeconds":1,"Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1}],"End":true}}}`
	m := asltest.MustParse(t, def)
	var calls atomic.Int32
	sl := &asltest.Sleeps{}
	e := m.Execute(context.Background(), map[string]any{"t": 1}, Options{Sleep: sl.Sleep, Task: func(ctx context.Context, _ string, p any) (any, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done() // ignores nothing: blocks until the state's timeout
			return nil, nil
		}
		return "second", nil
	}})
	if e.Status != StatusSucceeded || calls.Load() != 2 {
		t.Fatalf("status %s calls %d err %s", e.Status, calls.Load(), e.Error)
	}
	asltest.AssertJSON(t, e.Output, `"second"`)
	asltest.Equal(t, "sleeps", sl.Seconds(), []float64{1})
	asltest.Equal(t, "attempts", e.Path[0].Attempts, 2)
}

func TestTaskErrors(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:x","Parameters":{"k.$":"$.k"},"End":true}}}`
	m := asltest.MustParse(t, def)
	cases := []struct {
		err         error
		name, cause string
	}{
		{errors.New("plain failure"), ErrTaskFailed, "plain failure"},
		{&Error{Name: "ECS.AmazonECSException", Cause: "no capacity"}, "ECS.AmazonECSException", "no capacity"},
		{errors.Join(errors.New("wrapped"), &Error{Name: "Custom", Cause: "c"}), "Custom", "c"},
	}
	for _, c := range cases {
		var gotRes string
		var gotParams any
		e := m.Execute(context.Background(), map[string]any{"k": "v"}, Options{Task: func(ctx context.Context, res string, p any) (any, error) {
			gotRes, gotParams = res, p
			return nil, c.err
		}})
		asltest.Equal(t, "status", e.Status, StatusFailed)
		asltest.Equal(t, "error", e.Error, c.name)
		asltest.Equal(t, "cause", e.Cause, c.cause)
		asltest.Equal(t, "resource", gotRes, "arn:x")
		asltest.AssertJSON(t, gotParams, `{"k":"v"}`)
		asltest.Equal(t, "step error", e.Path[0].Error, c.name)
	}
	// A panicking handler fails the task instead of crashing the process.
	e := m.Execute(context.Background(), map[string]any{"k": "v"}, Options{Task: func(context.Context, string, any) (any, error) { panic("kaboom") }})
	asltest.Equal(t, "panic error", e.Error, ErrTaskFailed)
	// Task results of arbitrary Go types are normalized to generic JSON.
	type res struct {
		Code int `json:"code"`
	}
	e = m.Execute(context.Background(), map[string]any{"k": "v"}, Options{Task: func(context.Context, string, any) (any, error) { return res{Code: 7}, nil }})
	asltest.AssertJSON(t, e.Output, `{"code":7}`)
	// No handler at all.
	e = m.Execute(context.Background(), map[string]any{"k": "v"}, Options{})
	asltest.Equal(t, "no handler", e.Error, ErrRuntime)
}

func TestExecutionTimeoutAndAbort(t *testing.T) {
	def := `{"StartAt":"T","TimeoutSeconds":1,"States":{"T":{"Type":"Task","Resource":"r","End":true}}}`
	m := asltest.MustParse(t, def)
	block := func(ctx context.Context, _ string, _ any) (any, error) { <-ctx.Done(); return nil, ctx.Err() }
	e := m.Execute(context.Background(), map[string]any{}, Options{Task: block})
	asltest.Equal(t, "status", e.Status, StatusTimedOut)
	asltest.Equal(t, "error", e.Error, ErrTimeout)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	m2 := asltest.MustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`)
	start := time.Now()
	e = m2.Execute(ctx, map[string]any{}, Options{})
	asltest.Equal(t, "status", e.Status, StatusAborted)
	if time.Since(start) > 5*time.Second {
		t.Errorf("abort did not interrupt the wait")
	}
}

func TestObserverAndPath(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["A"],"IntervalSeconds":2}],"Next":"S"},"S":{"Type":"Succeed"}}}`
	m := asltest.MustParse(t, def)
	var kinds []string
	tasks := asltest.NewTasks(map[string][]asltest.Outcome{"r": {{Error: "A", Cause: "x"}, {Result: 1}}})
	sl := &asltest.Sleeps{}
	e := m.Execute(context.Background(), map[string]any{}, Options{Task: tasks.Handle, Sleep: sl.Sleep, Name: "exec-1", StateMachineName: "edge-drop",
		Observer: func(ev Event) {
			s := string(ev.Kind)
			if ev.State != "" {
				s += ":" + ev.State
			}
			if ev.Kind == EventRetryScheduled {
				s += ":" + ev.Duration.String()
			}
			if ev.Kind == EventExecutionEnded {
				s += ":" + ev.Type
			}
			kinds = append(kinds, s)
		}})
	want := "ExecutionStarted,StateEntered:T,StateFailed:T,RetryScheduled:T:2s,StateExited:T,StateEntered:S,StateExited:S,ExecutionEnded:SUCCEEDED"
	asltest.Equal(t, "events", strings.Join(kinds, ","), want)
	asltest.Equal(t, "path", asltest.PathNames(e), "T,S")
	asltest.Equal(t, "attempts", e.Path[0].Attempts, 2)
	asltest.Equal(t, "types", e.Path[1].Type, "Succeed")
	asltest.Equal(t, "id", e.ID, "arn:aws:states:local:000000000000:execution:edge-drop:exec-1")
}

func TestInputIsNotMutated(t *testing.T) {
	m := asltest.MustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`)
	in := map[string]any{"a": map[string]any{"x": 1}}
	e := m.Execute(context.Background(), in, Options{})
	asltest.AssertJSON(t, e.Output, `{"a":{"x":1,"b":1}}`)
	asltest.AssertJSON(t, in, `{"a":{"x":1}}`)
}

func TestTaskHasNoDefaultTimeout(t *testing.T) {
	// AWS applies no timeout to Task states without TimeoutSeconds (the
	// handler's context has no deadline); aws-local-stepfunctions uses 60 s.
	m := asltest.MustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","HeartbeatSeconds":5,"End":true}}}`)
	var hasDeadline bool
	e := m.Execute(context.Background(), map[string]any{}, Options{Task: func(ctx context.Context, _ string, _ any) (any, error) {
		_, hasDeadline = ctx.Deadline()
		return "ok", nil
	}})
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.Equal(t, "deadline", hasDeadline, false)
}

func TestConcurrentExecutionsShareAMachine(t *testing.T) {
	m := asltest.Definition(t, "pipeline")
	events := make([]any, 20)
	for i := range events {
		events[i] = asltest.JSON(t, asltest.S3Event(t, fmt.Sprintf("demo-%d.txt", i)))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("demo-%d.txt", i)
			e := m.Execute(context.Background(), events[i], Options{Task: func(_ context.Context, _ string, p any) (any, error) {
				env := p.(map[string]any)["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)["Environment"].([]any)
				if got := env[1].(map[string]any)["Value"]; got != key {
					return nil, &Error{Name: "WrongKey", Cause: fmt.Sprint(got)}
				}
				r := asltest.StoppedTask(0, "ok")
				r["TaskArn"] = "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/" + key
				return r, nil
			}})
			if e.Status != StatusSucceeded || e.Output.(map[string]any)["taskArn"] != "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/"+key {
				errs <- fmt.Sprintf("%s: %s %s %s", key, e.Status, e.Error, e.Cause)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
