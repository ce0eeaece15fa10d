package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

type optPath struct {
	null bool
	p    *path
}

type optRefPath struct {
	null bool
	p    *refPath // nil with null=false means "$"
}

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int
	backoffRate float64
	maxDelay    float64 // 0 = none
	jitterFull  bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  *optRefPath
}

// valueExpr is a path or an intrinsic function (ErrorPath, CausePath).
type valueExpr struct {
	raw  string
	path *path
	call *intrinsicCall
}

type state struct {
	name, typ string
	next      string
	end       bool

	inputPath, outputPath *optPath
	parameters            *template
	resultSelector        *template
	resultPath            *optRefPath
	result                any
	hasResult             bool

	// Task
	resource       string
	timeoutSeconds int64
	timeoutPath    *path
	retry          []retrier
	catch          []catcher

	// Choice
	choices []*choiceRule
	deflt   string
	// jsonata: a Choice state with QueryLanguage JSONata (its rules are
	// Conditions).
	jsonata bool

	// Wait
	waitSeconds   *int64
	secondsPath   *path
	timestamp     *time.Time
	timestampPath *path

	// Fail
	errorStr, causeStr   *string
	errorPath, causePath *valueExpr

	// Map
	mapState *mapConfig
}

var allowedFields = map[string][]string{
	"Task": {"Resource", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
		"Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
	"Pass":    {"Next", "End", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath"},
	"Choice":  {"Choices", "Default", "InputPath", "OutputPath"},
	"Wait":    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed": {"InputPath", "OutputPath"},
	"Fail":    {"Error", "Cause", "ErrorPath", "CausePath"},
	"Map": {"Next", "End", "InputPath", "OutputPath", "ItemsPath", "ItemSelector", "Parameters", "ItemProcessor", "Iterator",
		"MaxConcurrency", "MaxConcurrencyPath", "ResultSelector", "ResultPath", "Retry", "Catch"},
}

// Parse parses and validates an ASL definition. Structural problems and
// unsupported features produce an error naming the state and the field.
func Parse(definition []byte) (*Machine, error) {
	dec := json.NewDecoder(bytes.NewReader(definition))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("asl: definition is not a JSON object: %v", err)
	}
	m := &Machine{}
	var err error
	for k, v := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version":
		case "TimeoutSeconds":
			n, err := intField(v, 1, maxSeconds)
			if err != nil {
				return nil, fmt.Errorf("asl: top-level field TimeoutSeconds: %v", err)
			}
			m.timeoutSeconds = n
		case "QueryLanguage":
			if v != "JSONPath" {
				return nil, fmt.Errorf("asl: top-level field QueryLanguage: %v is not supported (only JSONPath)", toJSONString(v))
			}
		default:
			return nil, fmt.Errorf("asl: unsupported top-level field %q", k)
		}
	}
	startAt, ok := top["StartAt"].(string)
	if !ok || startAt == "" {
		return nil, fmt.Errorf("asl: top-level field StartAt is missing or not a string")
	}
	rawStates, ok := top["States"].(map[string]any)
	if !ok || len(rawStates) == 0 {
		return nil, fmt.Errorf("asl: top-level field States is missing or empty")
	}
	m.startAt = startAt
	if m.states, err = parseStates(startAt, rawStates, map[string]bool{}, ""); err != nil {
		return nil, err
	}
	return m, nil
}

// parseStates parses and validates one scope of states: the top level or
// the ItemProcessor of a Map state (where is then " in the ItemProcessor of
// state ..."). Transitions stay inside the scope; names (seen) are unique
// across the whole machine, as AWS requires.
func parseStates(startAt string, rawStates map[string]any, seen map[string]bool, where string) (map[string]*state, error) {
	states := map[string]*state{}
	names := make([]string, 0, len(rawStates))
	for n := range rawStates {
		names = append(names, n)
	}
	sort.Strings(names)
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
	// Transition targets.
	for _, name := range names {
		st := states[name]
		check := func(field, target string) error {
			if _, ok := states[target]; !ok {
				return fmt.Errorf("asl: state %q: field %s: target state %q does not exist%s", name, field, target, where)
			}
			return nil
		}
		if st.next != "" {
			if err := check("Next", st.next); err != nil {
				return nil, err
			}
		}
		if st.deflt != "" {
			if err := check("Default", st.deflt); err != nil {
				return nil, err
			}
		}
		for i, c := range st.choices {
			if err := check(fmt.Sprintf("Choices[%d].Next", i), c.next); err != nil {
				return nil, err
			}
		}
		for i, c := range st.catch {
			if err := check(fmt.Sprintf("Catch[%d].Next", i), c.next); err != nil {
				return nil, err
			}
		}
	}
	// Every state must be reachable from StartAt (AWS rejects the definition
	// otherwise).
	reached := map[string]bool{startAt: true}
	queue := []string{startAt}
	for len(queue) > 0 {
		st := states[queue[0]]
		queue = queue[1:]
		targets := []string{st.next, st.deflt}
		for _, c := range st.choices {
			targets = append(targets, c.next)
		}
		for _, c := range st.catch {
			targets = append(targets, c.next)
		}
		for _, t := range targets {
			if t != "" && !reached[t] {
				reached[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, name := range names {
		if !reached[name] {
			return nil, fmt.Errorf("asl: state %q is not reachable from StartAt %q%s", name, startAt, where)
		}
	}
	return states, nil
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

func parseState(name string, obj map[string]any, seen map[string]bool) (*state, error) {
	fail := func(field string, format string, args ...any) error {
		return fmt.Errorf("asl: state %q: field %s: %s", name, field, fmt.Sprintf(format, args...))
	}
	typ, _ := obj["Type"].(string)
	allowed, ok := allowedFields[typ]
	if !ok {
		switch typ {
		case "Parallel":
			return nil, fail("Type", "%s states are not supported", typ)
		case "":
			return nil, fail("Type", "missing or not a string")
		}
		return nil, fail("Type", "unknown state type %q", typ)
	}
	st := &state{name: name, typ: typ}
	for k, v := range obj {
		if k == "Type" || k == "Comment" {
			continue
		}
		if k == "QueryLanguage" {
			switch {
			case v == "JSONata" && typ == "Choice":
				st.jsonata = true
			case v != "JSONPath":
				return nil, fail(k, "%s is not supported (only JSONPath, and JSONata in Choice states)", toJSONString(v))
			}
			continue
		}
		known := false
		for _, a := range allowed {
			if a == k {
				known = true
				break
			}
		}
		if !known && typ == "Map" && distributedMapFields[k] {
			return nil, fail(k, "is a Distributed Map feature; the local engine runs Inline Map states only (remove it, or catch failures inside the ItemProcessor)")
		}
		if !known {
			return nil, fail(k, "not supported in a %s state", typ)
		}
	}
	var err error
	str := func(field string) (string, bool, error) {
		v, ok := obj[field]
		if !ok {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, fail(field, "must be a string")
		}
		return s, true, nil
	}
	optionalPath := func(field string) (*optPath, error) {
		v, ok := obj[field]
		if !ok {
			return nil, nil
		}
		if v == nil {
			return &optPath{null: true}, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return nil, fail(field, "must be a string or null")
		}
		p, err := compilePath(s)
		if err != nil {
			return nil, fail(field, "%v", err)
		}
		return &optPath{p: p}, nil
	}
	requiredPath := func(field string) (*path, error) {
		s, ok, err := str(field)
		if err != nil || !ok {
			return nil, err
		}
		p, err := compilePath(s)
		if err != nil {
			return nil, fail(field, "%v", err)
		}
		return p, nil
	}

	// Transitions.
	if typ != "Choice" && typ != "Succeed" && typ != "Fail" {
		next, hasNext, err := str("Next")
		if err != nil {
			return nil, err
		}
		end, hasEnd := obj["End"]
		if hasEnd && end != true && end != false {
			return nil, fail("End", "must be a boolean")
		}
		hasEnd = end == true
		switch {
		case hasNext && hasEnd:
			return nil, fail("Next", "a state cannot have both Next and End")
		case !hasNext && !hasEnd:
			return nil, fail("Next", "a %s state must have Next or End", typ)
		}
		st.next, st.end = next, hasEnd
	}
	if typ != "Fail" {
		if st.inputPath, err = optionalPath("InputPath"); err != nil {
			return nil, err
		}
		if st.outputPath, err = optionalPath("OutputPath"); err != nil {
			return nil, err
		}
	}
	if v, ok := obj["Parameters"]; ok {
		if st.parameters, err = compileTemplate(v, "Parameters"); err != nil {
			return nil, fail("Parameters", "%v", err)
		}
	}
	if v, ok := obj["ResultSelector"]; ok {
		if st.resultSelector, err = compileTemplate(v, "ResultSelector"); err != nil {
			return nil, fail("ResultSelector", "%v", err)
		}
	}
	if v, ok := obj["ResultPath"]; ok {
		if st.resultPath, err = parseResultPath(v); err != nil {
			return nil, fail("ResultPath", "%v", err)
		}
	}
	if v, ok := obj["Result"]; ok {
		st.result, st.hasResult = v, true
	}

	if typ == "Task" || typ == "Map" {
		if v, ok := obj["Retry"]; ok {
			if st.retry, err = parseRetry(v); err != nil {
				return nil, fail("Retry", "%v", err)
			}
		}
		if v, ok := obj["Catch"]; ok {
			if st.catch, err = parseCatch(v); err != nil {
				return nil, fail("Catch", "%v", err)
			}
		}
	}
	switch typ {
	case "Task":
		if st.resource, _, err = str("Resource"); err != nil {
			return nil, err
		}
		if st.resource == "" {
			return nil, fail("Resource", "missing")
		}
		if v, ok := obj["TimeoutSeconds"]; ok {
			if st.timeoutSeconds, err = intField(v, 1, maxSeconds); err != nil {
				return nil, fail("TimeoutSeconds", "%v", err)
			}
		}
		if st.timeoutPath, err = requiredPath("TimeoutSecondsPath"); err != nil {
			return nil, err
		}
		if st.timeoutPath != nil && st.timeoutSeconds != 0 {
			return nil, fail("TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
		}
		// HeartbeatSeconds/HeartbeatSecondsPath are validated as AWS does and
		// otherwise ignored: local handlers do not send heartbeats.
		v, hb := obj["HeartbeatSeconds"]
		_, hbp := obj["HeartbeatSecondsPath"]
		if hb && hbp {
			return nil, fail("HeartbeatSecondsPath", "cannot be used together with HeartbeatSeconds")
		}
		if hb {
			n, err := intField(v, 1, maxSeconds)
			if err != nil {
				return nil, fail("HeartbeatSeconds", "%v", err)
			}
			if st.timeoutSeconds != 0 && n >= st.timeoutSeconds {
				return nil, fail("HeartbeatSeconds", "must be smaller than TimeoutSeconds (%d), got %d", st.timeoutSeconds, n)
			}
		}
	case "Map":
		if err := parseMapState(st, obj, seen); err != nil {
			return nil, err
		}
	case "Choice":
		raw, ok := obj["Choices"].([]any)
		if !ok || len(raw) == 0 {
			return nil, fail("Choices", "must be a non-empty array")
		}
		if st.jsonata {
			for _, f := range []string{"InputPath", "OutputPath"} {
				if _, ok := obj[f]; ok {
					return nil, fail(f, "is not allowed in a JSONata state")
				}
			}
		}
		for i, r := range raw {
			field := fmt.Sprintf("Choices[%d]", i)
			parse := parseChoiceRule
			if st.jsonata {
				parse = parseJSONataRule
			}
			rule, err := parse(r, true, field)
			if err != nil {
				return nil, fmt.Errorf("asl: state %q: %v", name, err)
			}
			st.choices = append(st.choices, rule)
		}
		if st.deflt, _, err = str("Default"); err != nil {
			return nil, err
		}
	case "Wait":
		count := 0
		if v, ok := obj["Seconds"]; ok {
			n, err := intField(v, 0, maxSeconds)
			if err != nil {
				return nil, fail("Seconds", "%v", err)
			}
			st.waitSeconds = &n
			count++
		}
		if st.secondsPath, err = requiredPath("SecondsPath"); err != nil {
			return nil, err
		}
		if st.timestampPath, err = requiredPath("TimestampPath"); err != nil {
			return nil, err
		}
		if s, ok, err := str("Timestamp"); err != nil {
			return nil, err
		} else if ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fail("Timestamp", "not an RFC 3339 timestamp: %q", s)
			}
			st.timestamp = &t
			count++
		}
		if st.secondsPath != nil {
			count++
		}
		if st.timestampPath != nil {
			count++
		}
		if count != 1 {
			return nil, fail("Seconds", "exactly one of Seconds, SecondsPath, Timestamp, TimestampPath is required")
		}
	case "Fail":
		for _, f := range []struct {
			lit   string
			path  string
			sLit  **string
			sPath **valueExpr
		}{{"Error", "ErrorPath", &st.errorStr, &st.errorPath}, {"Cause", "CausePath", &st.causeStr, &st.causePath}} {
			s, ok, err := str(f.lit)
			if err != nil {
				return nil, err
			}
			if ok {
				*f.sLit = &s
			}
			p, hasPath, err := str(f.path)
			if err != nil {
				return nil, err
			}
			if hasPath {
				if ok {
					return nil, fail(f.path, "cannot be used together with %s", f.lit)
				}
				ve, err := compileValueExpr(p)
				if err != nil {
					return nil, fail(f.path, "%v", err)
				}
				*f.sPath = ve
			}
		}
	}
	return st, nil
}

func compileValueExpr(s string) (*valueExpr, error) {
	if isIntrinsic(s) {
		c, err := parseIntrinsic(s)
		if err != nil {
			return nil, err
		}
		return &valueExpr{raw: s, call: c}, nil
	}
	p, err := compilePath(s)
	if err != nil {
		return nil, err
	}
	return &valueExpr{raw: s, path: p}, nil
}

func parseResultPath(v any) (*optRefPath, error) {
	if v == nil {
		return &optRefPath{null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("must be a string or null")
	}
	rp, err := compileRefPath(s)
	if err != nil {
		return nil, err
	}
	return &optRefPath{p: rp}, nil
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

func parseRetry(v any) ([]retrier, error) {
	raw, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []retrier
	for i, r := range raw {
		obj, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d]: must be an object", i)
		}
		rt := retrier{interval: 1, maxAttempts: 3, backoffRate: 2}
		var err error
		if rt.errorEquals, err = parseErrorEquals(obj, i == len(raw)-1); err != nil {
			return nil, fmt.Errorf("[%d].%v", i, err)
		}
		for k, v := range obj {
			switch k {
			case "ErrorEquals", "Comment":
			case "IntervalSeconds":
				n, err := intField(v, 1, maxSeconds)
				if err != nil {
					return nil, fmt.Errorf("[%d].IntervalSeconds: %v", i, err)
				}
				rt.interval = float64(n)
			case "MaxAttempts":
				n, err := intField(v, 0, maxSeconds)
				if err != nil {
					return nil, fmt.Errorf("[%d].MaxAttempts: %v", i, err)
				}
				rt.maxAttempts = int(n)
			case "BackoffRate":
				f, err := numberField(v)
				if err != nil || f < 1 {
					return nil, fmt.Errorf("[%d].BackoffRate: must be a number >= 1.0", i)
				}
				rt.backoffRate = f
			case "MaxDelaySeconds":
				n, err := intField(v, 1, maxDelaySeconds)
				if err != nil {
					return nil, fmt.Errorf("[%d].MaxDelaySeconds: %v", i, err)
				}
				rt.maxDelay = float64(n)
			case "JitterStrategy":
				switch v {
				case "FULL":
					rt.jitterFull = true
				case "NONE":
				default:
					return nil, fmt.Errorf("[%d].JitterStrategy: must be FULL or NONE, got %s", i, toJSONString(v))
				}
			default:
				return nil, fmt.Errorf("[%d].%s: unsupported field", i, k)
			}
		}
		out = append(out, rt)
	}
	return out, nil
}

func parseCatch(v any) ([]catcher, error) {
	raw, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []catcher
	for i, r := range raw {
		obj, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d]: must be an object", i)
		}
		var c catcher
		var err error
		if c.errorEquals, err = parseErrorEquals(obj, i == len(raw)-1); err != nil {
			return nil, fmt.Errorf("[%d].%v", i, err)
		}
		for k, v := range obj {
			switch k {
			case "ErrorEquals", "Comment":
			case "Next":
				s, ok := v.(string)
				if !ok || s == "" {
					return nil, fmt.Errorf("[%d].Next: must be a state name", i)
				}
				c.next = s
			case "ResultPath":
				if c.resultPath, err = parseResultPath(v); err != nil {
					return nil, fmt.Errorf("[%d].ResultPath: %v", i, err)
				}
			default:
				return nil, fmt.Errorf("[%d].%s: unsupported field", i, k)
			}
		}
		if c.next == "" {
			return nil, fmt.Errorf("[%d].Next: missing", i)
		}
		out = append(out, c)
	}
	return out, nil
}
