package asl

import (
	"errors"
	"fmt"
	"math"
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

// mapState runs its ItemProcessor once per item of its input (inline),
// concurrently, and outputs their outputs in item order (map_run.go).
type mapState struct {
	stateMeta
	flow
	dataFlow // Parameters is ItemSelector's legacy name here: see itemSelector
	recovery
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

func parseMap(p *stateParser) state {
	s := &mapState{stateMeta: p.meta(), flow: p.flow(), dataFlow: p.dataFlow(), recovery: p.recovery()}
	s.itemsPath = p.mapPath("ItemsPath", "$.items")
	s.parseItemSelector(p)
	s.parseConcurrency(p)
	s.processor = p.itemProcessor()
	return s
}

func (s *mapState) transitions() []transition {
	return append(s.flow.transitions(), s.catchTransitions()...)
}

// mapPath reads ItemsPath or MaxConcurrencyPath.
func (p *stateParser) mapPath(field, example string) *path {
	v, ok := p.has(field)
	if !ok {
		return nil
	}
	str, isStr := v.(string)
	if !isStr {
		p.fail(field, "must be a path string such as %q", example)
		return nil
	}
	c, err := compilePath(str)
	if err != nil {
		p.fail(field, "%v", err)
	}
	return c
}

// parseItemSelector: Parameters (read by dataFlow) is, in a Map state, the
// legacy name of ItemSelector, applied to each item, not to the input.
func (s *mapState) parseItemSelector(p *stateParser) {
	s.itemSelector, s.selectorField, s.parameters = s.parameters, "Parameters", nil
	if _, ok := p.has("ItemSelector"); !ok {
		return
	}
	if s.itemSelector != nil {
		p.fail("ItemSelector", "cannot be used together with Parameters (its legacy name); keep ItemSelector")
		return
	}
	s.itemSelector, s.selectorField = p.template("ItemSelector"), "ItemSelector"
}

func (s *mapState) parseConcurrency(p *stateParser) {
	if v, ok := p.has("MaxConcurrency"); ok {
		n, err := intField(v, 0, math.MaxInt32)
		if err != nil {
			p.fail("MaxConcurrency", "%v (0 means no limit)", err)
		}
		s.maxConcurrency = n
	}
	if _, ok := p.has("MaxConcurrencyPath"); !ok {
		return
	}
	if _, both := p.obj["MaxConcurrency"]; both {
		p.fail("MaxConcurrencyPath", "cannot be used together with MaxConcurrency; keep one")
		return
	}
	s.maxConcurrencyPath = p.mapPath("MaxConcurrencyPath", "$.maxConcurrency")
}

// itemProcessor parses ItemProcessor, or its legacy name Iterator: a scope
// of its own (names unique in the whole machine, transitions inside).
func (p *stateParser) itemProcessor() *Machine {
	field := "ItemProcessor"
	raw, has := p.has("ItemProcessor")
	if legacy, ok := p.has("Iterator"); ok {
		if has {
			p.fail("Iterator", "cannot be used together with ItemProcessor (its successor); keep ItemProcessor")
		}
		field, raw, has = "Iterator", legacy, true
	}
	if p.err != nil {
		return nil
	}
	if !has {
		p.fail("ItemProcessor", "missing: a Map state needs ItemProcessor {\"StartAt\": ..., \"States\": {...}} to run for each item")
		return nil
	}
	proc, ok := raw.(map[string]any)
	if !ok {
		p.fail(field, "must be an object with StartAt and States")
		return nil
	}
	p.checkProcessorFields(field, proc)
	return p.processorScope(field, proc)
}

func (p *stateParser) checkProcessorFields(field string, proc map[string]any) {
	for k, v := range proc {
		switch k {
		case "StartAt", "States", "Comment":
		case "ProcessorConfig":
			if field == "Iterator" {
				p.fail("Iterator.ProcessorConfig", "not supported in the legacy Iterator; use ItemProcessor")
			} else if err := checkProcessorConfig(v); err != nil {
				p.fail("ItemProcessor.ProcessorConfig", "%v", err)
			}
		default:
			p.fail(field+"."+k, "unsupported field (allowed: StartAt, States, ProcessorConfig, Comment)")
		}
	}
}

// processorScope parses the states each iteration runs.
func (p *stateParser) processorScope(field string, proc map[string]any) *Machine {
	if p.err != nil {
		return nil
	}
	startAt, ok := proc["StartAt"].(string)
	if !ok || startAt == "" {
		p.fail(field+".StartAt", "missing or not a string: name the first state of the iteration")
		return nil
	}
	states, ok := proc["States"].(map[string]any)
	if !ok || len(states) == 0 {
		p.fail(field+".States", "missing or empty: define the states each iteration runs")
		return nil
	}
	sub, err := parseStates(startAt, states, p.seen, fmt.Sprintf(" in the %s of state %q", field, p.name))
	if err != nil {
		p.err = err
		return nil
	}
	return &Machine{startAt: startAt, states: sub}
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
