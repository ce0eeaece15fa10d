package asl

// succeedState ends its scope successfully: the execution, or the Map
// iteration.
type succeedState struct {
	stateMeta
	dataFlow
}

func parseSucceed(p *stateParser) state {
	return &succeedState{stateMeta: p.meta(), dataFlow: p.dataFlow()}
}

func (s *succeedState) transitions() []transition { return nil }

func (s *succeedState) attempt(r *runner, raw any) (attempted, *stateError) {
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	out, serr := s.outputOf(r, s.name, effective)
	return attempted{out: out}, serr
}

// failState ends its scope with an error: it fails the execution, or the
// Map iteration (the Map state may catch that). It has no Retry or Catch.
type failState struct {
	stateMeta
	errorName, cause failField
}

// failField is Error or Cause: a literal, or ErrorPath or CausePath (a path
// or an intrinsic function); neither is "".
type failField struct {
	lit  *string
	expr *valueExpr
	name string // ErrorPath or CausePath, for messages
}

func parseFail(p *stateParser) state {
	return &failState{stateMeta: p.meta(),
		errorName: p.failField("Error", "ErrorPath"),
		cause:     p.failField("Cause", "CausePath")}
}

func (p *stateParser) failField(litField, pathField string) failField {
	f := failField{name: pathField}
	if s, ok := p.str(litField); ok {
		f.lit = &s
	}
	expr, hasPath := p.str(pathField)
	switch {
	case !hasPath:
	case f.lit != nil:
		p.fail(pathField, "cannot be used together with %s", litField)
	default:
		ve, err := compileValueExpr(expr)
		if err != nil {
			p.fail(pathField, "%v", err)
		}
		f.expr = ve
	}
	return f
}

func (s *failState) transitions() []transition { return nil }

func (s *failState) attempt(r *runner, raw any) (attempted, *stateError) {
	name, serr := s.errorName.resolve(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	cause, serr := s.cause.resolve(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	return attempted{}, &stateError{name: name, cause: cause}
}

func (f failField) resolve(r *runner, state string, raw any) (string, *stateError) {
	switch {
	case f.lit != nil:
		return *f.lit, nil
	case f.expr == nil:
		return "", nil
	}
	var v any
	if f.expr.call != nil {
		x, err := f.expr.call.eval(raw, r.ctxObj)
		if err != nil {
			return "", runtimeErr("An error occurred while executing the state '%s'. The intrinsic function in field %s failed: %v", state, f.name, err)
		}
		v = x
	} else {
		x, ok := f.expr.path.eval(raw, r.ctxObj)
		if !ok {
			return "", runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field %s: the path could not be found in the input '%s'", state, f.expr.raw, f.name, toJSONString(raw))
		}
		v = x
	}
	str, ok := v.(string)
	if !ok {
		return "", runtimeErr("An error occurred while executing the state '%s'. The value of field %s ('%s') must be a string, got %s", state, f.name, f.expr.raw, toJSONString(v))
	}
	return str, nil
}
