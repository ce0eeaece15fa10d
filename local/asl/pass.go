package asl

// passState passes its input, or its Result, on to the next state.
type passState struct {
	stateMeta
	flow
	dataFlow
	result    any
	hasResult bool
	// output is a JSONata Pass state's Output expression (jsonata_pass.go).
	jsonata *jsonataOutput
}

func parsePass(p *stateParser) state {
	if p.obj["QueryLanguage"] == "JSONata" {
		return parseJSONataPass(p)
	}
	if _, ok := p.has("Output"); ok {
		p.fail("Output", `is a JSONata field: set "QueryLanguage": "JSONata" (or use Parameters and ResultPath)`)
	}
	s := &passState{stateMeta: p.meta(), flow: p.flow(), dataFlow: p.dataFlow()}
	s.result, s.hasResult = p.has("Result")
	return s
}

func (s *passState) attempt(r *runner, raw any) (attempted, *stateError) {
	if s.jsonata != nil {
		out, serr := s.jsonata.eval(raw, r.ctxObj)
		return attempted{out: out, next: s.then()}, serr
	}
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
