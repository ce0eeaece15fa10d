package asl

import (
	"context"
	"time"
)

// TaskHandler runs the resource of a Task state. parameters is the state's
// effective input (after InputPath and Parameters). Returning an *Error lets
// Retry/Catch match on its Name; any other error becomes States.TaskFailed
// with err.Error() as the cause. ctx carries the state's TimeoutSeconds as
// its deadline and is also cancelled when the execution times out or is
// aborted, or when a sibling iteration of the enclosing Map state fails. The
// iterations of a Map state call it concurrently (up to MaxConcurrency).
type TaskHandler func(ctx context.Context, resource string, parameters any) (any, error)

// Error is a named error, as raised by a Task handler or a Fail state.
type Error struct{ Name, Cause string }

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Predefined error names.
const (
	ErrAll                    = "States.ALL"
	ErrTaskFailed             = "States.TaskFailed"
	ErrTimeout                = "States.Timeout"
	ErrRuntime                = "States.Runtime"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
)

// Execution statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Options configure one execution.
type Options struct {
	// Task is called for every Task state. Required if the machine has one.
	Task TaskHandler
	// Observer, if set, receives events as the execution progresses. It is
	// called synchronously, never concurrently for one execution (Map
	// iterations take turns); if it panics, the execution fails with
	// States.Runtime and the Observer is not called again.
	Observer func(Event)
	// Sleep waits for d or until ctx is done (returning ctx's error). Used
	// for Retry intervals and Wait states. Default: a real timer. Sleep, Rand
	// and Now are called concurrently by the iterations of a Map state.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for JitterStrategy FULL. Default math/rand/v2.
	Rand func() float64
	// Now returns the current time (context object timestamps, Wait
	// Timestamp). Default time.Now.
	Now func() time.Time
	// Name is the execution name ($$.Execution.Name). Default: a random UUID.
	Name string
	// StateMachineName is used for $$.StateMachine.Name and the ARNs in the
	// context object. Default "StateMachine".
	StateMachineName string
	// Tokens issues $$.Task.Token for every Task state attempt and lets a
	// holder of one end the pending state (SendTaskSuccess and the like).
	// Share one between executions so that one endpoint serves them all;
	// nil: the execution has its own, which nobody else can reach.
	Tokens *TaskTokens
}

// EventKind is the kind of an Event.
type EventKind string

// Event kinds.
const (
	EventExecutionStarted EventKind = "ExecutionStarted"
	EventStateEntered     EventKind = "StateEntered"
	EventStateExited      EventKind = "StateExited"    // the state finished (successfully or caught); Output set
	EventStateFailed      EventKind = "StateFailed"    // one attempt failed; Error/Cause set
	EventRetryScheduled   EventKind = "RetryScheduled" // Duration is the delay before the next attempt
	EventStateCaught      EventKind = "StateCaught"
	EventExecutionEnded   EventKind = "ExecutionEnded" // Type holds the final status

	// One iteration of a Map state (State is the Map state, Index the item's
	// index, Iteration the iteration's own scope). An iteration is aborted
	// when a sibling failed first or the execution stopped.
	EventMapIterationStarted   EventKind = "MapIterationStarted" // Input is the iteration's input
	EventMapIterationSucceeded EventKind = "MapIterationSucceeded"
	EventMapIterationFailed    EventKind = "MapIterationFailed" // Error/Cause set
	EventMapIterationAborted   EventKind = "MapIterationAborted"
)

// Event describes progress of an execution for live printing.
type Event struct {
	Kind     EventKind
	State    string
	Type     string
	At       time.Time
	Duration time.Duration
	Attempt  int
	Error    string
	Cause    string
	Input    any
	Output   any
	// Iteration locates events inside Map iterations: "" at the top level,
	// "Fleet[2]" inside iteration 2 of the Map state Fleet, "Outer[0]/Inner[3]"
	// when Maps nest.
	Iteration string
	// Index is the item index of MapIteration* events.
	Index int
}

// Step is one visited state in Execution.Path.
type Step struct {
	Name     string
	Type     string
	Entered  time.Time
	Duration time.Duration
	Attempts int    // number of attempts (Task states with Retry may have several)
	Error    string // error the state ended with, if any (also set when caught)
	Cause    string
	// Iterations holds, for a Map state, the path of each iteration in item
	// order (of its last attempt); nil for iterations that never started.
	Iterations [][]Step
}

// Execution is the result of Machine.Execute.
type Execution struct {
	Status string // SUCCEEDED | FAILED | TIMED_OUT | ABORTED
	Output any
	Error  string
	Cause  string
	Path   []Step
	// Name and ID ($$.Execution.Id) of this execution; StartTime/StopTime.
	Name      string
	ID        string
	StartTime time.Time
	StopTime  time.Time
}

// Machine is a parsed, validated state machine definition.
type Machine struct {
	startAt        string
	states         map[string]state
	timeoutSeconds int64
}
