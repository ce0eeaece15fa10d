package asl

import (
	"fmt"
	"math"
	"time"
)

// retry schedules the next attempt when the first retrier whose
// ErrorEquals matches has attempts left: retry true, after its delay.
// stop is the error to end with when the wait was interrupted.
func (r *runner) retry(s state, rc *recovery, counts []int, attempt int, serr *stateError) (retry bool, stop *stateError) {
	meta := s.meta()
	for i, rt := range rc.retry {
		if !matchesError(rt.errorEquals, serr.name, s) {
			continue
		}
		if counts[i] >= rt.maxAttempts {
			return false, nil
		}
		d := seconds(rt.delay(counts[i], r.opts.Rand))
		counts[i]++
		r.emit(Event{Kind: EventRetryScheduled, State: meta.name, Type: meta.typ, Attempt: attempt + 1, Duration: d, Error: serr.name, Cause: serr.cause})
		if err := r.opts.Sleep(r.ctx, d); err != nil || r.interrupted() != "" {
			return false, &stateError{name: serr.name, cause: serr.cause}
		}
		r.ctxObj["State"].(map[string]any)["RetryCount"] = jsonInt(int64(attempt))
		return true, nil
	}
	return false, nil
}

// delay is the wait before retry n+1 (from 0), in seconds: IntervalSeconds
// times BackoffRate^n, at most MaxDelaySeconds, then the jitter.
func (rt retrier) delay(n int, rand func() float64) float64 {
	delay := rt.interval * math.Pow(rt.backoffRate, float64(n))
	if rt.maxDelay > 0 && delay > rt.maxDelay {
		delay = rt.maxDelay
	}
	delay = math.Min(delay, maxDurationSeconds) // finite before the jitter
	if rt.jitterFull {
		delay *= rand()
	}
	return delay
}

// catch hands the error to the first catcher whose ErrorEquals matches:
// its ResultPath places {Error, Cause} into the state's input, and the
// execution goes on at its Next. Without one the error stands.
func (r *runner) catch(s state, rc *recovery, step *Step, attempt int, entered time.Time, input any, serr *stateError) (any, string, *stateError) {
	meta := s.meta()
	for _, c := range rc.catch {
		if !matchesError(c.errorEquals, serr.name, s) {
			continue
		}
		errOut := map[string]any{"Error": serr.name, "Cause": serr.cause}
		res, ok := applyResultPath(c.resultPath, input, errOut)
		if rc.jsonata {
			res, ok = errOut, true
			if c.output != nil {
				v, oerr := c.output.eval(map[string]any{"input": input, "context": r.ctxObj, "errorOutput": errOut}, "Catch.Output")
				if oerr != nil {
					return nil, "", oerr
				}
				res = v
			}
		}
		if !ok {
			return nil, "", &stateError{name: ErrResultPathMatchFailure,
				cause: fmt.Sprintf("Unable to apply Catch ResultPath '%s' of state '%s' to input %s", c.resultPath.p.raw, meta.name, toJSONString(input))}
		}
		step.Error, step.Cause = serr.name, serr.cause
		r.emit(Event{Kind: EventStateCaught, State: meta.name, Type: meta.typ, Attempt: attempt, Error: serr.name, Cause: serr.cause, Output: res})
		r.emit(Event{Kind: EventStateExited, State: meta.name, Type: meta.typ, Attempt: attempt,
			Duration: r.opts.Now().Sub(entered), Input: input, Output: res, Error: serr.name, Cause: serr.cause})
		return res, c.next, nil
	}
	return nil, "", serr
}

// matchesError reports whether an ErrorEquals list matches an error name.
// States.ALL matches everything catchable; on a Task state States.TaskFailed
// matches every error except States.Timeout (on a Map state, only itself).
func matchesError(list []string, name string, s state) bool {
	_, isTask := s.(*taskState)
	for _, e := range list {
		switch {
		case e == name, e == ErrAll:
			return true
		case e == ErrTaskFailed && isTask && name != ErrTimeout:
			return true
		}
	}
	return false
}

func parseErrorEquals(obj map[string]any, last bool) ([]string, error) {
	raw, ok := obj["ErrorEquals"].([]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("ErrorEquals must be a non-empty array of strings")
	}
	var out []string
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("ErrorEquals must be a non-empty array of strings")
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s == ErrAll && (len(out) != 1 || !last) {
			return nil, fmt.Errorf("States.ALL must appear alone in the last ErrorEquals")
		}
	}
	return out, nil
}

// parseRetry parses a Retry list; errors name the retrier ("[1].MaxAttempts: ...").
func parseRetry(v any) ([]retrier, error) { return parseHandlers(v, parseRetrier) }

// parseCatch parses a Catch list; errors name the catcher ("[0].Next: ...").
func parseCatch(v any) ([]catcher, error) { return parseHandlers(v, parseCatcher) }

// parseHandlers parses a Retry or Catch list of objects; last tells parse
// the object is the list's last (where States.ALL may stand).
func parseHandlers[T any](v any, parse func(obj map[string]any, last bool) (T, error)) ([]T, error) {
	raw, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []T
	for i, r := range raw {
		obj, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d]: must be an object", i)
		}
		h, err := parse(obj, i == len(raw)-1)
		if err != nil {
			return nil, fmt.Errorf("[%d].%v", i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func parseRetrier(obj map[string]any, last bool) (retrier, error) {
	rt := retrier{interval: 1, maxAttempts: 3, backoffRate: 2}
	var err error
	if rt.errorEquals, err = parseErrorEquals(obj, last); err != nil {
		return rt, err
	}
	for k, v := range obj {
		if err := rt.set(k, v); err != nil {
			return rt, err
		}
	}
	return rt, nil
}

// set reads one field of a retrier; errors start with the field's name.
func (rt *retrier) set(k string, v any) error {
	switch k {
	case "ErrorEquals", "Comment":
	case "IntervalSeconds":
		n, err := intField(v, 1, maxSeconds)
		if err != nil {
			return fmt.Errorf("IntervalSeconds: %v", err)
		}
		rt.interval = float64(n)
	case "MaxAttempts":
		n, err := intField(v, 0, maxSeconds)
		if err != nil {
			return fmt.Errorf("MaxAttempts: %v", err)
		}
		rt.maxAttempts = int(n)
	case "BackoffRate":
		f, err := numberField(v)
		if err != nil || f < 1 {
			return fmt.Errorf("BackoffRate: must be a number >= 1.0")
		}
		rt.backoffRate = f
	case "MaxDelaySeconds":
		n, err := intField(v, 1, maxDelaySeconds)
		if err != nil {
			return fmt.Errorf("MaxDelaySeconds: %v", err)
		}
		rt.maxDelay = float64(n)
	case "JitterStrategy":
		if v != "FULL" && v != "NONE" {
			return fmt.Errorf("JitterStrategy: must be FULL or NONE, got %s", toJSONString(v))
		}
		rt.jitterFull = v == "FULL"
	default:
		return fmt.Errorf("%s: unsupported field", k)
	}
	return nil
}

func parseCatcher(obj map[string]any, last bool) (catcher, error) {
	var c catcher
	var err error
	if c.errorEquals, err = parseErrorEquals(obj, last); err != nil {
		return c, err
	}
	for k, v := range obj {
		switch k {
		case "ErrorEquals", "Comment":
		case "Next":
			s, ok := v.(string)
			if !ok || s == "" {
				return c, fmt.Errorf("Next: must be a state name")
			}
			c.next = s
		case "ResultPath":
			if c.resultPath, err = parseResultPath(v); err != nil {
				return c, fmt.Errorf("ResultPath: %v", err)
			}
		case "Output":
			if c.output, err = compileJSONataTemplate(v); err != nil {
				return c, fmt.Errorf("Output: %v", err)
			}
		default:
			return c, fmt.Errorf("%s: unsupported field", k)
		}
	}
	if c.next == "" {
		return c, fmt.Errorf("Next: missing")
	}
	return c, nil
}
