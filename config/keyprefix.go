package config

import (
	"strings"
	"unicode/utf8"
)

// The task role's key scope. A key is delivered only if it starts with
// ruleKeyPrefix (the rule filters it), matches keyPattern (the Choice
// state) and ruleKeyWildcard (the rule), and with routing by key starts
// with routePrefix: so it starts with the literal start of each, and with
// the longest of them. The task reads under that prefix only.

// ReadPrefix is the raw key prefix every delivered key starts with: the
// narrowest of ruleKeyPrefix, the literal start of keyPattern and of
// ruleKeyWildcard (the part before the first '*', "\*" and "\\" unescaped
// as StringMatches reads them), each decoded from S3's event-key encoding
// as IAM names keys (contract.EventKey: '+' a space, %XX a byte), and
// routePrefix. "" is the whole bucket. Validate has checked that the four
// agree (each a prefix of the longest).
func (c Config) ReadPrefix() string {
	return longest(c.prefixes()...)
}

// ListPrefix is the listing scope (s3:prefix) of the task and the prefix a
// sync lists: ReadPrefix, except with routing by key, where each board's
// sync lists its own route <routePrefix><board>/ and keyPattern narrows
// nothing the sync lists: there it is the narrower of ruleKeyPrefix and
// routePrefix. Always a prefix of ReadPrefix.
func (c Config) ListPrefix() string {
	if c.RoutePrefix != "" {
		return longest(c.ObjectKeyPrefix(), c.RoutePrefix)
	}
	return c.ReadPrefix()
}

// prefixes are the raw key prefixes that apply, in the order of the keys
// that set them.
func (c Config) prefixes() []string {
	return []string{
		c.ObjectKeyPrefix(),
		DecodeEventKeyPrefix(LiteralPrefix(c.KeyPattern)),
		DecodeEventKeyPrefix(LiteralPrefix(c.RuleKeyWildcard)),
		c.RoutePrefix,
	}
}

// longest is the longest of prefixes (they agree: each is a prefix of it).
func longest(prefixes ...string) string {
	out := ""
	for _, p := range prefixes {
		if len(p) > len(out) {
			out = p
		}
	}
	return out
}

// LiteralPrefix is the start of a StringMatches pattern (or an EventBridge
// wildcard) before its first wildcard '*', with "\*" read as '*' and "\\"
// as '\' (contract.StringMatches, contract/testdata/stringmatches.json); a
// pattern without a wildcard is all literal.
func LiteralPrefix(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '\\'):
			b.WriteByte(pattern[i+1])
			i++
		case c == '*':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// DecodeEventKeyPrefix turns the start of a key as S3 events encode it
// (contract.EventKey) into the start of the key as S3 stores it and IAM
// names it: '+' is a space and %XX a byte. What cannot be decoded yet is
// dropped: an escape cut off at the end ("a%2"), a UTF-8 sequence cut off
// ("caf%C3"), or a '%' without two hex digits (which no event key holds).
// So is everything from the first character IAM reads as a wildcard or a
// policy variable ('*', '?', '$'): the result is a literal prefix of every
// key whose encoded form starts with p.
func DecodeEventKeyPrefix(p string) string {
	var b []byte
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return iamLiteral(b)
			}
			b = append(b, unhex(p[i+1])<<4|unhex(p[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return iamLiteral(b)
}

// iamLiteral is b up to its first IAM wildcard or variable character and
// without a UTF-8 sequence cut off at its end.
func iamLiteral(b []byte) string {
	if i := strings.IndexAny(string(b), "*?$"); i >= 0 {
		b = b[:i]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
