package asl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
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
	// mapIterations hands the iteration paths of the Map state that just
	// ran to runState.
	mapIterations [][]Step
}

// Execute runs the machine on input and returns when the execution ends
// (successfully, failed, timed out per the top-level TimeoutSeconds, or
// aborted because ctx was cancelled).
func (m *Machine) Execute(ctx context.Context, input any, opts Options) (result *Execution) {
	if opts.Sleep == nil {
		opts.Sleep = realSleep
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		id, _ := fnUUID(nil)
		opts.Name = id.(string)
	}
	if opts.StateMachineName == "" {
		opts.StateMachineName = "StateMachine"
	}
	if opts.Tokens == nil {
		opts.Tokens = NewTaskTokens()
	}
	smARN := "arn:aws:states:local:000000000000:stateMachine:" + opts.StateMachineName
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
	r.ctxObj = map[string]any{
		"Execution": map[string]any{
			"Id":        execARN,
			"Input":     in,
			"Name":      opts.Name,
			"RoleArn":   "arn:aws:iam::000000000000:role/local",
			"StartTime": start.UTC().Format(timeLayout),
		},
		"StateMachine": map[string]any{"Id": smARN, "Name": opts.StateMachineName},
		"State":        map[string]any{},
	}
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

// runState runs one state (with its retries and catchers). next == "" with a
// nil error means the execution ended successfully with output out.
func (r *runner) runState(s *state, input any) (out any, next string, serr *stateError) {
	entered := r.opts.Now()
	step := Step{Name: s.name, Type: s.typ, Entered: entered}
	r.ctxObj["State"] = map[string]any{"Name": s.name, "EnteredTime": entered.UTC().Format(timeLayout), "RetryCount": jsonInt(0)}
	r.emit(Event{Kind: EventStateEntered, State: s.name, Type: s.typ, At: entered, Input: input})
	defer func() {
		step.Duration = r.opts.Now().Sub(entered)
		if serr != nil {
			step.Error, step.Cause = serr.name, serr.cause
		}
		r.path = append(r.path, step)
	}()

	counts := make([]int, len(s.retry))
	for attempt := 1; ; attempt++ {
		step.Attempts = attempt
		out, next, serr = r.attempt(s, input)
		if s.typ == "Map" {
			step.Iterations, r.mapIterations = r.mapIterations, nil
		}
		if serr == nil {
			r.emit(Event{Kind: EventStateExited, State: s.name, Type: s.typ, Attempt: attempt,
				Duration: r.opts.Now().Sub(entered), Input: input, Output: out})
			return out, next, nil
		}
		serr.cause = limitCause(serr.cause)
		r.emit(Event{Kind: EventStateFailed, State: s.name, Type: s.typ, Attempt: attempt, Error: serr.name, Cause: serr.cause})
		if serr.terminal || r.interrupted() != "" {
			return nil, "", serr
		}
		// Retry: the first retrier whose ErrorEquals matches decides.
		retried := false
		for i, rt := range s.retry {
			if !matchesError(rt.errorEquals, serr.name, s.typ) {
				continue
			}
			if counts[i] >= rt.maxAttempts {
				break
			}
			delay := rt.interval * math.Pow(rt.backoffRate, float64(counts[i]))
			if rt.maxDelay > 0 && delay > rt.maxDelay {
				delay = rt.maxDelay
			}
			delay = math.Min(delay, maxDurationSeconds) // finite before the jitter
			if rt.jitterFull {
				delay *= r.opts.Rand()
			}
			counts[i]++
			d := seconds(delay)
			r.emit(Event{Kind: EventRetryScheduled, State: s.name, Type: s.typ, Attempt: attempt + 1, Duration: d, Error: serr.name, Cause: serr.cause})
			if err := r.opts.Sleep(r.ctx, d); err != nil || r.interrupted() != "" {
				return nil, "", &stateError{name: serr.name, cause: serr.cause}
			}
			r.ctxObj["State"].(map[string]any)["RetryCount"] = jsonInt(int64(attempt))
			retried = true
			break
		}
		if retried {
			continue
		}
		for _, c := range s.catch {
			if !matchesError(c.errorEquals, serr.name, s.typ) {
				continue
			}
			errOut := map[string]any{"Error": serr.name, "Cause": serr.cause}
			res, ok := applyResultPath(c.resultPath, input, errOut)
			if !ok {
				return nil, "", &stateError{name: ErrResultPathMatchFailure,
					cause: fmt.Sprintf("Unable to apply Catch ResultPath '%s' of state '%s' to input %s", c.resultPath.p.raw, s.name, toJSONString(input))}
			}
			step.Error, step.Cause = serr.name, serr.cause
			r.emit(Event{Kind: EventStateCaught, State: s.name, Type: s.typ, Attempt: attempt, Error: serr.name, Cause: serr.cause, Output: res})
			r.emit(Event{Kind: EventStateExited, State: s.name, Type: s.typ, Attempt: attempt,
				Duration: r.opts.Now().Sub(entered), Input: input, Output: res, Error: serr.name, Cause: serr.cause})
			return res, c.next, nil
		}
		return nil, "", serr
	}
}

func jsonInt(i int64) any { return num(i) }

// matchesError reports whether an ErrorEquals list matches an error name.
// States.ALL matches everything catchable; on a Task state States.TaskFailed
// matches every error except States.Timeout (on a Map state, only itself).
func matchesError(list []string, name, stateType string) bool {
	for _, e := range list {
		switch {
		case e == name, e == ErrAll:
			return true
		case e == ErrTaskFailed && stateType == "Task" && name != ErrTimeout:
			return true
		}
	}
	return false
}

func applyResultPath(rp *optRefPath, raw, result any) (any, bool) {
	switch {
	case rp == nil:
		return result, true
	case rp.null:
		return deepCopy(raw), true
	default:
		return rp.p.set(raw, result)
	}
}

// attempt runs one attempt of a state.
func (r *runner) attempt(s *state, raw any) (any, string, *stateError) {
	fieldErr := func(field, p string, in any) *stateError {
		return runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field %s: the path could not be found in the input '%s'",
			s.name, p, field, toJSONString(in))
	}
	if s.typ == "Fail" {
		return nil, "", r.failState(s, raw)
	}
	// $$.Task exists only in Task states (AWS: null elsewhere); each
	// attempt has its own token, closed when the attempt ends.
	var pending *pendingTask
	if s.typ == "Task" {
		pending = r.opts.Tokens.issue()
		defer r.opts.Tokens.close(pending)
		r.ctxObj["Task"] = map[string]any{"Token": pending.token}
	} else {
		delete(r.ctxObj, "Task")
	}
	effective := raw
	if s.inputPath != nil {
		if s.inputPath.null {
			effective = map[string]any{}
		} else {
			v, ok := s.inputPath.p.eval(raw, r.ctxObj)
			if !ok {
				return nil, "", fieldErr("InputPath", s.inputPath.p.raw, raw)
			}
			effective = v
		}
	}
	if s.parameters != nil {
		v, err := s.parameters.eval(effective, r.ctxObj, "Parameters")
		if err != nil {
			err.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, err.cause)
			return nil, "", err
		}
		effective = v
	}

	var result any
	next := s.next
	hasResult := true
	switch s.typ {
	case "Pass":
		result = effective
		if s.hasResult {
			result = deepCopy(s.result)
		}
	case "Task":
		v, serr := r.runTask(s, effective, pending)
		if serr != nil {
			return nil, "", serr
		}
		result = v
	case "Map":
		v, serr := r.runMap(s, effective)
		if serr != nil {
			return nil, "", serr
		}
		result = v
	case "Choice":
		hasResult = false
		next = ""
		for _, c := range s.choices {
			ok, err := c.eval(effective, r.ctxObj)
			if err != nil {
				err.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, err.cause)
				return nil, "", err
			}
			if ok {
				next = c.next
				break
			}
		}
		if next == "" {
			next = s.deflt
		}
		if next == "" {
			return nil, "", &stateError{name: ErrNoChoiceMatched, cause: fmt.Sprintf("No Matches! (state '%s')", s.name)}
		}
	case "Wait":
		hasResult = false
		if serr := r.wait(s, effective); serr != nil {
			return nil, "", serr
		}
	case "Succeed":
		hasResult = false
	}

	if s.resultSelector != nil { // Task and Map
		v, err := s.resultSelector.eval(result, r.ctxObj, "ResultSelector")
		if err != nil {
			err.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, err.cause)
			return nil, "", err
		}
		result = v
	}
	out := effective
	if hasResult {
		rp := s.resultPath
		var ok bool
		out, ok = applyResultPath(rp, raw, result)
		if !ok {
			return nil, "", &stateError{name: ErrResultPathMatchFailure,
				cause: fmt.Sprintf("Unable to apply ResultPath '%s' of state '%s' to input %s", rp.p.raw, s.name, toJSONString(raw))}
		}
	}
	if s.outputPath != nil {
		if s.outputPath.null {
			out = map[string]any{}
		} else {
			v, ok := s.outputPath.p.eval(out, r.ctxObj)
			if !ok {
				return nil, "", fieldErr("OutputPath", s.outputPath.p.raw, out)
			}
			out = deepCopy(v)
		}
	}
	if s.end || s.typ == "Succeed" {
		next = ""
	}
	return out, next, nil
}

func (r *runner) failState(s *state, raw any) *stateError {
	e := &stateError{}
	resolve := func(lit *string, ve *valueExpr, field string) (string, *stateError) {
		if lit != nil {
			return *lit, nil
		}
		if ve == nil {
			return "", nil
		}
		var v any
		if ve.call != nil {
			x, err := ve.call.eval(raw, r.ctxObj)
			if err != nil {
				return "", runtimeErr("An error occurred while executing the state '%s'. The intrinsic function in field %s failed: %v", s.name, field, err)
			}
			v = x
		} else {
			x, ok := ve.path.eval(raw, r.ctxObj)
			if !ok {
				return "", runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field %s: the path could not be found in the input '%s'", s.name, ve.raw, field, toJSONString(raw))
			}
			v = x
		}
		str, ok := v.(string)
		if !ok {
			return "", runtimeErr("An error occurred while executing the state '%s'. The value of field %s ('%s') must be a string, got %s", s.name, field, ve.raw, toJSONString(v))
		}
		return str, nil
	}
	var serr *stateError
	if e.name, serr = resolve(s.errorStr, s.errorPath, "ErrorPath"); serr != nil {
		return serr
	}
	if e.cause, serr = resolve(s.causeStr, s.causePath, "CausePath"); serr != nil {
		return serr
	}
	// A Fail state has no Retry or Catch: it ends its scope, which fails the
	// execution, or the Map iteration (the Map state may catch it).
	return e
}

func (r *runner) wait(s *state, in any) *stateError {
	var d time.Duration
	switch {
	case s.waitSeconds != nil:
		d = seconds(float64(*s.waitSeconds))
	case s.timestamp != nil:
		d = s.timestamp.Sub(r.opts.Now())
	case s.secondsPath != nil:
		v, ok := s.secondsPath.eval(in, r.ctxObj)
		f, isNum := toFloat(v)
		if !ok || !isNum || f < 0 || !isInteger(f) {
			return runtimeErr("An error occurred while executing the state '%s'. The SecondsPath '%s' must point to a non-negative integer, got %s", s.name, s.secondsPath.raw, toJSONString(v))
		}
		d = seconds(f)
	case s.timestampPath != nil:
		v, ok := s.timestampPath.eval(in, r.ctxObj)
		t, isTS := parseTimestamp(v)
		if !ok || !isTS {
			return runtimeErr("An error occurred while executing the state '%s'. The TimestampPath '%s' must point to an RFC 3339 timestamp, got %s", s.name, s.timestampPath.raw, toJSONString(v))
		}
		d = t.Sub(r.opts.Now())
	}
	if d < 0 {
		d = 0
	}
	if err := r.opts.Sleep(r.ctx, d); err != nil {
		return &stateError{name: ErrRuntime, cause: "wait interrupted: " + err.Error(), terminal: true}
	}
	return nil
}

var errTaskTimeout = errors.New("task timed out")

func (r *runner) runTask(s *state, params any, pending *pendingTask) (any, *stateError) {
	if r.opts.Task == nil {
		return nil, runtimeErr("no Options.Task handler to run the Task state '%s' (resource %s)", s.name, s.resource)
	}
	timeout := float64(s.timeoutSeconds)
	if s.timeoutPath != nil {
		v, ok := s.timeoutPath.eval(params, r.ctxObj)
		f, isNum := toFloat(v)
		if !ok || !isNum || f < 1 || !isInteger(f) {
			return nil, runtimeErr("An error occurred while executing the state '%s'. The TimeoutSecondsPath '%s' must point to a positive integer, got %s", s.name, s.timeoutPath.raw, toJSONString(v))
		}
		timeout = f
	}
	// The handler's context carries the state's timeout as its deadline
	// and ends with the execution. It ends with the state's scope (a Map
	// iteration) too, unless the state ended by its token first: that job
	// runs on to its own end, as a task whose state ended by
	// SendTaskSuccess does.
	ctx, cancel := context.WithCancelCause(r.execCtx)
	if timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeoutCause(ctx, seconds(timeout), errTaskTimeout)
		cancelCause := cancel
		cancel = func(err error) { cancelTimeout(); cancelCause(err) }
	}
	var detached atomic.Bool
	stopWithScope := context.AfterFunc(r.ctx, func() {
		if !detached.Load() {
			cancel(context.Cause(r.ctx))
		}
	})
	done := make(chan taskOutcome, 1)
	go func() {
		// The handler is someone else's code: its panics, and those of the
		// error or result it returns, fail the state instead of the process.
		defer func() {
			if p := recover(); p != nil {
				done <- taskOutcome{serr: &stateError{name: ErrTaskFailed, cause: fmt.Sprintf("task handler panicked: %v", p)}}
			}
		}()
		v, err := r.opts.Task(ctx, s.resource, deepCopy(params))
		done <- taskResult(v, err)
	}()
	var o taskOutcome
	select {
	case o = <-done:
		// A token completed before the handler returned (a task that
		// reported, then exited) decides: it came first.
		select {
		case o = <-pending.result:
		default:
		}
	case o = <-pending.result:
		// The state ends with the token's result; the job runs on to its
		// own end (a task whose state ended by SendTaskSuccess is not
		// stopped), within the state's timeout.
		detached.Store(true)
	case <-ctx.Done():
	}
	stopped := ctx.Err() != nil || r.ctx.Err() != nil // a result that comes with the timeout or the stop does not count
	if detached.Load() && !stopped {
		go func() { <-done; stopWithScope(); cancel(nil) }()
	} else {
		stopWithScope()
		cancel(nil)
	}
	if stopped {
		if r.ctx.Err() == nil && errors.Is(context.Cause(ctx), errTaskTimeout) {
			return nil, &stateError{name: ErrTimeout, cause: fmt.Sprintf("The task '%s' exceeded its TimeoutSeconds of %.0f", s.name, timeout)}
		}
		return nil, &stateError{name: ErrRuntime, cause: "execution stopped: " + context.Cause(r.ctx).Error(), terminal: true}
	}
	return o.v, o.serr
}

type taskOutcome struct {
	v    any
	serr *stateError
}

// taskResult turns what a handler returned into the state's result or error.
func taskResult(v any, err error) taskOutcome {
	if err != nil {
		if isNilPointer(err) {
			return taskOutcome{serr: &stateError{name: ErrTaskFailed, cause: fmt.Sprintf("the task handler returned a nil %T as its error", err)}}
		}
		var e *Error
		if errors.As(err, &e) && e != nil && e.Name != "" {
			return taskOutcome{serr: &stateError{name: e.Name, cause: e.Cause}}
		}
		return taskOutcome{serr: &stateError{name: ErrTaskFailed, cause: err.Error()}}
	}
	n, err := normalize(v)
	if err != nil {
		return taskOutcome{serr: &stateError{name: ErrTaskFailed, cause: fmt.Sprintf("task result is not JSON-serializable: %v", err)}}
	}
	return taskOutcome{v: n}
}

// isNilPointer reports a typed nil in an error interface (a handler that
// returns a nil *MyError): not a nil error, and calling Error on it panics.
func isNilPointer(err error) bool {
	v := reflect.ValueOf(err)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

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
