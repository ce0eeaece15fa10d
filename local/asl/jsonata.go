package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/blues/jsonata-go"
)

// JSONata, in Choice states only: a state with "QueryLanguage": "JSONata"
// has rules {"Condition": "{% <expression> %}", "Next": ...}; the
// expression sees $states.input (the state's input) and $states.context
// (the context object) and must yield a boolean. edge-drop needs it for
// what JSONPath cannot say (a string's length); JSONata is Step
// Functions' own second query language, and a JSONPath state machine may
// have JSONata states. Evaluated with github.com/blues/jsonata-go (JSONata
// 1.5).

// ErrQueryEvaluation is the error of a JSONata expression that fails.
const ErrQueryEvaluation = "States.QueryEvaluationError"

// jsonataCondition is a JSONata rule's Condition: its expression, without
// the {% %} around it.
type jsonataCondition struct{ expr, field string }

func parseJSONataRule(v any, field string) (*choiceRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("field %s: must be an object", field)
	}
	r := &choiceRule{}
	cond := &jsonataCondition{field: field}
	for k, x := range obj {
		switch k {
		case "Next":
			n, ok := x.(string)
			if !ok || n == "" {
				return nil, fmt.Errorf("field %s.Next: missing or not a string", field)
			}
			r.next = n
		case "Condition":
			c, ok := x.(string)
			expr, isExpr := strings.CutPrefix(strings.TrimSpace(c), "{%")
			expr, closed := strings.CutSuffix(expr, "%}")
			if !ok || !isExpr || !closed || strings.TrimSpace(expr) == "" {
				return nil, fmt.Errorf("field %s.Condition: must be a JSONata expression in {%% %%}, got %s", field, toJSONString(x))
			}
			if _, err := jsonata.Compile(expr); err != nil {
				return nil, fmt.Errorf("field %s.Condition: %v", field, err)
			}
			cond.expr = expr
		case "Comment":
		default:
			return nil, fmt.Errorf("field %s.%s: not supported in a JSONata choice rule (Condition and Next)", field, k)
		}
	}
	if r.next == "" || cond.expr == "" {
		return nil, fmt.Errorf("field %s: a JSONata choice rule needs Condition and Next", field)
	}
	r.cond = cond
	return r, nil
}

// jsonataMu serializes every JSONata evaluation: jsonata-go names its
// built-in functions (shared, package-level values) as it calls them, a
// data race when Map iterations or executions evaluate at once.
var jsonataMu sync.Mutex

// eval evaluates the Condition. The expression is compiled for each
// evaluation: binding $states changes the compiled expression, and
// executions evaluate it concurrently.
func (r *jsonataCondition) eval(input, ctxObj any) (bool, *stateError) {
	jsonataMu.Lock()
	defer jsonataMu.Unlock()
	fail := func(format string, a ...any) (bool, *stateError) {
		return false, &stateError{name: ErrQueryEvaluation, cause: fmt.Sprintf("An error occurred while evaluating %s.Condition: ", r.field) + fmt.Sprintf(format, a...)}
	}
	e, err := jsonata.Compile(r.expr)
	if err != nil {
		return fail("%v", err)
	}
	in, ctx := plainJSON(input), plainJSON(ctxObj)
	if err := e.RegisterVars(map[string]any{"states": map[string]any{"input": in, "context": ctx}}); err != nil {
		return fail("%v", err)
	}
	v, err := e.Eval(in)
	if err != nil {
		return fail("%v", err)
	}
	b, ok := v.(bool)
	if !ok {
		return fail("the expression must yield a boolean, got %s", toJSONString(v))
	}
	return b, nil
}

// plainJSON is v with numbers as float64, as JSONata takes them.
func plainJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
