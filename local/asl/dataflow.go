package asl

import "fmt"

// dataFlow is a state's input and output processing, applied in this
// order: InputPath, Parameters, (the state's work), ResultSelector,
// ResultPath, OutputPath. Each kind has the fields the ASL allows it; Parse
// rejects the others, which stay nil.
type dataFlow struct {
	inputPath, outputPath *optPath
	parameters            *template
	resultSelector        *template
	resultPath            *optRefPath
}

// input is the state's effective input: raw through InputPath, then
// Parameters.
func (d *dataFlow) input(r *runner, state string, raw any) (any, *stateError) {
	effective := raw
	if d.inputPath != nil {
		v, serr := r.selectPath(state, "InputPath", d.inputPath, raw)
		if serr != nil {
			return nil, serr
		}
		effective = v
	}
	if d.parameters == nil {
		return effective, nil
	}
	return r.applyTemplate(state, d.parameters, effective, "Parameters")
}

// output places the state's result into its raw input (ResultSelector,
// then ResultPath) and applies OutputPath.
func (d *dataFlow) output(r *runner, state string, raw, result any) (any, *stateError) {
	if d.resultSelector != nil {
		v, serr := r.applyTemplate(state, d.resultSelector, result, "ResultSelector")
		if serr != nil {
			return nil, serr
		}
		result = v
	}
	out, ok := applyResultPath(d.resultPath, raw, result)
	if !ok {
		return nil, &stateError{name: ErrResultPathMatchFailure,
			cause: fmt.Sprintf("Unable to apply ResultPath '%s' of state '%s' to input %s", d.resultPath.p.raw, state, toJSONString(raw))}
	}
	return d.outputOf(r, state, out)
}

// outputOf applies OutputPath: to the state's output, or to its effective
// input for the kinds without a result (Choice, Wait, Succeed).
func (d *dataFlow) outputOf(r *runner, state string, out any) (any, *stateError) {
	if d.outputPath == nil {
		return out, nil
	}
	v, serr := r.selectPath(state, "OutputPath", d.outputPath, out)
	if serr != nil {
		return nil, serr
	}
	return deepCopy(v), nil
}

// selectPath applies InputPath or OutputPath (null: an empty object).
func (r *runner) selectPath(state, field string, p *optPath, in any) (any, *stateError) {
	if p.null {
		return map[string]any{}, nil
	}
	v, ok := p.p.eval(in, r.ctxObj)
	if !ok {
		return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' in field %s: the path could not be found in the input '%s'",
			state, p.p.raw, field, toJSONString(in))
	}
	return v, nil
}

// applyTemplate evaluates Parameters, ResultSelector or ItemSelector.
func (r *runner) applyTemplate(state string, t *template, in any, field string) (any, *stateError) {
	v, serr := t.eval(in, r.ctxObj, field)
	if serr != nil {
		serr.cause = fmt.Sprintf("An error occurred while executing the state '%s'. %s", state, serr.cause)
		return nil, serr
	}
	return v, nil
}

func applyResultPath(rp *optRefPath, raw, result any) (any, bool) {
	switch {
	case rp == nil:
		return result, true
	case rp.null:
		return deepCopy(raw), true
	default:
		return rp.p.set(raw, result)
	}
}
