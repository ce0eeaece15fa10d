package asl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

type choiceRule struct {
	next string // top-level rules only

	// condition is a JSONata Choice state's rule: its expression, without
	// the {% %} around it.
	condition string

	and, or []*choiceRule
	not     *choiceRule

	variable *path
	op       string           // e.g. "StringEquals"
	base     string           // op without the "Path" suffix
	operand  any              // literal operand
	opPath   *path            // operand for ...Path operators
	pattern  contract.Pattern // StringMatches' operand, compiled
	field    string           // e.g. "Choices[0].And[1]" for messages
}

var comparisonOps = map[string]string{} // op -> operand kind

func init() {
	for _, p := range []string{"String", "Numeric", "Timestamp"} {
		for _, s := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
			comparisonOps[p+s] = p
			comparisonOps[p+s+"Path"] = "path"
		}
	}
	comparisonOps["StringMatches"] = "String"
	comparisonOps["BooleanEquals"] = "Boolean"
	comparisonOps["BooleanEqualsPath"] = "path"
	for _, op := range []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} {
		comparisonOps[op] = "Boolean"
	}
}

func parseChoiceRule(v any, top bool, field string) (*choiceRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("field %s: must be an object", field)
	}
	r := &choiceRule{field: field}
	if top {
		n, ok := obj["Next"].(string)
		if !ok || n == "" {
			return nil, fmt.Errorf("field %s.Next: missing or not a string", field)
		}
		r.next = n
	} else if _, ok := obj["Next"]; ok {
		return nil, fmt.Errorf("field %s.Next: only allowed in top-level choice rules", field)
	}
	var ops []string
	for k := range obj {
		switch k {
		case "Next", "Comment", "Variable":
		default:
			ops = append(ops, k)
		}
	}
	sort.Strings(ops)
	if len(ops) != 1 {
		if len(ops) == 0 {
			return nil, fmt.Errorf("field %s: no comparison operator", field)
		}
		return nil, fmt.Errorf("field %s: exactly one comparison operator is allowed, got %s", field, strings.Join(ops, ", "))
	}
	op := ops[0]
	opField := field + "." + op
	switch op {
	case "And", "Or":
		list, ok := obj[op].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("field %s: must be a non-empty array of rules", opField)
		}
		for i, x := range list {
			sub, err := parseChoiceRule(x, false, fmt.Sprintf("%s[%d]", opField, i))
			if err != nil {
				return nil, err
			}
			if op == "And" {
				r.and = append(r.and, sub)
			} else {
				r.or = append(r.or, sub)
			}
		}
		if _, ok := obj["Variable"]; ok {
			return nil, fmt.Errorf("field %s.Variable: not allowed with %s", field, op)
		}
		return r, nil
	case "Not":
		sub, err := parseChoiceRule(obj[op], false, opField)
		if err != nil {
			return nil, err
		}
		r.not = sub
		if _, ok := obj["Variable"]; ok {
			return nil, fmt.Errorf("field %s.Variable: not allowed with Not", field)
		}
		return r, nil
	}
	kind, ok := comparisonOps[op]
	if !ok {
		return nil, fmt.Errorf("field %s: unsupported comparison operator %q", opField, op)
	}
	vs, ok := obj["Variable"].(string)
	if !ok {
		return nil, fmt.Errorf("field %s.Variable: missing or not a string", field)
	}
	var err error
	if r.variable, err = compilePath(vs); err != nil {
		return nil, fmt.Errorf("field %s.Variable: %v", field, err)
	}
	r.op, r.base = op, strings.TrimSuffix(op, "Path")
	val := obj[op]
	switch kind {
	case "path":
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("field %s: must be a path string", opField)
		}
		if r.opPath, err = compilePath(s); err != nil {
			return nil, fmt.Errorf("field %s: %v", opField, err)
		}
	case "String":
		if _, ok := val.(string); !ok {
			return nil, fmt.Errorf("field %s: must be a string", opField)
		}
		r.operand = val
		if op == "StringMatches" {
			r.pattern = contract.CompilePattern(val.(string))
		}
	case "Numeric":
		if _, ok := val.(json.Number); !ok {
			return nil, fmt.Errorf("field %s: must be a number", opField)
		}
		r.operand = val
	case "Boolean":
		if _, ok := val.(bool); !ok {
			return nil, fmt.Errorf("field %s: must be a boolean", opField)
		}
		r.operand = val
	case "Timestamp":
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("field %s: must be a timestamp string", opField)
		}
		if _, ok := parseTimestamp(s); !ok {
			return nil, fmt.Errorf("field %s: %q is not an RFC 3339 timestamp", opField, s)
		}
		r.operand = val
	}
	return r, nil
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

// eval evaluates a rule against the state's effective input.
func (r *choiceRule) eval(input, ctxObj any) (bool, *stateError) {
	switch {
	case r.condition != "":
		return r.evalJSONata(input, ctxObj)
	case r.and != nil:
		for _, s := range r.and {
			ok, err := s.eval(input, ctxObj)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, s := range r.or {
			ok, err := s.eval(input, ctxObj)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.eval(input, ctxObj)
		return !ok && err == nil, err
	}
	val, found := r.variable.eval(input, ctxObj)
	if r.op == "IsPresent" {
		return found == r.operand.(bool), nil
	}
	if !found {
		return false, runtimeErr("Invalid path '%s': The choice state's condition path references an invalid value (field %s.%s)", r.variable.raw, r.field, r.op)
	}
	operand := r.operand
	if r.opPath != nil {
		v, ok := r.opPath.eval(input, ctxObj)
		if !ok {
			return false, runtimeErr("Invalid path '%s': The choice state's condition path references an invalid value (field %s.%s)", r.opPath.raw, r.field, r.op)
		}
		operand = v
	}
	switch r.base {
	case "IsNull":
		return (val == nil) == operand.(bool), nil
	case "IsString":
		_, ok := val.(string)
		return ok == operand.(bool), nil
	case "IsNumeric":
		_, ok := toFloat(val)
		return ok == operand.(bool), nil
	case "IsBoolean":
		_, ok := val.(bool)
		return ok == operand.(bool), nil
	case "IsTimestamp":
		_, ok := parseTimestamp(val)
		return ok == operand.(bool), nil
	case "StringMatches":
		s, ok := val.(string)
		if !ok {
			return false, nil
		}
		return r.pattern.Match(s), nil
	case "BooleanEquals":
		a, ok1 := val.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	}
	switch {
	case strings.HasPrefix(r.base, "String"):
		a, ok1 := val.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compare(strings.Compare(a, b), strings.TrimPrefix(r.base, "String")), nil
	case strings.HasPrefix(r.base, "Numeric"):
		a, ok1 := toFloat(val)
		b, ok2 := toFloat(operand)
		if !ok1 || !ok2 {
			return false, nil
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return compare(c, strings.TrimPrefix(r.base, "Numeric")), nil
	case strings.HasPrefix(r.base, "Timestamp"):
		a, ok1 := parseTimestamp(val)
		b, ok2 := parseTimestamp(operand)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compare(a.Compare(b), strings.TrimPrefix(r.base, "Timestamp")), nil
	}
	return false, runtimeErr("unsupported comparison operator %s", r.op)
}

func compare(c int, rel string) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}
