package asl

import "time"

// waitState waits, then passes its input on: for Seconds, until
// Timestamp, or for or until what SecondsPath or TimestampPath select.
type waitState struct {
	stateMeta
	flow
	dataFlow
	seconds       *int64
	secondsPath   *path
	timestamp     *time.Time
	timestampPath *path
}

func parseWait(p *stateParser) state {
	s := &waitState{stateMeta: p.meta(), flow: p.flow(), dataFlow: p.dataFlow()}
	if n, ok := p.integer("Seconds", 0, maxSeconds); ok {
		s.seconds = &n
	}
	s.secondsPath = p.path("SecondsPath")
	s.timestampPath = p.path("TimestampPath")
	if ts, ok := p.str("Timestamp"); ok {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			p.fail("Timestamp", "not an RFC 3339 timestamp: %q", ts)
		}
		s.timestamp = &t
	}
	count := 0
	for _, set := range []bool{s.seconds != nil, s.secondsPath != nil, s.timestamp != nil, s.timestampPath != nil} {
		if set {
			count++
		}
	}
	if count != 1 {
		p.fail("Seconds", "exactly one of Seconds, SecondsPath, Timestamp, TimestampPath is required")
	}
	return s
}

func (s *waitState) attempt(r *runner, raw any) (attempted, *stateError) {
	effective, serr := s.input(r, s.name, raw)
	if serr != nil {
		return attempted{}, serr
	}
	d, serr := s.duration(r, effective)
	if serr != nil {
		return attempted{}, serr
	}
	if err := r.opts.Sleep(r.ctx, max(d, 0)); err != nil {
		return attempted{}, &stateError{name: ErrRuntime, cause: "wait interrupted: " + err.Error(), terminal: true}
	}
	out, serr := s.outputOf(r, s.name, effective)
	return attempted{out: out, next: s.then()}, serr
}

// duration is how long to wait from now (negative: the time is past).
func (s *waitState) duration(r *runner, in any) (time.Duration, *stateError) {
	switch {
	case s.seconds != nil:
		return seconds(float64(*s.seconds)), nil
	case s.timestamp != nil:
		return s.timestamp.Sub(r.opts.Now()), nil
	case s.secondsPath != nil:
		v, ok := s.secondsPath.eval(in, r.ctxObj)
		f, isNum := toFloat(v)
		if !ok || !isNum || f < 0 || !isInteger(f) {
			return 0, runtimeErr("An error occurred while executing the state '%s'. The SecondsPath '%s' must point to a non-negative integer, got %s", s.name, s.secondsPath.raw, toJSONString(v))
		}
		return seconds(f), nil
	default:
		v, ok := s.timestampPath.eval(in, r.ctxObj)
		t, isTS := parseTimestamp(v)
		if !ok || !isTS {
			return 0, runtimeErr("An error occurred while executing the state '%s'. The TimestampPath '%s' must point to an RFC 3339 timestamp, got %s", s.name, s.timestampPath.raw, toJSONString(v))
		}
		return t.Sub(r.opts.Now()), nil
	}
}
