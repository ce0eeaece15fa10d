// Package pattern implements Step Functions' StringMatches, the key filter
// of the pipeline's Choice state, so that a sync keeps exactly the keys an
// Object Created event would deliver: '*' matches any run of characters
// ('/' included, also none), "\*" is a literal asterisk and "\\" a literal
// backslash; every other character, '?' and a lone backslash included, is
// itself. The semantics are pinned by contract/testdata/stringmatches.json,
// which the local state machine interpreter is tested against too.
package pattern

import "strings"

// Pattern is a compiled StringMatches pattern.
type Pattern struct {
	// lits are the literal runs between the wildcards; a pattern with n
	// wildcards has n+1 runs (possibly empty).
	lits []string
}

// Compile parses p; every string is a valid pattern.
func Compile(p string) Pattern {
	var lits []string
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
			b.WriteByte(p[i+1])
			i++
		case c == '*':
			lits = append(lits, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return Pattern{lits: append(lits, b.String())}
}

// Match reports whether the whole of s matches. Leftmost matching of each
// literal run is enough for patterns with '*' as the only wildcard, so
// there is no backtracking and no allocation.
func (p Pattern) Match(s string) bool {
	first, last := p.lits[0], p.lits[len(p.lits)-1]
	if len(p.lits) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, lit := range p.lits[1 : len(p.lits)-1] {
		i := strings.Index(s, lit)
		if i < 0 {
			return false
		}
		s = s[i+len(lit):]
	}
	return strings.HasSuffix(s, last)
}

// Matches compiles p and matches s.
func Matches(p, s string) bool { return Compile(p).Match(s) }
