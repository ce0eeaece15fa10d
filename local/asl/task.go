package asl

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
)

// taskState runs its Resource through Options.Task, with a task token
// ($$.Task.Token) per attempt, its timeout, Retry and Catch.
type taskState struct {
	stateMeta
	flow
	dataFlow
	recovery
	resource       string
	timeoutSeconds int64
	timeoutPath    *path
}

func parseTask(p *stateParser) state {
	s := &taskState{stateMeta: p.meta(), flow: p.flow(), dataFlow: p.dataFlow(), recovery: p.recovery()}
	s.resource, _ = p.str("Resource")
	if s.resource == "" {
		p.fail("Resource", "missing")
	}
	s.timeoutSeconds, _ = p.integer("TimeoutSeconds", 1, maxSeconds)
	if s.timeoutPath = p.path("TimeoutSecondsPath"); s.timeoutPath != nil && s.timeoutSeconds != 0 {
		p.fail("TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
	}
	p.heartbeat(s.timeoutSeconds)
	return s
}

// heartbeat validates HeartbeatSeconds and HeartbeatSecondsPath as AWS
// does; they are otherwise ignored: local handlers send no heartbeats.
func (p *stateParser) heartbeat(timeoutSeconds int64) {
	_, hb := p.has("HeartbeatSeconds")
	if _, hbp := p.has("HeartbeatSecondsPath"); hb && hbp {
		p.fail("HeartbeatSecondsPath", "cannot be used together with HeartbeatSeconds")
	}
	if n, ok := p.integer("HeartbeatSeconds", 1, maxSeconds); ok && timeoutSeconds != 0 && n >= timeoutSeconds {
		p.fail("HeartbeatSeconds", "must be smaller than TimeoutSeconds (%d), got %d", timeoutSeconds, n)
	}
}

func (s *taskState) transitions() []transition {
	return append(s.flow.transitions(), s.catchTransitions()...)
}

func (s *taskState) attempt(r *runner, raw any) (attempted, *stateError) {
	// $$.Task exists only in Task states (AWS: null elsewhere); each
	// attempt has its own token, closed when the attempt ends.
	pending := r.opts.Tokens.issue()
	defer r.opts.Tokens.close(pending)
	r.ctxObj["Task"] = map[string]any{"Token": pending.token}
	defer delete(r.ctxObj, "Task")
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	result, serr := s.run(r, effective, pending)
	if serr != nil {
		return attempted{}, serr
	}
	out, serr := s.output(r, s.name, raw, result)
	return attempted{out: out, next: s.then()}, serr
}

var errTaskTimeout = errors.New("task timed out")

// run calls the handler and ends with the first of: its result, the
// token's, the state's timeout, or the end of the execution or scope.
func (s *taskState) run(r *runner, params any, pending *pendingTask) (any, *stateError) {
	if r.opts.Task == nil {
		return nil, runtimeErr("no Options.Task handler to run the Task state '%s' (resource %s)", s.name, s.resource)
	}
	timeout, serr := s.timeout(r, params)
	if serr != nil {
		return nil, serr
	}
	// The handler's context carries the state's timeout as its deadline
	// and ends with the execution. It ends with the state's scope (a Map
	// iteration) too, unless the state ended by its token first: that job
	// runs on to its own end, as a task whose state ended by
	// SendTaskSuccess does.
	ctx, cancel := taskContext(r.execCtx, timeout)
	var detached atomic.Bool
	stopWithScope := context.AfterFunc(r.ctx, func() {
		if !detached.Load() {
			cancel(context.Cause(r.ctx))
		}
	})
	done := callHandler(ctx, r.opts.Task, s.resource, params)
	o, byToken := awaitTask(ctx, done, pending)
	if byToken {
		detached.Store(true)
	}
	stopped := ctx.Err() != nil || r.ctx.Err() != nil // a result that comes with the timeout or the stop does not count
	if byToken && !stopped {
		go func() { <-done; stopWithScope(); cancel(nil) }()
	} else {
		stopWithScope()
		cancel(nil)
	}
	if !stopped {
		return o.v, o.serr
	}
	if r.ctx.Err() == nil && errors.Is(context.Cause(ctx), errTaskTimeout) {
		return nil, &stateError{name: ErrTimeout, cause: fmt.Sprintf("The task '%s' exceeded its TimeoutSeconds of %.0f", s.name, timeout)}
	}
	return nil, &stateError{name: ErrRuntime, cause: "execution stopped: " + context.Cause(r.ctx).Error(), terminal: true}
}

// timeout is the state's TimeoutSeconds, or what TimeoutSecondsPath
// selects; 0: none.
func (s *taskState) timeout(r *runner, params any) (float64, *stateError) {
	if s.timeoutPath == nil {
		return float64(s.timeoutSeconds), nil
	}
	v, ok := s.timeoutPath.eval(params, r.ctxObj)
	f, isNum := toFloat(v)
	if !ok || !isNum || f < 1 || !isInteger(f) {
		return 0, runtimeErr("An error occurred while executing the state '%s'. The TimeoutSecondsPath '%s' must point to a positive integer, got %s", s.name, s.timeoutPath.raw, toJSONString(v))
	}
	return f, nil
}

// taskContext is the handler's context: parent's, with the timeout (if
// any) as its deadline and errTaskTimeout as the cause.
func taskContext(parent context.Context, timeout float64) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	if timeout <= 0 {
		return ctx, cancel
	}
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, seconds(timeout), errTaskTimeout)
	return ctx, func(err error) { cancelTimeout(); cancel(err) }
}

// callHandler runs the handler on its own goroutine. The handler is
// someone else's code: its panics, and those of the error or result it
// returns, fail the state instead of the process.
func callHandler(ctx context.Context, handler TaskHandler, resource string, params any) <-chan taskOutcome {
	done := make(chan taskOutcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- taskOutcome{serr: &stateError{name: ErrTaskFailed, cause: fmt.Sprintf("task handler panicked: %v", p)}}
			}
		}()
		v, err := handler(ctx, resource, deepCopy(params))
		done <- taskResult(v, err)
	}()
	return done
}

// awaitTask waits for the handler, the token or the end of ctx. byToken:
// the state ends with the token's result while the job runs on to its own
// end (a task whose state ended by SendTaskSuccess is not stopped).
func awaitTask(ctx context.Context, done <-chan taskOutcome, pending *pendingTask) (o taskOutcome, byToken bool) {
	select {
	case o = <-done:
		// A token completed before the handler returned (a task that
		// reported, then exited) decides: it came first.
		select {
		case o = <-pending.result:
		default:
		}
		return o, false
	case o = <-pending.result:
		return o, true
	case <-ctx.Done():
		return o, false
	}
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
