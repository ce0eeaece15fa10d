package asl

import "fmt"

// state is one state of a machine. Each ASL state kind is its own type with
// its own parse and run: passState, taskState, choiceState, waitState,
// succeedState, failState and mapState (pass.go, task.go, ...).
type state interface {
	// meta names the state and its kind.
	meta() *stateMeta
	// transitions are the states it may go to, for Parse's checks.
	transitions() []transition
	// attempt runs the state once on its raw input. The runner retries and
	// catches around it (recovery).
	attempt(r *runner, raw any) (attempted, *stateError)
}

// stateMeta is a state's name and kind ("Task", "Map", ...), as Step and
// Event report them.
type stateMeta struct{ name, typ string }

func (m *stateMeta) meta() *stateMeta { return m }

// attempted is what one attempt of a state yields.
type attempted struct {
	out  any
	next string // "" ends the scope (the execution, or a Map iteration)
	// iterations are a Map state's iteration paths, in item order; set
	// when it failed too.
	iterations [][]Step
}

// transition is a field naming another state.
type transition struct{ field, target string }

// flow is the Next or End of the kinds that have one (Pass, Task, Wait, Map).
type flow struct {
	next string
	end  bool
}

func (f flow) transitions() []transition {
	if f.next == "" {
		return nil
	}
	return []transition{{"Next", f.next}}
}

// then is the state that follows a successful attempt ("" with End).
func (f flow) then() string {
	if f.end {
		return ""
	}
	return f.next
}

// recovery is the Retry and Catch of the kinds that have them (Task, Map).
type recovery struct {
	retry []retrier
	catch []catcher
	// jsonata: a caught error's output is the Catch's Output, or the
	// error output itself (no ResultPath in JSONata).
	jsonata bool
}

func (rc *recovery) handlers() *recovery { return rc }

func (rc *recovery) catchTransitions() []transition {
	var ts []transition
	for i, c := range rc.catch {
		ts = append(ts, transition{field: fmt.Sprintf("Catch[%d].Next", i), target: c.next})
	}
	return ts
}

// recoverable is a state with Retry and Catch.
type recoverable interface{ handlers() *recovery }

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int
	backoffRate float64
	maxDelay    float64 // 0 = none
	jitterFull  bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  *optRefPath
	output      *jsonataTemplate // JSONata states' Catch Output
}

type optPath struct {
	null bool
	p    *path
}

type optRefPath struct {
	null bool
	p    *refPath // nil with null=false means "$"
}

var (
	_ recoverable = (*taskState)(nil)
	_ recoverable = (*jsonataTaskState)(nil)
	_ recoverable = (*mapState)(nil)
)
