package asl

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSleep records requested delays and returns immediately.
type fakeSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.delays = append(f.delays, d)
	f.mu.Unlock()
	return ctx.Err()
}

// total is the time waited so far.
func (f *fakeSleep) total() time.Duration {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var d time.Duration
	for _, x := range f.delays {
		d += x
	}
	return d
}

func (f *fakeSleep) seconds() []float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]float64, len(f.delays))
	for i, d := range f.delays {
		out[i] = d.Seconds()
	}
	return out
}

// outcome is a scripted task attempt: a result, an echo of the parameters, or
// an error. ByInput lets the parameters decide, so that concurrent Map
// iterations behave the same in any order: parameters with a string field
// "error" fail with that name (and the "cause" field), others are echoed.
type outcome struct {
	Result  any    `json:"result,omitempty"`
	Echo    bool   `json:"echo,omitempty"`
	Error   string `json:"error,omitempty"`
	Cause   string `json:"cause,omitempty"`
	ByInput bool   `json:"byInput,omitempty"`
}

// scriptedTasks serves Task states by resource; each resource has a list of
// outcomes, one per attempt, the last one repeating.
type scriptedTasks struct {
	mu       sync.Mutex
	script   map[string][]outcome
	attempts map[string]int
	params   map[string][]any
}

func newScripted(script map[string][]outcome) *scriptedTasks {
	return &scriptedTasks{script: script, attempts: map[string]int{}, params: map[string][]any{}}
}

func (s *scriptedTasks) handler(ctx context.Context, resource string, params any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[resource] = append(s.params[resource], params)
	outs, ok := s.script[resource]
	if !ok || len(outs) == 0 {
		return params, nil
	}
	i := min(s.attempts[resource], len(outs)-1)
	s.attempts[resource]++
	o := outs[i]
	if o.ByInput {
		obj, _ := params.(map[string]any)
		if name, ok := obj["error"].(string); ok {
			cause, _ := obj["cause"].(string)
			return nil, &Error{Name: name, Cause: cause}
		}
		return params, nil
	}
	switch {
	case o.Error != "":
		return nil, &Error{Name: o.Error, Cause: o.Cause}
	case o.Echo:
		return params, nil
	default:
		return o.Result, nil
	}
}

func mustParse(t *testing.T, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, def)
	}
	return m
}

// js decodes a JSON literal into the package's generic form.
func js(t testing.TB, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

// canon renders a value as canonical JSON for comparisons (numbers are
// re-parsed so 1 and 1.0 compare equal).
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

func assertJSON(t *testing.T, got any, want string) {
	t.Helper()
	if g, w := canon(t, got), canon(t, js(t, want)); g != w {
		t.Errorf("output mismatch\n got: %s\nwant: %s", g, w)
	}
}

func run(t *testing.T, def string, input string, tasks *scriptedTasks, sl *fakeSleep) *Execution {
	t.Helper()
	m := mustParse(t, def)
	if tasks == nil {
		tasks = newScripted(nil)
	}
	if sl == nil {
		sl = &fakeSleep{}
	}
	return m.Execute(context.Background(), js(t, input), Options{Task: tasks.handler, Sleep: sl.sleep, Rand: func() float64 { return 0.5 }})
}

func pathNames(e *Execution) string {
	var names []string
	for _, s := range e.Path {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

func assertEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

const goldenDir = "../../constructs/pipeline/testdata/"

func loadPipeline(t *testing.T) *Machine {
	t.Helper()
	def, err := os.ReadFile(goldenDir + "pipeline.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(def))
}

func s3Event(t *testing.T, key string) any {
	t.Helper()
	ev, err := os.ReadFile(goldenDir + "s3-object-created.json")
	if err != nil {
		t.Fatal(err)
	}
	return js(t, strings.Replace(string(ev), `"demo-1.txt"`, `"`+key+`"`, 1))
}

func ecsResult(exit int, reason string) map[string]any {
	return map[string]any{
		"Containers":    []any{map[string]any{"Name": "task", "ExitCode": exit, "LastStatus": "STOPPED"}},
		"StoppedReason": reason,
		"LastStatus":    "STOPPED",
		"TaskArn":       "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef",
	}
}
