package contract

import "strings"

// StringMatches is Step Functions' StringMatches, the key filter of the
// pipeline's Choice state: '*' matches any run of characters ('/'
// included, also none), "\*" is a literal asterisk and "\\" a literal
// backslash; every other character is itself. Pinned by
// testdata/stringmatches.json (the task's and the interpreter's tables).
func StringMatches(pattern, s string) bool {
	var lits []string
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '\\'):
			b.WriteByte(pattern[i+1])
			i++
		case c == '*':
			lits = append(lits, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	lits = append(lits, b.String())
	first, last := lits[0], lits[len(lits)-1]
	if len(lits) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	// Leftmost matching of each middle run is enough with '*' the only
	// wildcard: no backtracking.
	for _, lit := range lits[1 : len(lits)-1] {
		i := strings.Index(s, lit)
		if i < 0 {
			return false
		}
		s = s[i+len(lit):]
	}
	return strings.HasSuffix(s, last)
}
