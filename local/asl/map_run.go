package asl

import (
	"context"
	"fmt"
	"math"
	"sync"
)

func (s *mapState) attempt(r *runner, raw any) (attempted, *stateError) {
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	results, iterations, serr := s.run(r, effective)
	if serr != nil {
		return attempted{iterations: iterations}, serr
	}
	out, serr := s.output(r, s.name, raw, results)
	return attempted{out: out, next: s.then(), iterations: iterations}, serr
}

// run runs the iterations on the state's effective input and returns their
// outputs in item order, and their paths. The first iteration that fails
// fails the state with its error; the others are then cancelled, as AWS
// does.
func (s *mapState) run(r *runner, input any) (any, [][]Step, *stateError) {
	list, serr := s.items(r, input)
	if serr != nil {
		return nil, nil, serr
	}
	limit, serr := s.concurrency(r, input, len(list))
	if serr != nil {
		return nil, nil, serr
	}
	inputs, serr := s.iterationInputs(r, input, list)
	if serr != nil {
		return nil, nil, serr
	}
	return s.iterate(r, inputs, limit)
}

// items is the array ItemsPath selects, counted against MaxMapItems.
func (s *mapState) items(r *runner, input any) ([]any, *stateError) {
	items, where := input, "The input"
	if s.itemsPath != nil {
		v, ok := s.itemsPath.eval(input, r.ctxObj)
		if !ok {
			return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field ItemsPath: the path could not be found in the input '%s'",
				s.name, s.itemsPath.raw, toJSONString(input))
		}
		items, where = v, fmt.Sprintf("The ItemsPath '%s'", s.itemsPath.raw)
	}
	list, ok := items.([]any)
	if !ok {
		return nil, runtimeErr("An error occurred while executing the state '%s'. %s must select a JSON array, got %s", s.name, where, toJSONString(items))
	}
	if total := r.mapItems.Add(int64(len(list))); total > MaxMapItems {
		return nil, runtimeErr("An error occurred while executing the state '%s'. The Map state got %d items, which makes %d in this execution; the local engine runs at most %d Map items per execution (split the input)",
			s.name, len(list), total, MaxMapItems)
	}
	return list, nil
}

// concurrency is how many of n iterations may run at once.
func (s *mapState) concurrency(r *runner, input any, n int) (int64, *stateError) {
	limit := s.maxConcurrency
	if s.maxConcurrencyPath != nil {
		v, ok := s.maxConcurrencyPath.eval(input, r.ctxObj)
		f, isNum := toFloat(v)
		if !ok || !isNum || f < 0 || !isInteger(f) {
			return 0, runtimeErr("An error occurred while executing the state '%s'. The MaxConcurrencyPath '%s' must point to a non-negative integer, got %s", s.name, s.maxConcurrencyPath.raw, toJSONString(v))
		}
		limit = int64(math.Min(f, math.MaxInt32))
	}
	if limit == 0 || limit > MaxInlineConcurrency {
		limit = MaxInlineConcurrency
	}
	return min(limit, int64(n)), nil
}

// iterationInputs are the items through ItemSelector (with $$.Map.Item),
// all evaluated before the first iteration starts: an ItemSelector that
// fails fails the state before anything runs.
func (s *mapState) iterationInputs(r *runner, input any, list []any) ([]any, *stateError) {
	inputs := make([]any, len(list))
	for i, item := range list {
		inputs[i] = deepCopy(item)
		if s.itemSelector == nil {
			continue
		}
		ctxObj := make(map[string]any, len(r.ctxObj)+1)
		for k, v := range r.ctxObj {
			ctxObj[k] = v
		}
		ctxObj["Map"] = map[string]any{"Item": map[string]any{"Index": jsonInt(int64(i)), "Value": item}}
		v, serr := s.itemSelector.eval(input, ctxObj, s.selectorField)
		if serr != nil {
			serr.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, serr.cause)
			return nil, serr
		}
		inputs[i] = v
	}
	return inputs, nil
}

// mapRun is one attempt's iterations in flight.
type mapRun struct {
	s      *mapState
	r      *runner
	ctx    context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{} // at most limit iterations run at once
	wg     sync.WaitGroup

	mu       sync.Mutex
	failure  *stateError
	panicked any // the Observer (or Sleep, Now, Rand) panicked in an iteration
	results  []any
	paths    [][]Step
}

// iterate runs the iterations, at most limit at once; a failed iteration
// (or the stopped execution) starts no more.
func (s *mapState) iterate(r *runner, inputs []any, limit int64) (any, [][]Step, *stateError) {
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	m := &mapRun{s: s, r: r, ctx: ctx, cancel: cancel, sem: make(chan struct{}, limit),
		results: make([]any, len(inputs)), paths: make([][]Step, len(inputs))}
	for i := range inputs {
		select {
		case m.sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		m.wg.Add(1)
		go m.iteration(i, inputs[i])
	}
	m.wg.Wait()
	if m.panicked != nil {
		panic(m.panicked) // re-raised for Execute to report
	}
	if m.failure != nil {
		// A Fail state or a task error inside the iteration becomes the Map
		// state's error (which its Retry/Catch may handle); States.Runtime
		// stays terminal.
		return nil, m.paths, &stateError{name: m.failure.name, cause: m.failure.cause, terminal: m.failure.terminal}
	}
	return m.results, m.paths, nil
}

func (m *mapRun) iteration(i int, input any) {
	defer m.wg.Done()
	defer func() { <-m.sem }()
	defer m.recoverPanic()
	out, path, serr := m.r.runIteration(m.ctx, m.s, i, input)
	m.mu.Lock()
	m.paths[i] = path
	first := serr != nil && m.failure == nil
	if first {
		m.failure = serr
		m.cancel(errSiblingFailed)
	}
	m.mu.Unlock()
	e := Event{State: m.s.name, Type: m.s.typ, Iteration: m.r.scope(m.s, i), Index: i}
	switch {
	case serr == nil:
		m.results[i] = out
		e.Kind, e.Output = EventMapIterationSucceeded, out
	case first:
		e.Kind, e.Error, e.Cause = EventMapIterationFailed, serr.name, limitCause(serr.cause)
	default:
		e.Kind = EventMapIterationAborted
	}
	m.r.emit(e)
}

func (m *mapRun) recoverPanic() {
	if p := recover(); p != nil {
		m.mu.Lock()
		if m.panicked == nil {
			m.panicked = p
		}
		m.mu.Unlock()
		m.cancel(errSiblingFailed)
	}
}

func (r *runner) scope(s *mapState, i int) string {
	scope := fmt.Sprintf("%s[%d]", s.name, i)
	if r.iteration != "" {
		scope = r.iteration + "/" + scope
	}
	return scope
}

// runIteration runs the ItemProcessor of Map state s on one item, with its
// own context object (no $$.Map: AWS offers it to ItemSelector only) and
// path.
func (r *runner) runIteration(ctx context.Context, s *mapState, i int, input any) (any, []Step, *stateError) {
	child := &runner{m: s.processor, opts: r.opts, ctx: ctx, execCtx: r.execCtx, parent: r.parent, exec: r.exec, obs: r.obs, mapItems: r.mapItems,
		iteration: r.scope(s, i),
		ctxObj:    map[string]any{"Execution": r.ctxObj["Execution"], "StateMachine": r.ctxObj["StateMachine"], "State": map[string]any{}}}
	child.emit(Event{Kind: EventMapIterationStarted, State: s.name, Type: s.typ, Index: i, Input: input})
	out, serr := child.run(input)
	return out, child.path, serr
}
