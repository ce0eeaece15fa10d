package asl

import (
	"fmt"
	"slices"
)

// kind is an ASL state type: the fields it allows and its parser.
type kind struct {
	fields []string
	parse  func(p *stateParser) state
}

// kinds are the supported state types (set in init: the Map parser
// parses states again).
var kinds map[string]kind

func init() {
	kinds = map[string]kind{
		"Pass": {[]string{"Next", "End", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath", "Output"}, parsePass},
		"Task": {[]string{"Resource", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
			"Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"}, parseTask},
		"Choice":  {[]string{"Choices", "Default", "InputPath", "OutputPath"}, parseChoice},
		"Wait":    {[]string{"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"}, parseWait},
		"Succeed": {[]string{"InputPath", "OutputPath"}, parseSucceed},
		"Fail":    {[]string{"Error", "Cause", "ErrorPath", "CausePath"}, parseFail},
		"Map": {[]string{"Next", "End", "InputPath", "OutputPath", "ItemsPath", "ItemSelector", "Parameters", "ItemProcessor", "Iterator",
			"MaxConcurrency", "MaxConcurrencyPath", "ResultSelector", "ResultPath", "Retry", "Catch"}, parseMap},
	}
}

// jsonataTask is a Task state in JSONata: Arguments and Output instead of
// the JSONPath fields.
var jsonataTask = kind{[]string{"Resource", "Next", "End", "Arguments", "Output", "Retry", "Catch", "TimeoutSeconds"}, parseJSONataTask}

// stateParser reads one state's definition. The first problem sticks
// (err): later reads return zero values and report nothing, so a kind's
// parser reads its fields in order and returns err at the end.
type stateParser struct {
	name string
	typ  string
	obj  map[string]any
	seen map[string]bool // state names of the whole machine (Map scopes)
	err  error
}

func parseState(name string, obj map[string]any, seen map[string]bool) (state, error) {
	p := &stateParser{name: name, obj: obj, seen: seen}
	p.typ, _ = obj["Type"].(string)
	k, ok := kinds[p.typ]
	if p.typ == "Task" && obj["QueryLanguage"] == "JSONata" {
		k = jsonataTask
	}
	switch {
	case ok:
	case p.typ == "Parallel":
		return nil, p.errorf("Type", "%s states are not supported", p.typ)
	case p.typ == "":
		return nil, p.errorf("Type", "missing or not a string")
	default:
		return nil, p.errorf("Type", "unknown state type %q", p.typ)
	}
	if err := p.checkFields(k.fields); err != nil {
		return nil, err
	}
	st := k.parse(p)
	if p.err != nil {
		return nil, p.err
	}
	return st, nil
}

// checkFields rejects the fields the kind does not allow, and
// QueryLanguage but JSONPath (JSONata in Choice states).
func (p *stateParser) checkFields(allowed []string) error {
	for k, v := range p.obj {
		switch {
		case k == "Type" || k == "Comment":
		case k == "QueryLanguage":
			if v != "JSONPath" && (v != "JSONata" || (p.typ != "Choice" && p.typ != "Task" && p.typ != "Pass")) {
				return p.errorf(k, "%s is not supported (only JSONPath, and JSONata in Choice, Task and Pass states)", toJSONString(v))
			}
		case slices.Contains(allowed, k):
		case p.typ == "Map" && distributedMapFields[k]:
			return p.errorf(k, "is a Distributed Map feature; the local engine runs Inline Map states only (remove it, or catch failures inside the ItemProcessor)")
		default:
			return p.errorf(k, "not supported in a %s state", p.typ)
		}
	}
	return nil
}

func (p *stateParser) errorf(field, format string, args ...any) error {
	return fmt.Errorf("asl: state %q: field %s: %s", p.name, field, fmt.Sprintf(format, args...))
}

// fail records the first problem.
func (p *stateParser) fail(field, format string, args ...any) {
	if p.err == nil {
		p.err = p.errorf(field, format, args...)
	}
}

func (p *stateParser) meta() stateMeta { return stateMeta{name: p.name, typ: p.typ} }

// has tells whether the definition has field (and nothing failed yet).
func (p *stateParser) has(field string) (any, bool) {
	v, ok := p.obj[field]
	return v, ok && p.err == nil
}

// str reads an optional string field.
func (p *stateParser) str(field string) (string, bool) {
	v, ok := p.has(field)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail(field, "must be a string")
	}
	return s, isStr
}

// integer reads an optional integer field within [minimum, maximum].
func (p *stateParser) integer(field string, minimum, maximum int64) (int64, bool) {
	v, ok := p.has(field)
	if !ok {
		return 0, false
	}
	n, err := intField(v, minimum, maximum)
	if err != nil {
		p.fail(field, "%v", err)
		return 0, false
	}
	return n, true
}

// path reads an optional JSONPath field.
func (p *stateParser) path(field string) *path {
	s, ok := p.str(field)
	if !ok {
		return nil
	}
	c, err := compilePath(s)
	if err != nil {
		p.fail(field, "%v", err)
	}
	return c
}

// nullablePath reads InputPath or OutputPath (null: an empty object).
func (p *stateParser) nullablePath(field string) *optPath {
	v, ok := p.has(field)
	switch {
	case !ok:
		return nil
	case v == nil:
		return &optPath{null: true}
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail(field, "must be a string or null")
		return nil
	}
	c, err := compilePath(s)
	if err != nil {
		p.fail(field, "%v", err)
		return nil
	}
	return &optPath{p: c}
}

// template reads a payload template (Parameters, ResultSelector, ItemSelector).
func (p *stateParser) template(field string) *template {
	v, ok := p.has(field)
	if !ok {
		return nil
	}
	t, err := compileTemplate(v, field)
	if err != nil {
		p.fail(field, "%v", err)
	}
	return t
}

// flow reads Next or End: exactly one of them.
func (p *stateParser) flow() flow {
	next, hasNext := p.str("Next")
	end, hasEnd := p.has("End")
	if hasEnd && end != true && end != false {
		p.fail("End", "must be a boolean")
	}
	hasEnd = end == true
	switch {
	case hasNext && next == "":
		p.fail("Next", "must name a state")
	case hasNext && hasEnd:
		p.fail("Next", "a state cannot have both Next and End")
	case !hasNext && !hasEnd:
		p.fail("Next", "a %s state must have Next or End", p.typ)
	}
	return flow{next: next, end: hasEnd}
}

// dataFlow reads InputPath, OutputPath, Parameters, ResultSelector and
// ResultPath, those the kind allows.
func (p *stateParser) dataFlow() dataFlow {
	d := dataFlow{inputPath: p.nullablePath("InputPath"), outputPath: p.nullablePath("OutputPath")}
	d.parameters = p.template("Parameters")
	d.resultSelector = p.template("ResultSelector")
	if v, ok := p.has("ResultPath"); ok {
		rp, err := parseResultPath(v)
		if err != nil {
			p.fail("ResultPath", "%v", err)
		}
		d.resultPath = rp
	}
	return d
}

// recovery reads Retry and Catch.
func (p *stateParser) recovery() recovery {
	var rc recovery
	var err error
	if v, ok := p.has("Retry"); ok {
		if rc.retry, err = parseRetry(v); err != nil {
			p.fail("Retry", "%v", err)
		}
	}
	if v, ok := p.has("Catch"); ok {
		if rc.catch, err = parseCatch(v); err != nil {
			p.fail("Catch", "%v", err)
		}
	}
	return rc
}

// valueExpr is a path or an intrinsic function (ErrorPath, CausePath).
type valueExpr struct {
	raw  string
	path *path
	call *intrinsicCall
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
