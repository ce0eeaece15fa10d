package asl

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/blues/jsonata-go"
)

// JSONata Pass states: "QueryLanguage": "JSONata" with an Output
// expression ({% ... %}) that sees $states.input and $states.context; the
// state's output is its value (the input when Output is absent). Step
// Functions' own JSONata function $parse (a JSON string to its value) is
// registered; Assign and the other JSONata fields are not supported.

// jsonataOutput is a JSONata Pass state's Output.
type jsonataOutput struct{ expr, state string }

func init() {
	// Step Functions' $parse: "Deserializes a JSON string" (JSONata
	// functions provided by Step Functions).
	if err := jsonata.RegisterExts(map[string]jsonata.Extension{"parse": {Func: func(s string) (any, error) {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("$parse: %v", err)
		}
		return v, nil
	}}}); err != nil {
		panic(err)
	}
}

func parseJSONataPass(p *stateParser) state {
	s := &passState{stateMeta: p.meta(), flow: p.flow()}
	for _, f := range []string{"InputPath", "OutputPath", "Parameters", "Result", "ResultPath"} {
		if _, ok := p.has(f); ok {
			p.fail(f, "is a JSONPath field, not allowed in a JSONata state (use Output)")
		}
	}
	expr := "$states.input"
	if v, ok := p.has("Output"); ok {
		str, isStr := v.(string)
		e, isExpr := strings.CutPrefix(strings.TrimSpace(str), "{%")
		e, closed := strings.CutSuffix(e, "%}")
		if !isStr || !isExpr || !closed || strings.TrimSpace(e) == "" {
			p.fail("Output", "must be a JSONata expression in {%% %%} (the local engine evaluates no JSON templates), got %s", toJSONString(v))
			return s
		}
		if _, err := jsonata.Compile(e); err != nil {
			p.fail("Output", "%v", err)
			return s
		}
		expr = e
	}
	s.jsonata = &jsonataOutput{expr: expr, state: p.name}
	return s
}

// eval evaluates Output on the state's input (compiled for each
// evaluation, as jsonataCondition is: $states differs per execution).
func (o *jsonataOutput) eval(input, ctxObj any) (any, *stateError) {
	jsonataMu.Lock() // jsonata.go: jsonata-go is not safe for concurrent evaluations
	defer jsonataMu.Unlock()
	fail := func(err error) (any, *stateError) {
		return nil, &stateError{name: ErrQueryEvaluation, cause: fmt.Sprintf("An error occurred while evaluating the Output of state '%s': %v", o.state, err)}
	}
	e, err := jsonata.Compile(o.expr)
	if err != nil {
		return fail(err)
	}
	in, ctx := plainJSON(input), plainJSON(ctxObj)
	if err := e.RegisterVars(map[string]any{"states": map[string]any{"input": in, "context": ctx}}); err != nil {
		return fail(err)
	}
	v, err := e.Eval(in)
	if err != nil {
		return fail(err) // undefined too: AWS has no output to give
	}
	// Through JSON: the engine's values as the other states hold them.
	out, err := normalize(v)
	if err != nil {
		return fail(err)
	}
	return out, nil
}
