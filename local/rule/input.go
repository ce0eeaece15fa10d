package rule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// InputTransformer is an EventBridge target's InputTransformer (the
// CloudFormation AWS::Events::Rule Target.InputTransformer shape).
type InputTransformer struct {
	// InputPathsMap names JSONPaths into the event, e.g. {"key":"$.detail.object.key"}.
	InputPathsMap map[string]string `json:"InputPathsMap,omitempty"`
	// InputTemplate is the output with <name> placeholders.
	InputTemplate string `json:"InputTemplate"`

	// RuleName and RuleArn fill the predefined <aws.events.rule-name> and
	// <aws.events.rule-arn> placeholders (not part of the CloudFormation shape).
	RuleName string `json:"-"`
	RuleArn  string `json:"-"`
}

// TargetInput computes what a rule target receives for event:
//   - input set: that constant JSON text;
//   - inputPath set: the part of the event the JSONPath selects;
//   - transformer set: its InputTemplate with each <name> replaced by the
//     value InputPathsMap[name] selects. Inside a JSON string in the
//     template the value is inserted as string content (JSON-escaped, no
//     quotes added); elsewhere as JSON (strings get quotes). A path that
//     selects nothing gives null (or nothing, inside a string). Predefined:
//     <aws.events.event>, <aws.events.event.json>,
//     <aws.events.event.ingestion-time>, <aws.events.rule-name>,
//     <aws.events.rule-arn>. Unknown <...> text is left as is;
//   - none set: the event unchanged.
//
// Setting more than one is an error, as in EventBridge.
func TargetInput(event []byte, input, inputPath string, transformer *InputTransformer) ([]byte, error) {
	set := 0
	for _, b := range []bool{input != "", inputPath != "", transformer != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, fmt.Errorf("target input: only one of Input, InputPath and InputTransformer may be set")
	}
	switch {
	case input != "":
		if !json.Valid([]byte(input)) {
			return nil, fmt.Errorf("target input: Input is not valid JSON: %.80q", input)
		}
		return []byte(input), nil
	case inputPath != "":
		doc, err := decodeEvent(event)
		if err != nil {
			return nil, err
		}
		v, found, err := evalPath(doc, inputPath)
		if err != nil {
			return nil, fmt.Errorf("target input: InputPath: %w", err)
		}
		if !found {
			return nil, fmt.Errorf("target input: InputPath %s selects nothing in the event", inputPath)
		}
		return marshal(v), nil
	case transformer != nil:
		return transform(event, transformer)
	default:
		return event, nil
	}
}

func transform(event []byte, t *InputTransformer) ([]byte, error) {
	doc, err := decodeEvent(event)
	if err != nil {
		return nil, err
	}
	if len(t.InputPathsMap) > 100 {
		return nil, fmt.Errorf("target input: InputPathsMap has %d entries, EventBridge allows 100", len(t.InputPathsMap))
	}
	type value struct {
		json  []byte // JSON encoding; nil when the path selected nothing
		isStr bool
		str   string
	}
	vars := map[string]value{}
	for name, p := range t.InputPathsMap {
		if strings.HasPrefix(name, "aws.") {
			return nil, fmt.Errorf("target input: InputPathsMap name %q: names starting with \"aws.\" are reserved", name)
		}
		v, found, err := evalPath(doc, p)
		if err != nil {
			return nil, fmt.Errorf("target input: InputPathsMap[%q]: %w", name, err)
		}
		if !found {
			vars[name] = value{}
			continue
		}
		s, isStr := v.(string)
		vars[name] = value{json: marshal(v), isStr: isStr, str: s}
	}
	compact := compactJSON(event)
	vars["aws.events.event"] = value{json: compact}
	vars["aws.events.event.json"] = value{json: compact}
	if tm, ok := doc.(map[string]any)["time"].(string); ok {
		vars["aws.events.event.ingestion-time"] = value{json: marshal(tm), isStr: true, str: tm}
	}
	vars["aws.events.rule-name"] = value{json: marshal(t.RuleName), isStr: true, str: t.RuleName}
	vars["aws.events.rule-arn"] = value{json: marshal(t.RuleArn), isStr: true, str: t.RuleArn}

	tpl := t.InputTemplate
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		if c == '<' {
			if end := strings.IndexByte(tpl[i+1:], '>'); end >= 0 {
				name := tpl[i+1 : i+1+end]
				if v, ok := vars[name]; ok {
					switch {
					case inString && v.json == nil:
					case inString && v.isStr:
						out.Write(escapeString(v.str))
					case inString:
						out.Write(escapeString(string(v.json)))
					case v.json == nil:
						out.WriteString("null")
					default:
						out.Write(v.json)
					}
					i += end + 1
					escaped = false
					continue
				}
			}
		}
		out.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	return out.Bytes(), nil
}

func decodeEvent(event []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("target input: event is not valid JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, fmt.Errorf("target input: event is not a JSON object")
	}
	return doc, nil
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// escapeString is s JSON-escaped, without the surrounding quotes.
func escapeString(s string) []byte {
	q := marshal(s)
	return q[1 : len(q)-1]
}

// evalPath evaluates the JSONPath subset EventBridge input paths use: $,
// .name (any characters but '.' and '[', so $.detail-type works), ['name']
// or ["name"], and [index]. found is false when the path leads nowhere.
func evalPath(doc any, path string) (v any, found bool, err error) {
	segs, err := parsePath(path)
	if err != nil {
		return nil, false, err
	}
	v = doc
	for _, s := range segs {
		switch s := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false, nil
			}
			if v, ok = m[s]; !ok {
				return nil, false, nil
			}
		case int:
			a, ok := v.([]any)
			if !ok || s >= len(a) {
				return nil, false, nil
			}
			v = a[s]
		}
	}
	return v, true, nil
}

// parsePath splits a JSONPath into member names (string) and indexes (int).
func parsePath(path string) ([]any, error) {
	if !strings.HasPrefix(path, "$") {
		return nil, fmt.Errorf("JSONPath %q must start with $", path)
	}
	var segs []any
	rest := path[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			name := rest[:n]
			if name == "" || name == "*" || strings.HasPrefix(name, ".") {
				return nil, fmt.Errorf("JSONPath %q: only plain member names are supported (no .., *, empty names)", path)
			}
			segs = append(segs, name)
			rest = rest[n:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSONPath %q: missing ]", path)
			}
			in := strings.TrimSpace(rest[1:end])
			if len(in) >= 2 && (in[0] == '\'' && in[len(in)-1] == '\'' || in[0] == '"' && in[len(in)-1] == '"') {
				name := in[1 : len(in)-1]
				if strings.ContainsAny(name, `'"\`) {
					return nil, fmt.Errorf("JSONPath %q: quotes or escapes inside a bracketed name are not supported", path)
				}
				segs = append(segs, name)
			} else if i, err := strconv.Atoi(in); err == nil && i >= 0 {
				segs = append(segs, i)
			} else {
				return nil, fmt.Errorf("JSONPath %q: unsupported selector [%s] (only ['name'] and [index])", path, in)
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("JSONPath %q: unexpected %q", path, rest[0])
		}
	}
	return segs, nil
}
