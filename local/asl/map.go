package asl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// MaxMapItems bounds the Map items (iterations) of one execution, all Map
// states, nested ones and retries together. AWS bounds inline Maps
// indirectly (25,000 history events per execution); the local engine bounds
// them directly so that a hostile input, or Maps nested in Maps, cannot
// exhaust memory.
const MaxMapItems = 10000

// MaxInlineConcurrency is the most iterations an inline Map state runs at
// once in AWS ("up to 40 concurrent iterations"), whatever MaxConcurrency
// says; MaxConcurrency 0 means this limit.
const MaxInlineConcurrency = 40

// mapConfig is what a Map state adds to a state.
type mapConfig struct {
	itemsPath          *path // nil: "$"
	itemSelector       *template
	selectorField      string // ItemSelector or Parameters (legacy), for messages
	processor          *Machine
	maxConcurrency     int64 // 0: MaxInlineConcurrency
	maxConcurrencyPath *path
}

// distributedMapFields are valid only in a Distributed Map (which reads its
// items from S3 and runs child executions): rejected with a clear message.
var distributedMapFields = map[string]bool{
	"ItemReader": true, "ItemBatcher": true, "ResultWriter": true, "Label": true,
	"ToleratedFailurePercentage": true, "ToleratedFailurePercentagePath": true,
	"ToleratedFailureCount": true, "ToleratedFailureCountPath": true,
}

func parseMapState(st *state, obj map[string]any, seen map[string]bool) error {
	fail := func(field string, format string, args ...any) error {
		return fmt.Errorf("asl: state %q: field %s: %s", st.name, field, fmt.Sprintf(format, args...))
	}
	mc := &mapConfig{}
	if v, ok := obj["ItemsPath"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return fail("ItemsPath", "must be a path string such as \"$.items\"")
		}
		p, err := compilePath(s)
		if err != nil {
			return fail("ItemsPath", "%v", err)
		}
		mc.itemsPath = p
	}
	// The generic code compiled Parameters; in a Map state it is the legacy
	// name of ItemSelector, applied to each item, not to the state input.
	mc.itemSelector, mc.selectorField, st.parameters = st.parameters, "Parameters", nil
	if v, ok := obj["ItemSelector"]; ok {
		if mc.itemSelector != nil {
			return fail("ItemSelector", "cannot be used together with Parameters (its legacy name); keep ItemSelector")
		}
		t, err := compileTemplate(v, "ItemSelector")
		if err != nil {
			return fail("ItemSelector", "%v", err)
		}
		mc.itemSelector, mc.selectorField = t, "ItemSelector"
	}
	if v, ok := obj["MaxConcurrency"]; ok {
		n, err := intField(v, 0, math.MaxInt32)
		if err != nil {
			return fail("MaxConcurrency", "%v (0 means no limit)", err)
		}
		mc.maxConcurrency = n
	}
	if v, ok := obj["MaxConcurrencyPath"]; ok {
		if _, both := obj["MaxConcurrency"]; both {
			return fail("MaxConcurrencyPath", "cannot be used together with MaxConcurrency; keep one")
		}
		s, isStr := v.(string)
		if !isStr {
			return fail("MaxConcurrencyPath", "must be a path string such as \"$.maxConcurrency\"")
		}
		p, err := compilePath(s)
		if err != nil {
			return fail("MaxConcurrencyPath", "%v", err)
		}
		mc.maxConcurrencyPath = p
	}

	field := "ItemProcessor"
	raw, hasProcessor := obj["ItemProcessor"]
	if legacy, ok := obj["Iterator"]; ok {
		if hasProcessor {
			return fail("Iterator", "cannot be used together with ItemProcessor (its successor); keep ItemProcessor")
		}
		field, raw, hasProcessor = "Iterator", legacy, true
	}
	if !hasProcessor {
		return fail("ItemProcessor", "missing: a Map state needs ItemProcessor {\"StartAt\": ..., \"States\": {...}} to run for each item")
	}
	proc, ok := raw.(map[string]any)
	if !ok {
		return fail(field, "must be an object with StartAt and States")
	}
	for k, v := range proc {
		switch k {
		case "StartAt", "States", "Comment":
		case "ProcessorConfig":
			if field == "Iterator" {
				return fail("Iterator.ProcessorConfig", "not supported in the legacy Iterator; use ItemProcessor")
			}
			if err := checkProcessorConfig(v); err != nil {
				return fail("ItemProcessor.ProcessorConfig", "%v", err)
			}
		default:
			return fail(field+"."+k, "unsupported field (allowed: StartAt, States, ProcessorConfig, Comment)")
		}
	}
	startAt, ok := proc["StartAt"].(string)
	if !ok || startAt == "" {
		return fail(field+".StartAt", "missing or not a string: name the first state of the iteration")
	}
	states, ok := proc["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return fail(field+".States", "missing or empty: define the states each iteration runs")
	}
	sub, err := parseStates(startAt, states, seen, fmt.Sprintf(" in the %s of state %q", field, st.name))
	if err != nil {
		return err
	}
	mc.processor = &Machine{startAt: startAt, states: sub}
	st.mapState = mc
	return nil
}

func checkProcessorConfig(v any) error {
	cfg, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object such as {\"Mode\": \"INLINE\"}")
	}
	// Mode first: DISTRIBUTED explains the rest.
	if x, ok := cfg["Mode"]; ok {
		switch x {
		case "INLINE":
		case "DISTRIBUTED":
			return fmt.Errorf("Mode DISTRIBUTED is not supported: the local engine runs Inline Map states only (a Distributed Map reads its items from S3 in child executions); use \"INLINE\"")
		default:
			return fmt.Errorf("Mode must be \"INLINE\", got %s", toJSONString(x))
		}
	}
	for k := range cfg {
		switch k {
		case "Mode":
		case "ExecutionType":
			return fmt.Errorf("ExecutionType belongs to Distributed Map states only; remove it (Mode INLINE)")
		default:
			return fmt.Errorf("unsupported field %q (allowed: Mode)", k)
		}
	}
	return nil
}

var errSiblingFailed = errors.New("another iteration of the Map state failed")

// runMap runs the iterations of a Map state on its effective input and
// returns their outputs in item order. The first iteration that fails fails
// the state with its error; the others are then cancelled, as AWS does.
func (r *runner) runMap(s *state, input any) (any, *stateError) {
	mc := s.mapState
	r.mapIterations = nil
	items := input
	if mc.itemsPath != nil {
		v, ok := mc.itemsPath.eval(input, r.ctxObj)
		if !ok {
			return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field ItemsPath: the path could not be found in the input '%s'",
				s.name, mc.itemsPath.raw, toJSONString(input))
		}
		items = v
	}
	list, ok := items.([]any)
	if !ok {
		where := "The input"
		if mc.itemsPath != nil {
			where = fmt.Sprintf("The ItemsPath '%s'", mc.itemsPath.raw)
		}
		return nil, runtimeErr("An error occurred while executing the state '%s'. %s must select a JSON array, got %s", s.name, where, toJSONString(items))
	}
	if total := r.mapItems.Add(int64(len(list))); total > MaxMapItems {
		return nil, runtimeErr("An error occurred while executing the state '%s'. The Map state got %d items, which makes %d in this execution; the local engine runs at most %d Map items per execution (split the input)",
			s.name, len(list), total, MaxMapItems)
	}
	limit := mc.maxConcurrency
	if mc.maxConcurrencyPath != nil {
		v, ok := mc.maxConcurrencyPath.eval(input, r.ctxObj)
		f, isNum := toFloat(v)
		if !ok || !isNum || f < 0 || !isInteger(f) {
			return nil, runtimeErr("An error occurred while executing the state '%s'. The MaxConcurrencyPath '%s' must point to a non-negative integer, got %s", s.name, mc.maxConcurrencyPath.raw, toJSONString(v))
		}
		limit = int64(math.Min(f, math.MaxInt32))
	}
	if limit == 0 || limit > MaxInlineConcurrency {
		limit = MaxInlineConcurrency
	}
	limit = min(limit, int64(len(list)))

	// The iteration inputs, all evaluated before the first iteration starts:
	// an ItemSelector that fails fails the state before anything runs.
	inputs := make([]any, len(list))
	for i, item := range list {
		inputs[i] = deepCopy(item)
		if mc.itemSelector == nil {
			continue
		}
		ctxObj := make(map[string]any, len(r.ctxObj)+1)
		for k, v := range r.ctxObj {
			ctxObj[k] = v
		}
		ctxObj["Map"] = map[string]any{"Item": map[string]any{"Index": jsonInt(int64(i)), "Value": item}}
		v, err := mc.itemSelector.eval(input, ctxObj, mc.selectorField)
		if err != nil {
			err.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, err.cause)
			return nil, err
		}
		inputs[i] = v
	}

	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failure  *stateError
		panicked any // the Observer (or Sleep, Now, Rand) panicked in an iteration
	)
	results := make([]any, len(list))
	paths := make([][]Step, len(list))
	sem := make(chan struct{}, limit) // at most limit iterations run at once
	for i := range inputs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break // a failed iteration (or the stopped execution) starts no more
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil { // re-raised below, for Execute to report
					mu.Lock()
					if panicked == nil {
						panicked = p
					}
					mu.Unlock()
					cancel(errSiblingFailed)
				}
			}()
			out, path, serr := r.runIteration(ctx, s, i, inputs[i])
			mu.Lock()
			paths[i] = path
			first := serr != nil && failure == nil
			if first {
				failure = serr
				cancel(errSiblingFailed)
			}
			mu.Unlock()
			scope := r.scope(s, i)
			switch {
			case serr == nil:
				results[i] = out
				r.emit(Event{Kind: EventMapIterationSucceeded, State: s.name, Type: s.typ, Iteration: scope, Index: i, Output: out})
			case first:
				r.emit(Event{Kind: EventMapIterationFailed, State: s.name, Type: s.typ, Iteration: scope, Index: i, Error: serr.name, Cause: limitCause(serr.cause)})
			default:
				r.emit(Event{Kind: EventMapIterationAborted, State: s.name, Type: s.typ, Iteration: scope, Index: i})
			}
		}()
	}
	wg.Wait()
	r.mapIterations = paths
	if panicked != nil {
		panic(panicked)
	}
	if failure != nil {
		// A Fail state or a task error inside the iteration becomes the Map
		// state's error (which its Retry/Catch may handle); States.Runtime
		// stays terminal.
		return nil, &stateError{name: failure.name, cause: failure.cause, terminal: failure.terminal}
	}
	return results, nil
}

func (r *runner) scope(s *state, i int) string {
	scope := fmt.Sprintf("%s[%d]", s.name, i)
	if r.iteration != "" {
		scope = r.iteration + "/" + scope
	}
	return scope
}

// runIteration runs the ItemProcessor of Map state s on one item, with its
// own context object (no $$.Map: AWS offers it to ItemSelector only) and
// path.
func (r *runner) runIteration(ctx context.Context, s *state, i int, input any) (any, []Step, *stateError) {
	child := &runner{m: s.mapState.processor, opts: r.opts, ctx: ctx, execCtx: r.execCtx, parent: r.parent, exec: r.exec, obs: r.obs, mapItems: r.mapItems,
		iteration: r.scope(s, i),
		ctxObj:    map[string]any{"Execution": r.ctxObj["Execution"], "StateMachine": r.ctxObj["StateMachine"], "State": map[string]any{}}}
	child.emit(Event{Kind: EventMapIterationStarted, State: s.name, Type: s.typ, Index: i, Input: input})
	out, serr := child.run(input)
	return out, child.path, serr
}
