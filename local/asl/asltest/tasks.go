package asltest

import (
	"context"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/local/asl"
)

// Sleeps stands in for asl.Options.Sleep: it records each wait and
// returns at once.
type Sleeps struct {
	mu     sync.Mutex
	delays []time.Duration
}

// Sleep records d and returns ctx's error.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Delays is every wait so far, in order.
func (s *Sleeps) Delays() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// Total is the time waited so far (0 for a nil Sleeps).
func (s *Sleeps) Total() time.Duration {
	if s == nil {
		return 0
	}
	var d time.Duration
	for _, x := range s.Delays() {
		d += x
	}
	return d
}

// Seconds is every wait so far, in seconds.
func (s *Sleeps) Seconds() []float64 {
	delays := s.Delays()
	out := make([]float64, len(delays))
	for i, d := range delays {
		out[i] = d.Seconds()
	}
	return out
}

// NoWait is an asl.Options.Sleep that does not wait: retries follow at
// once.
func NoWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// Outcome is one scripted attempt of a Task state: a result, an echo of
// its parameters, or an error. ByInput lets the parameters decide, so that
// concurrent Map iterations behave the same in any order: parameters with
// a string field "error" fail with that name (and the "cause" field),
// others are echoed.
type Outcome struct {
	Result  any    `json:"result,omitempty"`
	Echo    bool   `json:"echo,omitempty"`
	Error   string `json:"error,omitempty"`
	Cause   string `json:"cause,omitempty"`
	ByInput bool   `json:"byInput,omitempty"`
}

// Tasks answers Task states by resource: each resource has a list of
// outcomes, one per attempt, the last one repeating; a resource without a
// script echoes its parameters.
type Tasks struct {
	mu       sync.Mutex
	script   map[string][]Outcome
	attempts map[string]int
	params   map[string][]any
}

// NewTasks returns Tasks that follow script.
func NewTasks(script map[string][]Outcome) *Tasks {
	return &Tasks{script: script, attempts: map[string]int{}, params: map[string][]any{}}
}

// Handle is the asl.TaskHandler.
func (s *Tasks) Handle(_ context.Context, resource string, params any) (any, error) {
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
			return nil, &asl.Error{Name: name, Cause: cause}
		}
		return params, nil
	}
	switch {
	case o.Error != "":
		return nil, &asl.Error{Name: o.Error, Cause: o.Cause}
	case o.Echo:
		return params, nil
	default:
		return o.Result, nil
	}
}

// Calls is the parameters of every call of resource, in order.
func (s *Tasks) Calls(resource string) []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]any(nil), s.params[resource]...)
}
