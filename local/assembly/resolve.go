package assembly

import (
	"fmt"
	"regexp"
	"strings"
)

// resolver evaluates CloudFormation intrinsic functions the way a deploy
// would, with local physical names: what CDK emits for edge-drop (Ref,
// Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::GetStackOutput,
// Fn::ImportValue). Anything else is an error naming the function.
type resolver struct {
	a     *Assembly
	stack *stack
}

func (r resolver) value(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return r.intrinsic(fn, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.value(e)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.value(e)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r resolver) str(v any) (string, error) {
	rv, err := r.value(v)
	if err != nil {
		return "", err
	}
	s, ok := rv.(string)
	if !ok {
		return "", fmt.Errorf("stack %s: want a string, got %v", r.stack.name, rv)
	}
	return s, nil
}

// intrinsic evaluates the CloudFormation functions the synthesized app uses.
func (r resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return r.ref(name)
	case "Fn::GetAtt":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("stack %s: malformed Fn::GetAtt %v", r.stack.name, arg)
		}
		id, _ := parts[0].(string)
		attr, _ := parts[1].(string)
		return r.getAtt(id, attr)
	case "Fn::Join":
		return r.join(arg)
	case "Fn::Select":
		return r.selectItem(arg)
	case "Fn::Split":
		return r.split(arg)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::GetStackOutput":
		m, _ := arg.(map[string]any)
		stackName, err := r.str(m["StackName"])
		if err != nil {
			return nil, err
		}
		output, _ := m["OutputName"].(string)
		return r.a.output(stackName, output)
	case "Fn::ImportValue":
		name, err := r.str(arg)
		if err != nil {
			return nil, err
		}
		return r.a.export(name)
	}
	return nil, fmt.Errorf("stack %s: the local run does not support the CloudFormation function %s", r.stack.name, fn)
}

// pair is the two arguments of fn.
func (r resolver) pair(fn string, arg any) ([]any, error) {
	parts, ok := arg.([]any)
	if !ok || len(parts) != 2 {
		return nil, fmt.Errorf("stack %s: malformed %s", r.stack.name, fn)
	}
	return parts, nil
}

// join is Fn::Join [separator, list].
func (r resolver) join(arg any) (any, error) {
	parts, err := r.pair("Fn::Join", arg)
	if err != nil {
		return nil, err
	}
	sep, _ := parts[0].(string)
	list, err := r.value(parts[1])
	if err != nil {
		return nil, err
	}
	items, _ := list.([]any)
	strs := make([]string, len(items))
	for i, it := range items {
		strs[i] = fmt.Sprint(it)
	}
	return strings.Join(strs, sep), nil
}

// selectItem is Fn::Select [index, list].
func (r resolver) selectItem(arg any) (any, error) {
	parts, err := r.pair("Fn::Select", arg)
	if err != nil {
		return nil, err
	}
	idx, err := r.value(parts[0])
	if err != nil {
		return nil, err
	}
	list, err := r.value(parts[1])
	if err != nil {
		return nil, err
	}
	items, _ := list.([]any)
	var i int
	fmt.Sscan(fmt.Sprint(idx), &i)
	if i < 0 || i >= len(items) {
		return nil, fmt.Errorf("stack %s: Fn::Select index %v out of range", r.stack.name, idx)
	}
	return items[i], nil
}

// split is Fn::Split [separator, string].
func (r resolver) split(arg any) (any, error) {
	parts, err := r.pair("Fn::Split", arg)
	if err != nil {
		return nil, err
	}
	sep, _ := parts[0].(string)
	s, err := r.str(parts[1])
	if err != nil {
		return nil, err
	}
	var out []any
	for _, p := range strings.Split(s, sep) {
		out = append(out, p)
	}
	return out, nil
}

func (r resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Partition":
		return "aws", nil
	case "AWS::Region":
		return r.a.Region, nil
	case "AWS::AccountId":
		return r.a.Account, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return r.stack.name, nil
	case "AWS::NoValue":
		return nil, nil
	}
	if p, ok := r.stack.params[name]; ok {
		return p, nil
	}
	res, ok := r.stack.resources[name]
	if !ok {
		return nil, fmt.Errorf("stack %s: Ref to unknown %q", r.stack.name, name)
	}
	return r.a.physical(r.stack, name, res, "Ref")
}

func (r resolver) getAtt(id, attr string) (any, error) {
	res, ok := r.stack.resources[id]
	if !ok {
		return nil, fmt.Errorf("stack %s: Fn::GetAtt of unknown %q", r.stack.name, id)
	}
	return r.a.physical(r.stack, id, res, attr)
}

// subVar is a ${Name} of Fn::Sub, or a ${!Literal}: the text ${Literal}.
var subVar = regexp.MustCompile(`\$\{(!?)([^}]+)\}`)

func (r resolver) sub(arg any) (any, error) {
	text, vars := "", map[string]any{}
	switch x := arg.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return nil, fmt.Errorf("stack %s: malformed Fn::Sub", r.stack.name)
		}
		text, _ = x[0].(string)
		vars, _ = x[1].(map[string]any)
	}
	var err error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		if m[2] == '!' {
			return "${" + m[3:]
		}
		name := m[2 : len(m)-1]
		var v any
		var e error
		if expr, ok := vars[name]; ok {
			v, e = r.value(expr)
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			v, e = r.getAtt(id, attr)
		} else {
			v, e = r.ref(name)
		}
		if e != nil && err == nil {
			err = e
		}
		return fmt.Sprint(v)
	})
	return out, err
}
