package asl

// passState passes its input, or its Result, on to the next state.
type passState struct {
	stateMeta
	flow
	dataFlow
	result    any
	hasResult bool
}

func parsePass(p *stateParser) state {
	s := &passState{stateMeta: p.meta(), flow: p.flow(), dataFlow: p.dataFlow()}
	s.result, s.hasResult = p.has("Result")
	return s
}

func (s *passState) attempt(r *runner, raw any) (attempted, *stateError) {
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	result := effective
	if s.hasResult {
		result = deepCopy(s.result)
	}
	out, serr := s.output(r, s.name, raw, result)
	return attempted{out: out, next: s.then()}, serr
}
