package rule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"quamina.net/go/quamina"
)

// Rule is a compiled EventBridge event pattern.
type Rule struct {
	// Name identifies the rule in errors (e.g. the CloudFormation logical ID).
	Name string
	// Pattern is the event pattern as given to Compile.
	Pattern json.RawMessage

	mu sync.Mutex // quamina instances are not safe for concurrent use
	q  *quamina.Quamina
}

// UnsupportedOperatorError reports an EventBridge pattern operator that the
// local matcher cannot evaluate faithfully. Compile refuses such patterns
// rather than match them wrongly.
type UnsupportedOperatorError struct {
	Rule     string // rule name
	Operator string // e.g. "numeric", "anything-but/prefix", "$or"
	Path     string // dotted field path in the pattern, e.g. detail.object.size
}

func (e *UnsupportedOperatorError) Error() string {
	return fmt.Sprintf("rule %q: event pattern operator %q at %s is not supported by the local EventBridge matcher (quamina %s)",
		e.Rule, e.Operator, e.Path, quaminaVersion)
}

const quaminaVersion = "v1.5.1"

// Compile parses an EventBridge event pattern. Supported: exact values
// (strings, numbers, true/false/null), prefix, suffix, wildcard,
// equals-ignore-case, exists, anything-but with strings. suffix is not a
// quamina operator: {"suffix":"S"} is rewritten to the equivalent
// {"wildcard":"*S"} (with '*' and '\' in S escaped), which matches exactly
// the strings ending in S. numeric, cidr, $or, and operators nested in
// prefix/suffix/anything-but fail with an *UnsupportedOperatorError.
func Compile(name string, pattern []byte) (*Rule, error) {
	dec := json.NewDecoder(bytes.NewReader(pattern))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("rule %q: event pattern is not valid JSON: %v", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("rule %q: event pattern has trailing data after the JSON object", name)
	}
	obj, ok := top.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, fmt.Errorf("rule %q: event pattern must be a non-empty JSON object", name)
	}
	rw, err := rewriteObject(name, obj, nil)
	if err != nil {
		return nil, err
	}
	qp, err := json.Marshal(rw)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %v", name, err)
	}
	q, err := quamina.New()
	if err != nil {
		return nil, fmt.Errorf("rule %q: %v", name, err)
	}
	if err := q.AddPattern(name, string(qp)); err != nil {
		return nil, fmt.Errorf("rule %q: invalid event pattern: %s", name, oneLine(err.Error()))
	}
	return &Rule{Name: name, Pattern: append(json.RawMessage(nil), pattern...), q: q}, nil
}

// Matches tells whether the event (JSON) matches the rule's pattern.
func (r *Rule) Matches(event []byte) (bool, error) {
	r.mu.Lock()
	m, err := r.q.MatchesForEvent(event)
	r.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("rule %q: cannot match event: %s", r.Name, oneLine(err.Error()))
	}
	return len(m) > 0, nil
}

func rewriteObject(rule string, obj map[string]any, path []string) (map[string]any, error) {
	out := make(map[string]any, len(obj))
	for _, k := range sortedKeys(obj) {
		p := append(path[:len(path):len(path)], k)
		if strings.HasPrefix(k, "$") {
			return nil, &UnsupportedOperatorError{Rule: rule, Operator: k, Path: dotted(path)}
		}
		switch v := obj[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, invalid(rule, p, "empty object")
			}
			sub, err := rewriteObject(rule, v, p)
			if err != nil {
				return nil, err
			}
			out[k] = sub
		case []any:
			arr, err := rewriteArray(rule, v, p)
			if err != nil {
				return nil, err
			}
			out[k] = arr
		default:
			return nil, invalid(rule, p, "a value must be an array (e.g. [\"x\"]) or an object")
		}
	}
	return out, nil
}

func rewriteArray(rule string, arr []any, path []string) ([]any, error) {
	if len(arr) == 0 {
		return nil, invalid(rule, path, "empty array matches nothing")
	}
	out := make([]any, 0, len(arr))
	for _, el := range arr {
		switch v := el.(type) {
		case string, json.Number, bool, nil:
			out = append(out, v)
		case map[string]any:
			m, err := rewriteOperator(rule, v, path)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		default:
			return nil, invalid(rule, path, "arrays cannot be nested")
		}
	}
	return out, nil
}

func rewriteOperator(rule string, m map[string]any, path []string) (map[string]any, error) {
	if len(m) != 1 {
		ops := sortedKeys(m)
		return nil, invalid(rule, path, fmt.Sprintf("a matching object must have exactly one operator, got %d (%s)", len(m), strings.Join(ops, ", ")))
	}
	var op string
	var val any
	for op, val = range m {
	}
	unsupported := func(o string) error { return &UnsupportedOperatorError{Rule: rule, Operator: o, Path: dotted(path)} }
	needString := func() (string, error) {
		s, ok := val.(string)
		if !ok {
			if inner, isObj := val.(map[string]any); isObj {
				return "", unsupported(op + "/" + strings.Join(sortedKeys(inner), ","))
			}
			return "", invalid(rule, path, fmt.Sprintf("%q needs a string", op))
		}
		return s, nil
	}
	switch op {
	case "prefix", "wildcard", "equals-ignore-case":
		s, err := needString()
		if err != nil {
			return nil, err
		}
		return map[string]any{op: s}, nil
	case "suffix":
		s, err := needString()
		if err != nil {
			return nil, err
		}
		return map[string]any{"wildcard": "*" + escapeWildcard(s)}, nil
	case "exists":
		b, ok := val.(bool)
		if !ok {
			return nil, invalid(rule, path, `"exists" needs true or false`)
		}
		return map[string]any{"exists": b}, nil
	case "anything-but":
		switch v := val.(type) {
		case string:
			return map[string]any{"anything-but": []any{v}}, nil
		case []any:
			if len(v) == 0 {
				return nil, invalid(rule, path, `"anything-but" needs a non-empty list`)
			}
			for _, x := range v {
				if _, ok := x.(string); !ok {
					return nil, unsupported("anything-but (non-string values)")
				}
			}
			return map[string]any{"anything-but": v}, nil
		case map[string]any:
			return nil, unsupported("anything-but/" + strings.Join(sortedKeys(v), ","))
		default:
			return nil, unsupported("anything-but (non-string values)")
		}
	case "numeric", "cidr":
		return nil, unsupported(op)
	default:
		return nil, invalid(rule, path, fmt.Sprintf("unknown operator %q", op))
	}
}

// escapeWildcard quotes the two characters that are special in an
// EventBridge/quamina wildcard: '*' and '\'.
func escapeWildcard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s)
}

func invalid(rule string, path []string, why string) error {
	return fmt.Errorf("rule %q: invalid event pattern at %s: %s", rule, dotted(path), why)
}

func dotted(path []string) string {
	if len(path) == 0 {
		return "(top level)"
	}
	return strings.Join(path, ".")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var _ error = (*UnsupportedOperatorError)(nil)
