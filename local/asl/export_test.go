package asl

// Internals the external tests (package asl_test, helpers_test.go) check
// directly.

const MaxCauseChars = maxCauseChars

var (
	ToFloat            = toFloat
	IsInteger          = isInteger
	Num                = num
	FnArrayUnique      = fnArrayUnique
	DotNamesToBrackets = dotNamesToBrackets
)

// ParseIntrinsic parses an intrinsic function call; what it returns
// evaluates the call on an input and a context object.
func ParseIntrinsic(expr string) (func(input, ctxObj any) (any, error), error) {
	c, err := parseIntrinsic(expr)
	if err != nil {
		return nil, err
	}
	return c.eval, nil
}

// CompilePath compiles a JSONPath; what it returns selects from a
// document (false: nothing).
func CompilePath(raw string) (func(doc any) (any, bool), error) {
	p, err := compilePath(raw)
	if err != nil {
		return nil, err
	}
	return func(doc any) (any, bool) { return p.eval(doc, nil) }, nil
}

// IssueToken issues a token for a pending task, as a Task state's attempt
// does; closeToken ends its life.
func IssueToken(t *TaskTokens) (token string, closeToken func()) {
	p := t.issue()
	return p.token, func() { t.close(p) }
}
