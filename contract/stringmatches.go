package contract

import "strings"

// StringMatches is Step Functions' StringMatches, the key filter of the
// pipeline's Choice state: '*' matches any run of characters ('/'
// included, also none), "\*" is a literal asterisk and "\\" a literal
// backslash; every other character, '?' and a lone backslash included, is
// itself. The one implementation: the local interpreter's Choice rule and
// the task's sync filter both run it, so a sync keeps exactly the keys an
// Object Created event would deliver. Pinned by testdata/stringmatches.json.
func StringMatches(pattern, s string) bool { return CompilePattern(pattern).Match(s) }

// Pattern is a compiled StringMatches pattern, for matching many strings
// (a sync checks every key of the bucket).
type Pattern struct {
	// lits are the literal runs between the wildcards; a pattern with n
	// wildcards has n+1 runs (possibly empty).
	lits []string
}

// CompilePattern parses p; every string is a valid pattern.
func CompilePattern(p string) Pattern {
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
// literal run is enough with '*' the only wildcard: no backtracking, and no
// allocation.
func (p Pattern) Match(s string) bool {
	if len(p.lits) == 0 { // the zero Pattern: as CompilePattern("")
		return s == ""
	}
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

// Regexp is the pattern as an anchored regular expression in the syntax
// RE2 and JavaScript share (JSONata's regex literals): the literal runs
// quoted, each wildcard [\s\S]* (any run, newlines included). '/' is
// escaped too, so the result can stand between a JSONata regex's slashes.
func (p Pattern) Regexp() string {
	if len(p.lits) == 0 {
		return "^$"
	}
	quoted := make([]string, len(p.lits))
	for i, lit := range p.lits {
		quoted[i] = strings.ReplaceAll(regexpQuote(lit), "/", `\/`)
	}
	return "^" + strings.Join(quoted, `[\s\S]*`) + "$"
}

// regexpQuote escapes the characters special in RE2 and JavaScript regular
// expressions (regexp.QuoteMeta's set; this module imports nothing).
func regexpQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\.+*?()|[]{}^$`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
