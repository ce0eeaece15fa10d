package asl

import (
	"fmt"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
)

// comparison is a Choice rule that compares the value at Variable with a
// literal operand or, for the ...Path operators, the value at a path.
type comparison struct {
	field    string // "Choices[0].And[1]", for messages
	op       string // "NumericLessThanPath", ...
	variable *path
	operand  any   // the literal operand
	opPath   *path // the operand of a ...Path operator
	test     func(val, operand any) bool
}

// comparisonOps maps each operator to the kind of its operand.
var comparisonOps = map[string]string{}

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
	for op := range typeTests {
		comparisonOps[op] = "Boolean"
	}
	comparisonOps["IsPresent"] = "Boolean"
}

func parseComparison(obj map[string]any, op, field string) (condition, error) {
	opField := field + "." + op
	kind, ok := comparisonOps[op]
	if !ok {
		return nil, fmt.Errorf("field %s: unsupported comparison operator %q", opField, op)
	}
	vs, ok := obj["Variable"].(string)
	if !ok {
		return nil, fmt.Errorf("field %s.Variable: missing or not a string", field)
	}
	c := &comparison{field: field, op: op}
	var err error
	if c.variable, err = compilePath(vs); err != nil {
		return nil, fmt.Errorf("field %s.Variable: %v", field, err)
	}
	val := obj[op]
	if ok, want := operandOK(kind, val); !ok {
		return nil, fmt.Errorf("field %s: must be %s", opField, want)
	}
	switch kind {
	case "path":
		if c.opPath, err = compilePath(val.(string)); err != nil {
			return nil, fmt.Errorf("field %s: %v", opField, err)
		}
	case "Timestamp":
		if _, ok := parseTimestamp(val); !ok {
			return nil, fmt.Errorf("field %s: %q is not an RFC 3339 timestamp", opField, val)
		}
	}
	if kind != "path" {
		c.operand = val
	}
	if c.test = comparisonTest(strings.TrimSuffix(op, "Path"), val); c.test == nil && op != "IsPresent" {
		return nil, fmt.Errorf("field %s: unsupported comparison operator %q", opField, op)
	}
	return c, nil
}

func (c *comparison) eval(input, ctxObj any) (bool, *stateError) {
	val, found := c.variable.eval(input, ctxObj)
	if c.op == "IsPresent" {
		return found == c.operand.(bool), nil
	}
	if !found {
		return false, c.invalidPath(c.variable)
	}
	operand := c.operand
	if c.opPath != nil {
		v, ok := c.opPath.eval(input, ctxObj)
		if !ok {
			return false, c.invalidPath(c.opPath)
		}
		operand = v
	}
	return c.test(val, operand), nil
}

func (c *comparison) invalidPath(p *path) *stateError {
	return runtimeErr("Invalid path '%s': The choice state's condition path references an invalid value (field %s.%s)", p.raw, c.field, c.op)
}

// typeTests are the Is* operators but IsPresent (which needs no value).
var typeTests = map[string]func(v any) bool{
	"IsNull":      func(v any) bool { return v == nil },
	"IsString":    func(v any) bool { _, ok := v.(string); return ok },
	"IsNumeric":   func(v any) bool { _, ok := toFloat(v); return ok },
	"IsBoolean":   func(v any) bool { _, ok := v.(bool); return ok },
	"IsTimestamp": func(v any) bool { _, ok := parseTimestamp(v); return ok },
}

// orders compare two values of a family (String, Numeric, Timestamp): -1,
// 0 or 1, and false when either is not of the family (the rule is then
// false, not an error).
var orders = map[string]func(a, b any) (int, bool){
	"String": func(a, b any) (int, bool) {
		x, ok1 := a.(string)
		y, ok2 := b.(string)
		return strings.Compare(x, y), ok1 && ok2
	},
	"Numeric": func(a, b any) (int, bool) {
		x, ok1 := toFloat(a)
		y, ok2 := toFloat(b)
		switch {
		case x < y:
			return -1, ok1 && ok2
		case x > y:
			return 1, ok1 && ok2
		}
		return 0, ok1 && ok2
	},
	"Timestamp": func(a, b any) (int, bool) {
		x, ok1 := parseTimestamp(a)
		y, ok2 := parseTimestamp(b)
		return x.Compare(y), ok1 && ok2
	},
}

// comparisonTest is the test of an operator (without its Path suffix),
// nil for IsPresent (eval decides it before any value is needed); literal
// is its operand as written (StringMatches compiles it once).
func comparisonTest(base string, literal any) func(val, operand any) bool {
	if is, ok := typeTests[base]; ok {
		return func(v, o any) bool { return is(v) == o.(bool) }
	}
	switch base {
	case "StringMatches":
		pattern := contract.CompilePattern(literal.(string))
		return func(v, _ any) bool { s, ok := v.(string); return ok && pattern.Match(s) }
	case "BooleanEquals":
		return func(v, o any) bool { a, ok1 := v.(bool); b, ok2 := o.(bool); return ok1 && ok2 && a == b }
	}
	for family, order := range orders {
		if rel, ok := strings.CutPrefix(base, family); ok {
			return func(v, o any) bool { c, ok := order(v, o); return ok && compare(c, rel) }
		}
	}
	return nil
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
