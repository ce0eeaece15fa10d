package asl

import (
	"fmt"
	"strings"

	"github.com/blues/jsonata-go"
)

// JSONata Task states ("QueryLanguage": "JSONata" on a Task): Arguments
// is the request, Output the state's output; both are JSON whose strings
// "{% expression %}" are JSONata (or one such string), seeing
// $states.input, $states.context and, in Output, $states.result. A Catch
// has Output too ($states.errorOutput is {Error, Cause}), and without it
// the state's output is the error output. Retry, Catch, TimeoutSeconds and
// the resource run as in a JSONPath Task. edge-drop's ledger writes are
// these states (the key decoded, expiresAt computed: no JSONPath for it).
type jsonataTaskState struct {
	taskState
	arguments, output *jsonataTemplate
}

func parseJSONataTask(p *stateParser) state {
	s := &jsonataTaskState{taskState: taskState{stateMeta: p.meta(), flow: p.flow(), recovery: p.recovery()}}
	s.recovery.jsonata = true
	s.resource, _ = p.str("Resource")
	if s.resource == "" {
		p.fail("Resource", "missing")
	}
	s.timeoutSeconds, _ = p.integer("TimeoutSeconds", 1, maxSeconds)
	s.arguments = p.jsonataTemplate("Arguments")
	s.output = p.jsonataTemplate("Output")
	return s
}

func (p *stateParser) jsonataTemplate(field string) *jsonataTemplate {
	v, ok := p.has(field)
	if !ok {
		return nil
	}
	t, err := compileJSONataTemplate(v)
	if err != nil {
		p.fail(field, "%v", err)
	}
	return t
}

func (s *jsonataTaskState) attempt(r *runner, raw any) (attempted, *stateError) {
	pending := r.opts.Tokens.issue()
	defer r.opts.Tokens.close(pending)
	r.ctxObj["Task"] = map[string]any{"Token": pending.token}
	defer delete(r.ctxObj, "Task")
	vars := map[string]any{"input": raw, "context": r.ctxObj}
	var params any = map[string]any{}
	if s.arguments != nil {
		v, serr := s.arguments.eval(vars, "Arguments")
		if serr != nil {
			return attempted{}, serr
		}
		params = v
	}
	result, serr := s.run(r, params, pending)
	if serr != nil {
		return attempted{}, serr
	}
	out := result
	if s.output != nil {
		vars["result"] = result
		if out, serr = s.output.eval(vars, "Output"); serr != nil {
			return attempted{}, serr
		}
	}
	return attempted{out: out, next: s.then()}, nil
}

// jsonataTemplate is a JSON value whose "{% %}" strings are JSONata.
type jsonataTemplate struct{ v any }

func compileJSONataTemplate(v any) (*jsonataTemplate, error) {
	var check func(v any) error
	check = func(v any) error {
		switch x := v.(type) {
		case string:
			if expr, ok := jsonataExpr(x); ok {
				if _, err := jsonata.Compile(expr); err != nil {
					return fmt.Errorf("%s: %v", x, err)
				}
			}
		case map[string]any:
			for _, e := range x {
				if err := check(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := check(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(v); err != nil {
		return nil, err
	}
	return &jsonataTemplate{v: v}, nil
}

// jsonataExpr is the expression of a "{% ... %}" string.
func jsonataExpr(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{%") || !strings.HasSuffix(t, "%}") || len(t) < 4 {
		return "", false
	}
	return strings.TrimSpace(t[2 : len(t)-2]), true
}

// eval evaluates every expression with $states bound to states; a field
// whose expression yields nothing (undefined) is left out, as AWS does.
func (t *jsonataTemplate) eval(states map[string]any, field string) (any, *stateError) {
	jsonataMu.Lock()
	defer jsonataMu.Unlock()
	bound := map[string]any{}
	for k, v := range states {
		bound[k] = plainJSON(v)
	}
	var walk func(v any) (any, bool, error)
	walk = func(v any) (any, bool, error) {
		switch x := v.(type) {
		case string:
			expr, ok := jsonataExpr(x)
			if !ok {
				return x, true, nil
			}
			e, err := jsonata.Compile(expr)
			if err != nil {
				return nil, false, err
			}
			if err := e.RegisterVars(map[string]any{"states": bound}); err != nil {
				return nil, false, err
			}
			out, err := e.Eval(bound["input"])
			if err == jsonata.ErrUndefined {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			return plainJSON(out), true, nil
		case map[string]any:
			m := map[string]any{}
			for k, e := range x {
				w, ok, err := walk(e)
				if err != nil {
					return nil, false, err
				}
				if ok {
					m[k] = w
				}
			}
			return m, true, nil
		case []any:
			var a []any
			for _, e := range x {
				w, ok, err := walk(e)
				if err != nil {
					return nil, false, err
				}
				if ok {
					a = append(a, w)
				}
			}
			return a, true, nil
		}
		return v, true, nil
	}
	out, _, err := walk(t.v)
	if err != nil {
		return nil, &stateError{name: ErrQueryEvaluation, cause: fmt.Sprintf("An error occurred while evaluating the field %s: %v", field, err)}
	}
	n, nerr := normalize(out)
	if nerr != nil {
		return nil, &stateError{name: ErrQueryEvaluation, cause: fmt.Sprintf("the field %s is not JSON: %v", field, nerr)}
	}
	return n, nil
}
