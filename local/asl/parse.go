package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// Parse parses and validates an ASL definition. Structural problems and
// unsupported features produce an error naming the state and the field.
func Parse(definition []byte) (*Machine, error) {
	dec := json.NewDecoder(bytes.NewReader(definition))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("asl: definition is not a JSON object: %v", err)
	}
	timeout, err := parseTopFields(top)
	if err != nil {
		return nil, err
	}
	startAt, ok := top["StartAt"].(string)
	if !ok || startAt == "" {
		return nil, fmt.Errorf("asl: top-level field StartAt is missing or not a string")
	}
	rawStates, ok := top["States"].(map[string]any)
	if !ok || len(rawStates) == 0 {
		return nil, fmt.Errorf("asl: top-level field States is missing or empty")
	}
	states, err := parseStates(startAt, rawStates, map[string]bool{}, "")
	if err != nil {
		return nil, err
	}
	return &Machine{startAt: startAt, states: states, timeoutSeconds: timeout}, nil
}

// parseTopFields checks the top-level fields and returns TimeoutSeconds.
func parseTopFields(top map[string]any) (timeout int64, err error) {
	for k, v := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version":
		case "TimeoutSeconds":
			if timeout, err = intField(v, 1, maxSeconds); err != nil {
				return 0, fmt.Errorf("asl: top-level field TimeoutSeconds: %v", err)
			}
		case "QueryLanguage":
			if v != "JSONPath" {
				return 0, fmt.Errorf("asl: top-level field QueryLanguage: %v is not supported (only JSONPath)", toJSONString(v))
			}
		default:
			return 0, fmt.Errorf("asl: unsupported top-level field %q", k)
		}
	}
	return timeout, nil
}

// parseStates parses and validates one scope of states: the top level or
// the ItemProcessor of a Map state (where is then " in the ItemProcessor of
// state ..."). Transitions stay inside the scope; names (seen) are unique
// across the whole machine, as AWS requires.
func parseStates(startAt string, rawStates map[string]any, seen map[string]bool, where string) (map[string]state, error) {
	names := make([]string, 0, len(rawStates))
	for n := range rawStates {
		names = append(names, n)
	}
	sort.Strings(names)
	states := map[string]state{}
	for _, name := range names {
		if seen[name] {
			return nil, fmt.Errorf("asl: state %q%s: the name is already used by another state; state names must be unique in the whole state machine, rename one", name, where)
		}
		seen[name] = true
		obj, ok := rawStates[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("asl: state %q: definition is not an object", name)
		}
		st, err := parseState(name, obj, seen)
		if err != nil {
			return nil, err
		}
		states[name] = st
	}
	if _, ok := states[startAt]; !ok {
		return nil, fmt.Errorf("asl: StartAt %q does not name a state%s", startAt, where)
	}
	if err := checkTransitions(names, states, where); err != nil {
		return nil, err
	}
	return states, checkReachable(startAt, names, states, where)
}

// checkTransitions: every transition names a state of the scope.
func checkTransitions(names []string, states map[string]state, where string) error {
	for _, name := range names {
		for _, t := range states[name].transitions() {
			if _, ok := states[t.target]; !ok {
				return fmt.Errorf("asl: state %q: field %s: target state %q does not exist%s", name, t.field, t.target, where)
			}
		}
	}
	return nil
}

// checkReachable: every state is reachable from StartAt (AWS rejects the
// definition otherwise).
func checkReachable(startAt string, names []string, states map[string]state, where string) error {
	reached := map[string]bool{startAt: true}
	queue := []string{startAt}
	for len(queue) > 0 {
		st := states[queue[0]]
		queue = queue[1:]
		for _, t := range st.transitions() {
			if !reached[t.target] {
				reached[t.target] = true
				queue = append(queue, t.target)
			}
		}
	}
	for _, name := range names {
		if !reached[name] {
			return fmt.Errorf("asl: state %q is not reachable from StartAt %q%s", name, startAt, where)
		}
	}
	return nil
}

// The AWS limits of the integer fields: TimeoutSeconds, HeartbeatSeconds,
// Wait Seconds, Retry IntervalSeconds and MaxAttempts go up to 99999999 (a
// bit over three years); MaxDelaySeconds stays below 31622401 (a leap year).
// Within them no duration overflows time.Duration.
const (
	maxSeconds      = 99999999
	maxDelaySeconds = 31622400
)

func intField(v any, minimum, maximum int64) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("must be an integer, got %s", toJSONString(v))
	}
	i, err := n.Int64()
	if err != nil {
		// An integer beyond int64 is still only out of range.
		f, ferr := n.Float64()
		if ferr != nil || !isInteger(f) {
			return 0, fmt.Errorf("must be an integer, got %s", n)
		}
		i = math.MaxInt64
		if f < 0 {
			i = math.MinInt64
		}
	}
	switch {
	case i < minimum:
		return 0, fmt.Errorf("must be >= %d, got %s", minimum, n)
	case i > maximum:
		return 0, fmt.Errorf("must be <= %d, got %s", maximum, n)
	}
	return i, nil
}

func numberField(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("must be a number, got %s", toJSONString(v))
	}
	return n.Float64()
}
