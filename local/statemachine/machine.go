// Package statemachine is a small interpreter for AWS Step Functions state
// machines written in the Amazon States Language with the JSONPath query
// language. It runs the subset that edge-drop's CDK-synthesized definition
// uses so the same definition can run on one machine, with Task states served
// by a local TaskHandler.
//
// Supported: Pass, Task, Choice, Wait, Succeed and Fail states; InputPath,
// Parameters (nested objects/arrays, "key.$" paths and intrinsic functions),
// ResultSelector, ResultPath (null, "$", nested paths created on demand) and
// OutputPath; the context object ($$.Execution.Id/Name/StartTime/Input,
// $$.State.Name/EnteredTime/RetryCount, $$.StateMachine.Id/Name); every Choice
// comparison operator (String*/Numeric*/Boolean*/Timestamp* and their Path
// variants, StringMatches, Is*, And/Or/Not); Retry (IntervalSeconds,
// MaxAttempts, BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch with
// States.ALL and States.TaskFailed; Task TimeoutSeconds/TimeoutSecondsPath
// (HeartbeatSeconds is accepted and ignored); the top-level TimeoutSeconds;
// Fail Error/Cause/ErrorPath/CausePath (paths or intrinsic functions); all 18
// JSONPath intrinsic functions (States.Format ... States.UUID).
//
// Errors follow AWS: a path that selects nothing, a bad intrinsic call or an
// unusable SecondsPath is States.Runtime, which fails the execution and is
// never retried or caught (not even by States.ALL); ResultPath that cannot be
// applied is States.ResultPathMatchFailure; a Choice without a match and
// without Default is States.NoChoiceMatched.
//
// Not supported, rejected by Parse with an error naming the state and field:
// QueryLanguage JSONata, Map and Parallel states, variables (Assign), Arguments
// and Output, Credentials, unknown comparison operators and intrinsic
// functions. Parse also rejects what AWS rejects: unknown fields, missing
// transition targets, unreachable states, States.ALL not alone and last.
//
// JSONPath is RFC 9535 (github.com/theory/jsonpath). Definite paths select one
// value; indefinite paths (wildcards, slices, filters, "..") select an array,
// as with the Jayway implementation AWS uses. Dot-notation names RFC 9535 does
// not allow in shorthand but AWS does ("$.detail-type") are accepted. Jayway
// functions such as length() are not.
//
// Values are generic JSON: map[string]any, []any, json.Number, string, bool
// and nil. Inputs (pass decoded values or a json.RawMessage) and task results
// of other Go types are normalized through encoding/json; numbers are kept as
// json.Number so they are output exactly as they came in.
package statemachine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// TaskHandler runs the resource of a Task state. parameters is the state's
// effective input (after InputPath and Parameters). Returning an *Error lets
// Retry/Catch match on its Name; any other error becomes States.TaskFailed
// with err.Error() as the cause. ctx is cancelled when the state's
// TimeoutSeconds elapses, the execution times out or is aborted.
type TaskHandler func(ctx context.Context, resource string, parameters any) (any, error)

// Error is a named error, as raised by a Task handler or a Fail state.
type Error struct{ Name, Cause string }

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Predefined error names.
const (
	ErrAll                    = "States.ALL"
	ErrTaskFailed             = "States.TaskFailed"
	ErrTimeout                = "States.Timeout"
	ErrRuntime                = "States.Runtime"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
)

// Execution statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Options configure one execution.
type Options struct {
	// Task is called for every Task state. Required if the machine has one.
	Task TaskHandler
	// Observer, if set, receives events as the execution progresses. It is
	// called synchronously from the execution goroutine.
	Observer func(Event)
	// Sleep waits for d or until ctx is done (returning ctx's error). Used
	// for Retry intervals and Wait states. Default: a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for JitterStrategy FULL. Default math/rand/v2.
	Rand func() float64
	// Now returns the current time (context object timestamps, Wait
	// Timestamp). Default time.Now.
	Now func() time.Time
	// Name is the execution name ($$.Execution.Name). Default: a random UUID.
	Name string
	// StateMachineName is used for $$.StateMachine.Name and the ARNs in the
	// context object. Default "StateMachine".
	StateMachineName string
}

// EventKind is the kind of an Event.
type EventKind string

// Event kinds.
const (
	EventExecutionStarted EventKind = "ExecutionStarted"
	EventStateEntered     EventKind = "StateEntered"
	EventStateExited      EventKind = "StateExited"    // the state finished (successfully or caught); Output set
	EventStateFailed      EventKind = "StateFailed"    // one attempt failed; Error/Cause set
	EventRetryScheduled   EventKind = "RetryScheduled" // Duration is the delay before the next attempt
	EventStateCaught      EventKind = "StateCaught"
	EventExecutionEnded   EventKind = "ExecutionEnded" // Type holds the final status
)

// Event describes progress of an execution for live printing.
type Event struct {
	Kind     EventKind
	State    string
	Type     string
	At       time.Time
	Duration time.Duration
	Attempt  int
	Error    string
	Cause    string
	Input    any
	Output   any
}

// Step is one visited state in Execution.Path.
type Step struct {
	Name     string
	Type     string
	Entered  time.Time
	Duration time.Duration
	Attempts int    // number of attempts (Task states with Retry may have several)
	Error    string // error the state ended with, if any (also set when caught)
	Cause    string
}

// Execution is the result of Machine.Execute.
type Execution struct {
	Status string // SUCCEEDED | FAILED | TIMED_OUT | ABORTED
	Output any
	Error  string
	Cause  string
	Path   []Step
	// Name and ID ($$.Execution.Id) of this execution; StartTime/StopTime.
	Name      string
	ID        string
	StartTime time.Time
	StopTime  time.Time
}

// Machine is a parsed, validated state machine definition.
type Machine struct {
	startAt        string
	states         map[string]*state
	timeoutSeconds int64
	comment        string
}

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

	// Wait
	waitSeconds   *int64
	secondsPath   *path
	timestamp     *time.Time
	timestampPath *path

	// Fail
	errorStr, causeStr   *string
	errorPath, causePath *valueExpr
}

var allowedFields = map[string][]string{
	"Task": {"Resource", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
		"Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
	"Pass":    {"Next", "End", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath"},
	"Choice":  {"Choices", "Default", "InputPath", "OutputPath"},
	"Wait":    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed": {"InputPath", "OutputPath"},
	"Fail":    {"Error", "Cause", "ErrorPath", "CausePath"},
}

// Parse parses and validates an ASL definition. Structural problems and
// unsupported features produce an error naming the state and the field.
func Parse(definition []byte) (*Machine, error) {
	dec := json.NewDecoder(bytes.NewReader(definition))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("statemachine: definition is not a JSON object: %v", err)
	}
	m := &Machine{states: map[string]*state{}}
	for k, v := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version":
		case "TimeoutSeconds":
			n, err := intField(v, 1)
			if err != nil {
				return nil, fmt.Errorf("statemachine: top-level field TimeoutSeconds: %v", err)
			}
			m.timeoutSeconds = n
		case "QueryLanguage":
			if v != "JSONPath" {
				return nil, fmt.Errorf("statemachine: top-level field QueryLanguage: %v is not supported (only JSONPath)", toJSONString(v))
			}
		default:
			return nil, fmt.Errorf("statemachine: unsupported top-level field %q", k)
		}
	}
	startAt, ok := top["StartAt"].(string)
	if !ok || startAt == "" {
		return nil, fmt.Errorf("statemachine: top-level field StartAt is missing or not a string")
	}
	m.startAt = startAt
	if c, ok := top["Comment"].(string); ok {
		m.comment = c
	}
	rawStates, ok := top["States"].(map[string]any)
	if !ok || len(rawStates) == 0 {
		return nil, fmt.Errorf("statemachine: top-level field States is missing or empty")
	}
	names := make([]string, 0, len(rawStates))
	for n := range rawStates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		obj, ok := rawStates[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statemachine: state %q: definition is not an object", name)
		}
		st, err := parseState(name, obj)
		if err != nil {
			return nil, err
		}
		m.states[name] = st
	}
	if _, ok := m.states[startAt]; !ok {
		return nil, fmt.Errorf("statemachine: StartAt %q does not name a state", startAt)
	}
	// Transition targets.
	for _, name := range names {
		st := m.states[name]
		check := func(field, target string) error {
			if _, ok := m.states[target]; !ok {
				return fmt.Errorf("statemachine: state %q: field %s: target state %q does not exist", name, field, target)
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
		st := m.states[queue[0]]
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
			return nil, fmt.Errorf("statemachine: state %q is not reachable from StartAt %q", name, startAt)
		}
	}
	return m, nil
}

func intField(v any, minimum int64) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("must be an integer, got %s", toJSONString(v))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("must be an integer, got %s", n)
	}
	if i < minimum {
		return 0, fmt.Errorf("must be >= %d, got %d", minimum, i)
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

func parseState(name string, obj map[string]any) (*state, error) {
	fail := func(field string, format string, args ...any) error {
		return fmt.Errorf("statemachine: state %q: field %s: %s", name, field, fmt.Sprintf(format, args...))
	}
	typ, _ := obj["Type"].(string)
	allowed, ok := allowedFields[typ]
	if !ok {
		switch typ {
		case "Map", "Parallel":
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
			if v != "JSONPath" {
				return nil, fail(k, "%s is not supported (only JSONPath)", toJSONString(v))
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

	switch typ {
	case "Task":
		if st.resource, _, err = str("Resource"); err != nil {
			return nil, err
		}
		if st.resource == "" {
			return nil, fail("Resource", "missing")
		}
		if v, ok := obj["TimeoutSeconds"]; ok {
			if st.timeoutSeconds, err = intField(v, 1); err != nil {
				return nil, fail("TimeoutSeconds", "%v", err)
			}
		}
		if st.timeoutPath, err = requiredPath("TimeoutSecondsPath"); err != nil {
			return nil, err
		}
		if st.timeoutPath != nil && st.timeoutSeconds != 0 {
			return nil, fail("TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
		}
		// HeartbeatSeconds/HeartbeatSecondsPath are accepted and ignored:
		// local handlers do not send heartbeats.
		_, hb := obj["HeartbeatSeconds"]
		_, hbp := obj["HeartbeatSecondsPath"]
		if hb && hbp {
			return nil, fail("HeartbeatSecondsPath", "cannot be used together with HeartbeatSeconds")
		}
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
	case "Choice":
		raw, ok := obj["Choices"].([]any)
		if !ok || len(raw) == 0 {
			return nil, fail("Choices", "must be a non-empty array")
		}
		for i, r := range raw {
			field := fmt.Sprintf("Choices[%d]", i)
			rule, err := parseChoiceRule(r, true, field)
			if err != nil {
				return nil, fmt.Errorf("statemachine: state %q: %v", name, err)
			}
			st.choices = append(st.choices, rule)
		}
		if st.deflt, _, err = str("Default"); err != nil {
			return nil, err
		}
	case "Wait":
		count := 0
		if v, ok := obj["Seconds"]; ok {
			n, err := intField(v, 0)
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
				n, err := intField(v, 1)
				if err != nil {
					return nil, fmt.Errorf("[%d].IntervalSeconds: %v", i, err)
				}
				rt.interval = float64(n)
			case "MaxAttempts":
				n, err := intField(v, 0)
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
				n, err := intField(v, 1)
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

// template is a compiled payload template (Parameters, ResultSelector).
type template struct {
	lit    any
	fields []templateField // object
	items  []*template     // array
	isObj  bool
	isArr  bool
}

type templateField struct {
	key    string // output key (without ".$")
	srcKey string // key as written
	sub    *template
	path   *path
	call   *intrinsicCall
}

func compileTemplate(v any, where string) (*template, error) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tp := &template{isObj: true}
		seen := map[string]string{}
		for _, k := range keys {
			f := templateField{key: k, srcKey: k}
			if strings.HasSuffix(k, ".$") {
				f.key = strings.TrimSuffix(k, ".$")
				s, ok := t[k].(string)
				if !ok {
					return nil, fmt.Errorf("%s: the value of a field ending in .$ must be a string (path or intrinsic function)", k)
				}
				var err error
				if isIntrinsic(s) {
					f.call, err = parseIntrinsic(s)
				} else {
					f.path, err = compilePath(s)
				}
				if err != nil {
					return nil, fmt.Errorf("%s: %v", k, err)
				}
			} else {
				sub, err := compileTemplate(t[k], where)
				if err != nil {
					return nil, fmt.Errorf("%s.%v", k, err)
				}
				f.sub = sub
			}
			if prev, dup := seen[f.key]; dup {
				return nil, fmt.Errorf("fields %q and %q both produce %q", prev, k, f.key)
			}
			seen[f.key] = k
			tp.fields = append(tp.fields, f)
		}
		return tp, nil
	case []any:
		tp := &template{isArr: true}
		for i, x := range t {
			sub, err := compileTemplate(x, where)
			if err != nil {
				return nil, fmt.Errorf("[%d].%v", i, err)
			}
			tp.items = append(tp.items, sub)
		}
		return tp, nil
	default:
		return &template{lit: v}, nil
	}
}

func (t *template) eval(input, ctxObj any, field string) (any, *stateError) {
	switch {
	case t.isObj:
		out := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			switch {
			case f.sub != nil:
				v, err := f.sub.eval(input, ctxObj, field)
				if err != nil {
					return nil, err
				}
				out[f.key] = v
			case f.path != nil:
				v, ok := f.path.eval(input, ctxObj)
				if !ok {
					where := "input"
					if f.path.context {
						where = "context object"
					}
					return nil, runtimeErr("The JSONPath '%s' specified for the field '%s' in %s could not be found in the %s '%s'",
						f.path.raw, f.srcKey, field, where, toJSONString(pick(f.path.context, ctxObj, input)))
				}
				out[f.key] = deepCopy(v)
			case f.call != nil:
				v, err := f.call.eval(input, ctxObj)
				if err != nil {
					return nil, runtimeErr("The intrinsic function for the field '%s' in %s failed: %v", f.srcKey, field, err)
				}
				out[f.key] = v
			}
		}
		return out, nil
	case t.isArr:
		out := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := it.eval(input, ctxObj, field)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	default:
		return deepCopy(t.lit), nil
	}
}

func pick(ctx bool, ctxObj, input any) any {
	if ctx {
		return ctxObj
	}
	return input
}

// stateError is an error raised while running a state.
type stateError struct {
	name, cause string
	// terminal errors (States.Runtime) are neither retried nor caught.
	terminal bool
}

func runtimeErr(format string, args ...any) *stateError {
	return &stateError{name: ErrRuntime, cause: fmt.Sprintf(format, args...), terminal: true}
}

func isInteger(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }
