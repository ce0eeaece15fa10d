package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Intrinsic functions (JSONPath query language): States.Xxx(arg, ...), where an
// argument is a single-quoted string (escapes \' \{ \} \\), a number, true,
// false, null, a path ($ or $$) or a nested intrinsic function call.

type argKind int

const (
	argLiteral argKind = iota
	argPath
	argCall
)

type intrinsicArg struct {
	kind  argKind
	value any // literal value
	path  *path
	call  *intrinsicCall
}

type intrinsicCall struct {
	name string
	args []intrinsicArg
	fn   intrinsicFunc
}

type intrinsicFunc struct {
	minArgs, maxArgs int // maxArgs < 0: variadic
	eval             func(args []any) (any, error)
}

var intrinsics map[string]intrinsicFunc

func init() {
	intrinsics = map[string]intrinsicFunc{
		"States.Format":         {1, -1, fnFormat},
		"States.StringToJson":   {1, 1, fnStringToJSON},
		"States.JsonToString":   {1, 1, func(a []any) (any, error) { return toJSONString(a[0]), nil }},
		"States.Array":          {0, -1, func(a []any) (any, error) { return append([]any{}, a...), nil }},
		"States.ArrayPartition": {2, 2, fnArrayPartition},
		"States.ArrayContains":  {2, 2, fnArrayContains},
		"States.ArrayRange":     {3, 3, fnArrayRange},
		"States.ArrayGetItem":   {2, 2, fnArrayGetItem},
		"States.ArrayLength":    {1, 1, fnArrayLength},
		"States.ArrayUnique":    {1, 1, fnArrayUnique},
		"States.Base64Encode":   {1, 1, fnBase64Encode},
		"States.Base64Decode":   {1, 1, fnBase64Decode},
		"States.Hash":           {2, 2, fnHash},
		"States.JsonMerge":      {3, 3, fnJSONMerge},
		"States.MathRandom":     {2, 3, fnMathRandom},
		"States.MathAdd":        {2, 2, fnMathAdd},
		"States.StringSplit":    {2, 2, fnStringSplit},
		"States.UUID":           {0, 0, fnUUID},
	}
}

func isIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// parseIntrinsic parses a whole intrinsic function expression.
func parseIntrinsic(src string) (*intrinsicCall, error) {
	p := &intrinsicParser{src: src}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("invalid intrinsic function %q: %v", src, err)
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("invalid intrinsic function %q: unexpected %q at offset %d", src, p.src[p.pos:], p.pos)
	}
	return call, nil
}

type intrinsicParser struct {
	src string
	pos int
}

func (p *intrinsicParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n') {
		p.pos++
	}
}

func (p *intrinsicParser) call() (*intrinsicCall, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != '(' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("missing '('")
	}
	name := strings.TrimSpace(p.src[start:p.pos])
	fn, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unsupported intrinsic function %q", name)
	}
	p.pos++ // (
	c := &intrinsicCall{name: name, fn: fn}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			arg, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, arg)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("missing ')'")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, fmt.Errorf("unexpected %q at offset %d", p.src[p.pos], p.pos)
		}
	}
	if len(c.args) < fn.minArgs || (fn.maxArgs >= 0 && len(c.args) > fn.maxArgs) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arity(fn), len(c.args))
	}
	return c, nil
}

func arity(fn intrinsicFunc) string {
	switch {
	case fn.maxArgs < 0:
		return fmt.Sprintf("at least %d argument(s)", fn.minArgs)
	case fn.minArgs == fn.maxArgs:
		return fmt.Sprintf("exactly %d argument(s)", fn.minArgs)
	default:
		return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
	}
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	rest := p.src[p.pos:]
	switch {
	case rest[0] == '\'':
		var sb strings.Builder
		p.pos++
		for p.pos < len(p.src) {
			ch := p.src[p.pos]
			if ch == '\\' && p.pos+1 < len(p.src) {
				next := p.src[p.pos+1]
				// \{ and \} stay escaped so States.Format can tell literal braces
				// from placeholders; \' and \\ are unescaped here.
				if next == '{' || next == '}' {
					sb.WriteByte('\\')
				}
				sb.WriteByte(next)
				p.pos += 2
				continue
			}
			if ch == '\'' {
				p.pos++
				return intrinsicArg{kind: argLiteral, value: sb.String()}, nil
			}
			sb.WriteByte(ch)
			p.pos++
		}
		return intrinsicArg{}, fmt.Errorf("unterminated string")
	case rest[0] == '$':
		end := p.scanPath()
		pth, err := compilePath(strings.TrimSpace(p.src[p.pos:end]))
		if err != nil {
			return intrinsicArg{}, err
		}
		p.pos = end
		return intrinsicArg{kind: argPath, path: pth}, nil
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		if err != nil {
			return intrinsicArg{}, err
		}
		return intrinsicArg{kind: argCall, call: c}, nil
	default:
		end := p.pos
		for end < len(p.src) && p.src[end] != ',' && p.src[end] != ')' {
			end++
		}
		tok := strings.TrimSpace(p.src[p.pos:end])
		v, err := decodeJSON([]byte(tok))
		if err != nil {
			return intrinsicArg{}, fmt.Errorf("invalid argument %q", tok)
		}
		switch v.(type) {
		case json.Number, bool, nil:
		default:
			return intrinsicArg{}, fmt.Errorf("invalid argument %q", tok)
		}
		p.pos = end
		return intrinsicArg{kind: argLiteral, value: v}, nil
	}
}

// scanPath finds the end of a path argument: the first ',' or ')' outside
// brackets, parentheses and quotes.
func (p *intrinsicParser) scanPath() int {
	depth := 0
	var quote byte
	for i := p.pos; i < len(p.src); i++ {
		ch := p.src[i]
		if quote != 0 {
			if ch == '\\' {
				i++
			} else if ch == quote {
				quote = 0
			}
			continue
		}
		switch ch {
		case '\'', '"':
			quote = ch
		case '[', '(':
			depth++
		case ']':
			depth--
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return len(p.src)
}

func (c *intrinsicCall) eval(input, ctxObj any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch a.kind {
		case argLiteral:
			args[i] = a.value
			if str, ok := a.value.(string); ok {
				if c.name == "States.Format" && i == 0 {
					args[i] = formatTemplate(str)
				} else {
					args[i] = unescapeBraces(str)
				}
			}
		case argPath:
			v, ok := a.path.eval(input, ctxObj)
			if !ok {
				return nil, fmt.Errorf("the JSONPath %s in %s argument %d could not be found in the input", a.path.raw, c.name, i+1)
			}
			args[i] = v
		case argCall:
			v, err := a.call.eval(input, ctxObj)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
	}
	v, err := c.fn.eval(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.name, err)
	}
	return v, nil
}

func unescapeBraces(s string) string {
	return strings.NewReplacer(`\{`, "{", `\}`, "}").Replace(s)
}

// formatTemplate is a literal States.Format template that still carries its
// \{ and \} escapes, so escaped braces are not taken as placeholders.
type formatTemplate string

func fnFormat(a []any) (any, error) {
	var tmpl string
	escapes := false
	switch t := a[0].(type) {
	case formatTemplate:
		tmpl, escapes = string(t), true
	case string:
		tmpl = t
	default:
		return nil, fmt.Errorf("argument 1 must be a string")
	}
	var sb strings.Builder
	n := 1
	for i := 0; i < len(tmpl); i++ {
		if escapes && tmpl[i] == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '{' || tmpl[i+1] == '}') {
			sb.WriteByte(tmpl[i+1])
			i++
			continue
		}
		if tmpl[i] == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
			if n >= len(a) {
				return nil, fmt.Errorf("the number of arguments does not match the number of {} placeholders")
			}
			switch v := a[n].(type) {
			case string:
				sb.WriteString(v)
			case json.Number, bool, nil, float64:
				sb.WriteString(toJSONString(v))
			default:
				return nil, fmt.Errorf("argument %d must be a string, number, boolean or null", n+1)
			}
			n++
			i++
			continue
		}
		sb.WriteByte(tmpl[i])
	}
	if n != len(a) {
		return nil, fmt.Errorf("the number of arguments does not match the number of {} placeholders")
	}
	return sb.String(), nil
}

func strArg(a []any, i int) (string, error) {
	s, ok := a[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string", i+1)
	}
	return s, nil
}

func arrArg(a []any, i int) ([]any, error) {
	s, ok := a[i].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %d must be an array", i+1)
	}
	return s, nil
}

func numArg(a []any, i int) (float64, error) {
	f, ok := toFloat(a[i])
	if !ok {
		return 0, fmt.Errorf("argument %d must be a number", i+1)
	}
	return f, nil
}

func intArg(a []any, i int) (int64, error) {
	f, err := numArg(a, i)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("argument %d must be an integer", i+1)
	}
	return int64(f), nil
}

// roundArg is an integer argument that AWS rounds to the nearest integer
// when it is not one (States.MathAdd, States.MathRandom, States.ArrayRange,
// States.ArrayPartition); halves round up, as Java's Math.round does.
func roundArg(a []any, i int) (int64, error) {
	f, err := numArg(a, i)
	if err != nil {
		return 0, err
	}
	r := math.Floor(f + 0.5)
	if math.Abs(r) > 1<<53 {
		return 0, fmt.Errorf("argument %d is out of range, got %s", i+1, toJSONString(a[i]))
	}
	return int64(r), nil
}

func num(i int64) json.Number { return json.Number(fmt.Sprint(i)) }

func fnStringToJSON(a []any) (any, error) {
	s, err := strArg(a, 0)
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("argument is not valid JSON: %v", err)
	}
	return v, nil
}

func fnArrayPartition(a []any) (any, error) {
	arr, err := arrArg(a, 0)
	if err != nil {
		return nil, err
	}
	size, err := roundArg(a, 1)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("argument 2 must be a positive integer")
	}
	out := []any{}
	for i := 0; i < len(arr); i += int(size) {
		end := min(i+int(size), len(arr))
		out = append(out, append([]any{}, arr[i:end]...))
	}
	return out, nil
}

func fnArrayContains(a []any) (any, error) {
	arr, err := arrArg(a, 0)
	if err != nil {
		return nil, err
	}
	for _, v := range arr {
		if jsonEqual(v, a[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(a []any) (any, error) {
	start, err := roundArg(a, 0)
	if err != nil {
		return nil, err
	}
	end, err := roundArg(a, 1)
	if err != nil {
		return nil, err
	}
	step, err := roundArg(a, 2)
	if err != nil || step == 0 {
		return nil, fmt.Errorf("argument 3 must be a non-zero integer")
	}
	out := []any{}
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if len(out) == 1000 {
			return nil, fmt.Errorf("the result cannot contain more than 1000 items")
		}
		out = append(out, num(v))
	}
	return out, nil
}

func fnArrayGetItem(a []any) (any, error) {
	arr, err := arrArg(a, 0)
	if err != nil {
		return nil, err
	}
	idx, err := intArg(a, 1)
	if err != nil {
		return nil, err
	}
	if idx < 0 || idx >= int64(len(arr)) {
		return nil, fmt.Errorf("index %d out of bounds for array of length %d", idx, len(arr))
	}
	return arr[idx], nil
}

func fnArrayLength(a []any) (any, error) {
	arr, err := arrArg(a, 0)
	if err != nil {
		return nil, err
	}
	return num(int64(len(arr))), nil
}

// fnArrayUnique keeps the first of equal items: one map lookup per item
// (comparing every pair took over 40 s for 40,000 items).
func fnArrayUnique(a []any) (any, error) {
	arr, err := arrArg(a, 0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	seen := make(map[string]bool, len(arr))
	var key strings.Builder
	for _, v := range arr {
		key.Reset()
		writeJSONKey(&key, v)
		if !seen[key.String()] {
			seen[key.String()] = true
			out = append(out, v)
		}
	}
	return out, nil
}

func fnBase64Encode(a []any) (any, error) {
	s, err := strArg(a, 0)
	if err != nil {
		return nil, err
	}
	if len(s) > 10000 {
		return nil, fmt.Errorf("input exceeds 10000 characters")
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(a []any) (any, error) {
	s, err := strArg(a, 0)
	if err != nil {
		return nil, err
	}
	if len(s) > 10000 {
		return nil, fmt.Errorf("input exceeds 10000 characters")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %v", err)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("decoded data is not valid UTF-8")
	}
	return string(b), nil
}

func fnHash(a []any) (any, error) {
	algo, err := strArg(a, 1)
	if err != nil {
		return nil, err
	}
	var data string
	if s, ok := a[0].(string); ok {
		data = s
	} else {
		data = toJSONString(a[0])
	}
	var h hash.Hash
	switch algo {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported hash algorithm %q (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", algo)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(a []any) (any, error) {
	l, ok1 := a[0].(map[string]any)
	r, ok2 := a[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("arguments 1 and 2 must be objects")
	}
	if deep, ok := a[2].(bool); !ok || deep {
		return nil, fmt.Errorf("argument 3 must be false (deep merge is not supported by AWS)")
	}
	out := make(map[string]any, len(l)+len(r))
	for k, v := range l {
		out[k] = v
	}
	for k, v := range r {
		out[k] = v
	}
	return out, nil
}

func fnMathRandom(a []any) (any, error) {
	lo, err := roundArg(a, 0)
	if err != nil {
		return nil, err
	}
	hi, err := roundArg(a, 1)
	if err != nil {
		return nil, err
	}
	if hi <= lo {
		return nil, fmt.Errorf("argument 2 must be greater than argument 1")
	}
	n, err := rand.Int(rand.Reader, big.NewInt(hi-lo))
	if err != nil {
		return nil, err
	}
	return num(lo + n.Int64()), nil
}

// fnMathAdd adds two 32-bit integers (the range AWS documents); the sum
// itself may leave that range.
func fnMathAdd(a []any) (any, error) {
	var sum int64
	for i := range a {
		x, err := roundArg(a, i)
		if err != nil {
			return nil, err
		}
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("argument %d must be an integer from -2147483648 to 2147483647, got %s", i+1, toJSONString(a[i]))
		}
		sum += x
	}
	return num(sum), nil
}

func fnStringSplit(a []any) (any, error) {
	s, err := strArg(a, 0)
	if err != nil {
		return nil, err
	}
	sep, err := strArg(a, 1)
	if err != nil {
		return nil, err
	}
	// Every character of the delimiter string is a delimiter; empty tokens
	// are dropped (AWS behaviour).
	out := []any{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
		out = append(out, f)
	}
	return out, nil
}

func fnUUID(a []any) (any, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// writeJSONKey writes a canonical form of a JSON value: two values have the
// same key exactly when jsonEqual holds (numbers by value, -0 as 0, objects
// with sorted keys).
func writeJSONKey(sb *strings.Builder, v any) {
	if f, ok := toFloat(v); ok {
		if f == 0 {
			f = 0 // -0
		}
		sb.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	switch x := v.(type) {
	case map[string]any:
		sb.WriteByte('{')
		for _, k := range slices.Sorted(maps.Keys(x)) {
			sb.WriteString(strconv.Quote(k))
			sb.WriteByte(':')
			writeJSONKey(sb, x[k])
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for _, item := range x {
			writeJSONKey(sb, item)
			sb.WriteByte(',')
		}
		sb.WriteByte(']')
	case string:
		sb.WriteString(strconv.Quote(x))
	case json.Number: // beyond float64: equal only to the same text
		sb.WriteString("N" + string(x))
	default: // bool, nil
		fmt.Fprintf(sb, "%v", x)
	}
}

// jsonEqual compares two generic JSON values; numbers compare numerically.
func jsonEqual(a, b any) bool {
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka || okb {
		return oka && okb && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
