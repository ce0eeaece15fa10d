package asl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// choiceState goes to the Next of the first rule its effective input
// matches, else to Default; with neither, it fails with
// States.NoChoiceMatched.
type choiceState struct {
	stateMeta
	dataFlow
	choices []*choiceRule
	deflt   string
}

// choiceRule is a top-level rule of a Choice state.
type choiceRule struct {
	next string
	cond condition
}

// condition is what a rule tests: a comparison, And, Or, Not, or a
// JSONata Condition (jsonata.go).
type condition interface {
	eval(input, ctxObj any) (bool, *stateError)
}

func parseChoice(p *stateParser) state {
	s := &choiceState{stateMeta: p.meta(), dataFlow: p.dataFlow()}
	raw, ok := p.obj["Choices"].([]any)
	if !ok || len(raw) == 0 {
		p.fail("Choices", "must be a non-empty array")
		return s
	}
	parse := parseChoiceRule
	if p.obj["QueryLanguage"] == "JSONata" {
		parse = parseJSONataRule
		for _, f := range []string{"InputPath", "OutputPath"} {
			if _, ok := p.obj[f]; ok {
				p.fail(f, "is not allowed in a JSONata state")
			}
		}
	}
	for i, r := range raw {
		if p.err != nil {
			return s
		}
		rule, err := parse(r, fmt.Sprintf("Choices[%d]", i))
		if err != nil {
			p.err = fmt.Errorf("asl: state %q: %v", p.name, err)
			return s
		}
		s.choices = append(s.choices, rule)
	}
	s.deflt, _ = p.str("Default")
	return s
}

func (s *choiceState) transitions() []transition {
	var ts []transition
	if s.deflt != "" {
		ts = append(ts, transition{"Default", s.deflt})
	}
	for i, c := range s.choices {
		ts = append(ts, transition{fmt.Sprintf("Choices[%d].Next", i), c.next})
	}
	return ts
}

func (s *choiceState) attempt(r *runner, raw any) (attempted, *stateError) {
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	next, serr := s.choose(r, effective)
	if serr != nil {
		return attempted{}, serr
	}
	out, serr := s.outputOf(r, s.name, effective)
	return attempted{out: out, next: next}, serr
}

// choose is the Next of the first matching rule, else Default.
func (s *choiceState) choose(r *runner, in any) (string, *stateError) {
	for _, c := range s.choices {
		ok, serr := c.cond.eval(in, r.ctxObj)
		if serr != nil {
			serr.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", s.name, serr.cause)
			return "", serr
		}
		if ok {
			return c.next, nil
		}
	}
	if s.deflt == "" {
		return "", &stateError{name: ErrNoChoiceMatched, cause: fmt.Sprintf("No Matches! (state '%s')", s.name)}
	}
	return s.deflt, nil
}

// parseChoiceRule parses a top-level JSONPath rule: a condition and Next.
func parseChoiceRule(v any, field string) (*choiceRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("field %s: must be an object", field)
	}
	next, ok := obj["Next"].(string)
	if !ok || next == "" {
		return nil, fmt.Errorf("field %s.Next: missing or not a string", field)
	}
	cond, err := parseCondition(obj, field)
	if err != nil {
		return nil, err
	}
	return &choiceRule{next: next, cond: cond}, nil
}

// parseNestedRule parses a rule inside And, Or or Not (no Next).
func parseNestedRule(v any, field string) (condition, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("field %s: must be an object", field)
	}
	if _, ok := obj["Next"]; ok {
		return nil, fmt.Errorf("field %s.Next: only allowed in top-level choice rules", field)
	}
	return parseCondition(obj, field)
}

// parseCondition parses the one operator of a rule object.
func parseCondition(obj map[string]any, field string) (condition, error) {
	var ops []string
	for k := range obj {
		switch k {
		case "Next", "Comment", "Variable":
		default:
			ops = append(ops, k)
		}
	}
	sort.Strings(ops)
	switch {
	case len(ops) == 0:
		return nil, fmt.Errorf("field %s: no comparison operator", field)
	case len(ops) > 1:
		return nil, fmt.Errorf("field %s: exactly one comparison operator is allowed, got %s", field, strings.Join(ops, ", "))
	}
	switch op := ops[0]; op {
	case "And", "Or", "Not":
		return parseBoolean(obj, op, field)
	default:
		return parseComparison(obj, op, field)
	}
}

// allOf is And, anyOf is Or, not is Not.
type (
	allOf []condition
	anyOf []condition
	not   struct{ c condition }
)

func parseBoolean(obj map[string]any, op, field string) (condition, error) {
	opField := field + "." + op
	var c condition
	if op == "Not" {
		sub, err := parseNestedRule(obj[op], opField)
		if err != nil {
			return nil, err
		}
		c = not{sub}
	} else {
		list, ok := obj[op].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("field %s: must be a non-empty array of rules", opField)
		}
		subs := make([]condition, len(list))
		for i, x := range list {
			sub, err := parseNestedRule(x, fmt.Sprintf("%s[%d]", opField, i))
			if err != nil {
				return nil, err
			}
			subs[i] = sub
		}
		c = anyOf(subs)
		if op == "And" {
			c = allOf(subs)
		}
	}
	if _, ok := obj["Variable"]; ok {
		return nil, fmt.Errorf("field %s.Variable: not allowed with %s", field, op)
	}
	return c, nil
}

func (a allOf) eval(input, ctxObj any) (bool, *stateError) {
	for _, c := range a {
		ok, err := c.eval(input, ctxObj)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (a anyOf) eval(input, ctxObj any) (bool, *stateError) {
	for _, c := range a {
		ok, err := c.eval(input, ctxObj)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (n not) eval(input, ctxObj any) (bool, *stateError) {
	ok, err := n.c.eval(input, ctxObj)
	return !ok && err == nil, err
}

func parseTimestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// operandOK checks a literal operand of the given kind (comparisonOps).
func operandOK(kind string, val any) (ok bool, want string) {
	switch kind {
	case "path":
		_, ok = val.(string)
		return ok, "a path string"
	case "String":
		_, ok = val.(string)
		return ok, "a string"
	case "Numeric":
		_, ok = val.(json.Number)
		return ok, "a number"
	case "Boolean":
		_, ok = val.(bool)
		return ok, "a boolean"
	}
	_, ok = val.(string)
	return ok, "a timestamp string"
}
