package ecstask

import (
	"fmt"
	"strings"
	"unicode"
)

// The subset of ECS's cluster query language that the state machines use
// (ListContainerInstances filters, memberOf placement constraints):
//
//	expr   = term { ("or" | "||") term }
//	term   = factor { ("and" | "&&") factor }
//	factor = "(" expr ")" | "attribute:" NAME ("==" VALUE | "!=" VALUE | "exists" | "!exists")
//	       | "ec2InstanceId" "==" VALUE
//
// Anything else (other operators, not, in, =~, other subjects) is refused
// with an error naming the unsupported part, so a definition that relies on
// more never silently matches the wrong boards.

// instance is what a query sees of a container instance.
type instance interface {
	attribute(name string) (value string, ok bool)
	ec2InstanceID() string
}

// query is a parsed cluster query expression.
type query interface {
	match(instance) bool
}

type (
	orQuery   []query
	andQuery  []query
	attrQuery struct {
		name, op, value string
	}
	ec2Query string
)

func (q orQuery) match(i instance) bool {
	for _, s := range q {
		if s.match(i) {
			return true
		}
	}
	return false
}

func (q andQuery) match(i instance) bool {
	for _, s := range q {
		if !s.match(i) {
			return false
		}
	}
	return true
}

func (q attrQuery) match(i instance) bool {
	v, ok := i.attribute(q.name)
	switch q.op {
	case "==":
		return ok && v == q.value
	case "!=":
		return !ok || v != q.value
	case "exists":
		return ok
	default: // "!exists"
		return !ok
	}
}

func (q ec2Query) match(i instance) bool { return i.ec2InstanceID() == string(q) }

// parseQuery parses expr; the error says which part is not supported.
func parseQuery(expr string) (query, error) {
	toks := tokenize(expr)
	if len(toks) == 0 {
		return nil, fmt.Errorf("the expression is empty")
	}
	p := &queryParser{toks: toks}
	q, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.toks[p.pos], p.pos+1)
	}
	return q, nil
}

// tokenize splits on white space and around parentheses.
func tokenize(s string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			flush()
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

type queryParser struct {
	toks []string
	pos  int
}

func (p *queryParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *queryParser) next() string {
	t := p.peek()
	if t != "" {
		p.pos++
	}
	return t
}

func (p *queryParser) or() (query, error) {
	qs, err := p.list(p.and, "or", "||")
	switch {
	case err != nil:
		return nil, err
	case len(qs) == 1:
		return qs[0], nil
	}
	return orQuery(qs), nil
}

func (p *queryParser) and() (query, error) {
	qs, err := p.list(p.factor, "and", "&&")
	switch {
	case err != nil:
		return nil, err
	case len(qs) == 1:
		return qs[0], nil
	}
	return andQuery(qs), nil
}

// list parses one or more operands joined by either spelling of one
// operator.
func (p *queryParser) list(operand func() (query, error), op, symbol string) ([]query, error) {
	q, err := operand()
	if err != nil {
		return nil, err
	}
	qs := []query{q}
	for t := p.peek(); t == op || t == symbol; t = p.peek() {
		p.next()
		q, err := operand()
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

func (p *queryParser) factor() (query, error) {
	t := p.next()
	switch {
	case t == "":
		return nil, fmt.Errorf("the expression ends where a condition was expected")
	case t == "(":
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c != ")" {
			return nil, fmt.Errorf("missing ')' (found %q)", c)
		}
		return q, nil
	case strings.HasPrefix(t, "attribute:"):
		name := strings.TrimPrefix(t, "attribute:")
		if !validToken(name) {
			return nil, fmt.Errorf("attribute name %q is not supported", name)
		}
		switch op := p.next(); op {
		case "exists", "!exists":
			return attrQuery{name: name, op: op}, nil
		case "==", "!=":
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			return attrQuery{name: name, op: op, value: v}, nil
		case "":
			return nil, fmt.Errorf("attribute:%s has no operator", name)
		default:
			return nil, fmt.Errorf("operator %q is not supported (the local run knows ==, !=, exists, !exists)", op)
		}
	case t == "ec2InstanceId":
		if op := p.next(); op != "==" {
			return nil, fmt.Errorf("operator %q after ec2InstanceId is not supported (the local run knows ==)", op)
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return ec2Query(v), nil
	default:
		return nil, fmt.Errorf("%q is not supported (the local run knows attribute:<name>, ec2InstanceId, and, or, parentheses)", t)
	}
}

func (p *queryParser) value() (string, error) {
	v := p.next()
	if v == "" || v == "(" || v == ")" {
		return "", fmt.Errorf("a value is missing after the operator")
	}
	if !validToken(v) {
		return "", fmt.Errorf("value %q is not supported (letters, digits and - _ . / : @ only)", v)
	}
	return v, nil
}

// validToken: the characters ECS allows in attribute names and values,
// minus the space (values are unquoted in this subset).
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:@", r))) {
			return false
		}
	}
	return true
}
