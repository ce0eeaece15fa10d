package asl

import (
	"fmt"
	"sort"
	"strings"
)

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
