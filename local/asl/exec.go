package asl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

const timeLayout = "2006-01-02T15:04:05.000Z"

var errExecutionTimeout = errors.New("execution timed out")

// runner runs one scope of states: the execution, or one Map iteration
// (with its own context, context object and path; opts, obs and exec are
// shared).
type runner struct {
	m    *Machine
	opts Options
	ctx  context.Context
	// execCtx is the execution's context (its abort and timeout); ctx may
	// be narrower (a Map iteration's, cancelled when the Map ends).
	execCtx context.Context
	parent  context.Context
	ctxObj  map[string]any
	exec    *Execution
	obs     *observer
	path    []Step
	// mapItems counts the Map items of the execution (see MaxMapItems).
	mapItems *atomic.Int64
	// iteration is the Map iteration this runner runs ("" at the top level).
	iteration string
}

// Execute runs the machine on input and returns when the execution ends
// (successfully, failed, timed out per the top-level TimeoutSeconds, or
// aborted because ctx was cancelled).
func (m *Machine) Execute(ctx context.Context, input any, opts Options) (result *Execution) {
	opts = opts.withDefaults()
	execARN := "arn:aws:states:local:000000000000:execution:" + opts.StateMachineName + ":" + opts.Name
	start := opts.Now()
	exec := &Execution{Name: opts.Name, ID: execARN, StartTime: start}
	r := &runner{m: m, opts: opts, parent: ctx, exec: exec, obs: &observer{fn: opts.Observer}, mapItems: new(atomic.Int64)}
	// A panic in the Observer (or in Sleep, Now or Rand) must not take the
	// process down: it fails this execution with States.Runtime.
	defer func() {
		if p := recover(); p != nil {
			r.obs.disable()
			result = r.finish(StatusFailed, nil, ErrRuntime, panicCause(p))
		}
	}()

	runCtx := ctx
	if m.timeoutSeconds > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, seconds(float64(m.timeoutSeconds)), errExecutionTimeout)
		defer cancel()
	}
	r.ctx, r.execCtx = runCtx, runCtx

	in, err := normalize(input)
	if err != nil {
		return r.finish(StatusFailed, nil, ErrRuntime, fmt.Sprintf("execution input is not JSON-serializable: %v", err))
	}
	r.ctxObj = contextObject(opts, execARN, in, start)
	r.emit(Event{Kind: EventExecutionStarted, At: start, Input: in})

	out, serr := r.run(deepCopy(in))
	if serr != nil {
		if st := r.interrupted(); st != "" {
			return r.finishInterrupted(st)
		}
		return r.finish(StatusFailed, nil, serr.name, serr.cause)
	}
	return r.finish(StatusSucceeded, out, "", "")
}

// withDefaults fills in what the caller left out.
func (o Options) withDefaults() Options {
	if o.Sleep == nil {
		o.Sleep = realSleep
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		id, _ := fnUUID(nil)
		o.Name = id.(string)
	}
	if o.StateMachineName == "" {
		o.StateMachineName = "StateMachine"
	}
	if o.Tokens == nil {
		o.Tokens = NewTaskTokens()
	}
	return o
}

// contextObject is the execution's context object ($$) before any state.
func contextObject(opts Options, execARN string, input any, start time.Time) map[string]any {
	return map[string]any{
		"Execution": map[string]any{
			"Id":        execARN,
			"Input":     input,
			"Name":      opts.Name,
			"RoleArn":   "arn:aws:iam::000000000000:role/local",
			"StartTime": start.UTC().Format(timeLayout),
		},
		"StateMachine": map[string]any{"Id": "arn:aws:states:local:000000000000:stateMachine:" + opts.StateMachineName, "Name": opts.StateMachineName},
		"State":        map[string]any{},
	}
}

// run runs the runner's states from StartAt until one ends the scope.
func (r *runner) run(data any) (any, *stateError) {
	cur := r.m.startAt
	for {
		if r.ctx.Err() != nil {
			return nil, &stateError{name: ErrRuntime, cause: "execution stopped: " + context.Cause(r.ctx).Error(), terminal: true}
		}
		out, next, serr := r.runState(r.m.states[cur], data)
		if serr != nil {
			return nil, serr
		}
		if next == "" {
			return out, nil
		}
		cur, data = next, out
	}
}

func (r *runner) interrupted() string {
	if r.ctx.Err() == nil {
		return ""
	}
	if r.parent.Err() == nil && errors.Is(context.Cause(r.ctx), errExecutionTimeout) {
		return StatusTimedOut
	}
	return StatusAborted
}

func (r *runner) finishInterrupted(status string) *Execution {
	if status == StatusTimedOut {
		return r.finish(status, nil, ErrTimeout, fmt.Sprintf("The execution exceeded its TimeoutSeconds of %d", r.m.timeoutSeconds))
	}
	return r.finish(status, nil, "", "")
}

func (r *runner) finish(status string, out any, errName, cause string) *Execution {
	cause = limitCause(cause)
	r.exec.Status, r.exec.Output, r.exec.Error, r.exec.Cause = status, out, errName, cause
	r.exec.Path = r.path
	r.exec.StopTime = r.opts.Now()
	r.emit(Event{Kind: EventExecutionEnded, Type: status, At: r.exec.StopTime,
		Duration: r.exec.StopTime.Sub(r.exec.StartTime), Error: errName, Cause: cause, Output: out})
	return r.exec
}

func (r *runner) emit(e Event) {
	if !r.obs.active() {
		return
	}
	if e.At.IsZero() {
		e.At = r.opts.Now()
	}
	if e.Iteration == "" {
		e.Iteration = r.iteration
	}
	r.obs.call(e)
}

// observer serializes the calls of Options.Observer: Map iterations emit
// events concurrently.
type observer struct {
	mu     sync.Mutex
	fn     func(Event)
	broken bool // it panicked once: never called again
}

func (o *observer) active() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fn != nil && !o.broken
}

func (o *observer) disable() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.broken = true
}

func (o *observer) call(e Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fn == nil || o.broken {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			o.broken = true
			panic(observerPanic{p}) // Execute (or the Map iteration) turns it into States.Runtime
		}
	}()
	o.fn(e)
}

type observerPanic struct{ value any }

func panicCause(p any) string {
	if o, ok := p.(observerPanic); ok {
		return fmt.Sprintf("the Observer panicked: %v", o.value)
	}
	return fmt.Sprintf("the execution panicked: %v", p)
}

// maxCauseChars is the AWS limit of an error cause; longer causes (a
// States.Runtime cause quotes the whole input) are cut there.
const maxCauseChars = 32768

func limitCause(cause string) string {
	if len(cause) <= maxCauseChars {
		return cause // no more bytes than characters allowed
	}
	n := 0
	for i := range cause {
		if n == maxCauseChars {
			return cause[:i]
		}
		n++
	}
	return cause
}

// maxDurationSeconds is the longest time.Duration, in seconds.
const maxDurationSeconds = float64(math.MaxInt64) / float64(time.Second)

// seconds converts seconds to a Duration, saturating at the longest one:
// 1e12 s from an input path waits "forever" instead of overflowing into a
// negative wait (or a timeout that fires at once).
func seconds(s float64) time.Duration {
	switch {
	case !(s > 0): // also NaN
		return 0
	case s*float64(time.Second) >= float64(math.MaxInt64):
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runState runs one state, with its retries and catchers. next == "" with
// a nil error means the scope ended successfully with output out.
func (r *runner) runState(s state, input any) (out any, next string, serr *stateError) {
	meta := s.meta()
	entered := r.opts.Now()
	step := Step{Name: meta.name, Type: meta.typ, Entered: entered}
	r.ctxObj["State"] = map[string]any{"Name": meta.name, "EnteredTime": entered.UTC().Format(timeLayout), "RetryCount": jsonInt(0)}
	r.emit(Event{Kind: EventStateEntered, State: meta.name, Type: meta.typ, At: entered, Input: input})
	defer func() {
		step.Duration = r.opts.Now().Sub(entered)
		if serr != nil {
			step.Error, step.Cause = serr.name, serr.cause
		}
		r.path = append(r.path, step)
	}()
	rc := &recovery{}
	if x, ok := s.(recoverable); ok {
		rc = x.handlers()
	}
	retries := make([]int, len(rc.retry))
	for attempt := 1; ; attempt++ {
		step.Attempts = attempt
		a, serr := s.attempt(r, input)
		step.Iterations = a.iterations
		if serr == nil {
			r.emit(Event{Kind: EventStateExited, State: meta.name, Type: meta.typ, Attempt: attempt,
				Duration: r.opts.Now().Sub(entered), Input: input, Output: a.out})
			return a.out, a.next, nil
		}
		serr.cause = limitCause(serr.cause)
		r.emit(Event{Kind: EventStateFailed, State: meta.name, Type: meta.typ, Attempt: attempt, Error: serr.name, Cause: serr.cause})
		if serr.terminal || r.interrupted() != "" {
			return nil, "", serr
		}
		retry, stop := r.retry(s, rc, retries, attempt, serr)
		switch {
		case stop != nil:
			return nil, "", stop
		case retry:
			continue
		}
		return r.catch(s, rc, &step, attempt, entered, input, serr)
	}
}

func jsonInt(i int64) any { return num(i) }

// stateError is an error raised while running a state.
type stateError struct {
	name, cause string
	// terminal errors (States.Runtime) are neither retried nor caught.
	terminal bool
}

func runtimeErr(format string, args ...any) *stateError {
	return &stateError{name: ErrRuntime, cause: fmt.Sprintf(format, args...), terminal: true}
}

func isInteger(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }
