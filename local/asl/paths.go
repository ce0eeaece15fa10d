package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// path is a compiled JSONPath (RFC 9535 via github.com/theory/jsonpath) that
// may address either the state input ("$...") or the context object ("$$...").
type path struct {
	raw      string
	context  bool
	singular bool
	p        *jsonpath.Path
}

func compilePath(raw string) (*path, error) {
	expr := raw
	ctx := false
	if strings.HasPrefix(raw, "$$") {
		ctx = true
		expr = raw[1:]
	}
	if !strings.HasPrefix(expr, "$") {
		return nil, fmt.Errorf("path %q must start with '$'", raw)
	}
	p, err := jsonpath.Parse(dotNamesToBrackets(expr))
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %v", raw, err)
	}
	return &path{raw: raw, context: ctx, singular: p.Query().Singular() != nil, p: p}, nil
}

// eval applies the path. A definite (singular) path yields the selected value
// and fails when nothing matches; an indefinite path (wildcards, slices,
// filters, descendants) yields a JSON array of all matches, like the Jayway
// implementation AWS uses.
func (p *path) eval(input, ctxObj any) (any, bool) {
	target := input
	if p.context {
		target = ctxObj
	}
	nodes := p.p.Select(target)
	if p.singular {
		if len(nodes) == 0 {
			return nil, false
		}
		return nodes[0], true
	}
	out := make([]any, len(nodes))
	copy(out, nodes)
	return out, true
}

// dotNamesToBrackets rewrites dot-notation member names that RFC 9535 does
// not accept in shorthand form but AWS's Jayway-based paths do (for example
// "$.detail-type" or "$.2xx") into bracket notation ("$['detail-type']"),
// leaving everything else, including bracketed selectors and filters, as is.
func dotNamesToBrackets(p string) string {
	var sb strings.Builder
	depth := 0
	var quote byte
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if quote != 0 {
			sb.WriteByte(ch)
			if ch == '\\' && i+1 < len(p) {
				i++
				sb.WriteByte(p[i])
			} else if ch == quote {
				quote = 0
			}
			continue
		}
		switch {
		case ch == '\'' || ch == '"':
			if depth > 0 {
				quote = ch
			}
		case ch == '[' || ch == '(':
			depth++
		case ch == ']' || ch == ')':
			depth--
		case ch == '.' && depth == 0 && i+1 < len(p) && p[i+1] != '.' && p[i+1] != '[' && (i == 0 || p[i-1] != '.'):
			end := i + 1
			for end < len(p) && p[end] != '.' && p[end] != '[' {
				end++
			}
			name := p[i+1 : end]
			if name != "*" && !isShorthandName(name) && !strings.ContainsAny(name, "()?*@$ \t\n") {
				sb.WriteString("['")
				sb.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name))
				sb.WriteString("']")
				i = end - 1
				continue
			}
		}
		sb.WriteByte(ch)
	}
	return sb.String()
}

func isShorthandName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || r >= 0x80 || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// refPath is a Reference Path (ResultPath): only name and index selectors,
// each selecting a single node.
type refPath struct {
	raw   string
	steps []any // string (object member) or int (array index)
}

func compileRefPath(raw string) (*refPath, error) {
	if strings.HasPrefix(raw, "$$") {
		return nil, fmt.Errorf("reference path %q cannot address the context object", raw)
	}
	p, err := jsonpath.Parse(dotNamesToBrackets(raw))
	if err != nil {
		return nil, fmt.Errorf("invalid reference path %q: %v", raw, err)
	}
	rp := &refPath{raw: raw}
	for _, seg := range p.Query().Segments() {
		sels := seg.Selectors()
		if seg.IsDescendant() || len(sels) != 1 {
			return nil, fmt.Errorf("invalid reference path %q: only single name or index selectors are allowed", raw)
		}
		switch s := sels[0].(type) {
		case spec.Name:
			rp.steps = append(rp.steps, string(s))
		case spec.Index:
			if int(s) < 0 {
				return nil, fmt.Errorf("invalid reference path %q: negative index", raw)
			}
			rp.steps = append(rp.steps, int(s))
		default:
			return nil, fmt.Errorf("invalid reference path %q: selector %s is not allowed", raw, sels[0])
		}
	}
	return rp, nil
}

// set returns a copy of doc with value stored at the reference path, creating
// intermediate objects as needed. ok is false when the path cannot be applied
// (the input, or an intermediate node, is not an object/array as required).
func (r *refPath) set(doc, value any) (any, bool) {
	if len(r.steps) == 0 {
		return value, true
	}
	return setStep(doc, r.steps, value)
}

func setStep(node any, steps []any, value any) (any, bool) {
	if len(steps) == 0 {
		return value, true
	}
	switch k := steps[0].(type) {
	case string:
		obj, isObj := node.(map[string]any)
		if !isObj {
			return nil, false
		}
		out := make(map[string]any, len(obj)+1)
		for key, v := range obj {
			out[key] = v
		}
		child, exists := obj[k]
		if !exists && len(steps) > 1 {
			if _, isIdx := steps[1].(int); isIdx {
				return nil, false
			}
			child = map[string]any{}
		}
		nv, ok := setStep(child, steps[1:], value)
		if !ok {
			return nil, false
		}
		out[k] = nv
		return out, true
	case int:
		arr, isArr := node.([]any)
		if !isArr || k >= len(arr) {
			return nil, false
		}
		out := make([]any, len(arr))
		copy(out, arr)
		nv, ok := setStep(arr[k], steps[1:], value)
		if !ok {
			return nil, false
		}
		out[k] = nv
		return out, true
	}
	return nil, false
}

// normalize converts an arbitrary Go value into the generic JSON form used
// internally (map[string]any, []any, json.Number, string, bool, nil).
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after JSON value")
	}
	return out, nil
}

// toJSONString renders v compactly, without HTML escaping (like JSON.stringify).
func toJSONString(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}
