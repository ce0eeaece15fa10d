package config

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// value is a Setting's Config field: how a context value sets it, and the
// rules its value must meet.
type value interface {
	// set reads s (a context value as text) into c; the rule s breaks, or "".
	set(c *Config, s string) (rule string)
	// check returns the field's value in c and every rule it breaks.
	check(c Config) (got any, rules []string)
}

// field is a value of type T: ptr points at it in a Config, parse reads a
// context value (or says what it must be), and each check returns the rule
// a value breaks, or "".
type field[T any] struct {
	ptr    func(*Config) *T
	parse  func(s string) (T, string)
	checks []func(T) string
	// keepEmpty: "" leaves the value as it was (the default).
	keepEmpty bool
}

func (f field[T]) set(c *Config, s string) string {
	if f.keepEmpty && s == "" {
		return ""
	}
	v, rule := f.parse(s)
	if rule == "" {
		*f.ptr(c) = v
	}
	return rule
}

func (f field[T]) check(c Config) (any, []string) {
	v := *f.ptr(&c)
	var rules []string
	for _, check := range f.checks {
		if rule := check(v); rule != "" {
			rules = append(rules, rule)
		}
	}
	return v, rules
}

// contextString is a context value as text: -c gives strings, cdk.json
// JSON values, and a whole JSON number (a float64) is written out in
// digits, where fmt writes 1e+06 from a million up.
func contextString(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// The kinds of field.

func text(ptr func(*Config) *string, checks ...func(string) string) field[string] {
	return field[string]{ptr: ptr, parse: func(s string) (string, string) { return s, "" }, checks: checks}
}

func number(ptr func(*Config) *int, checks ...func(int) string) field[int] {
	return field[int]{ptr: ptr, checks: checks, parse: func(s string) (int, string) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, "must be a whole number"
		}
		return n, ""
	}}
}

// duration reads a Go duration, or the word off (any case; "" = none) as
// 0; rule is what a value that is neither must be.
func duration(ptr func(*Config) *time.Duration, rule, off string, checks ...func(time.Duration) string) field[time.Duration] {
	return field[time.Duration]{ptr: ptr, checks: checks, parse: func(s string) (time.Duration, string) {
		if d, err := time.ParseDuration(s); err == nil {
			return d, ""
		}
		if off != "" && strings.EqualFold(s, off) {
			return 0, ""
		}
		return 0, rule
	}}
}

func boolean(ptr func(*Config) *bool, rule string) field[bool] {
	return field[bool]{ptr: ptr, parse: func(s string) (bool, string) {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, rule
		}
		return b, ""
	}}
}

// choice is one of allowed, in any case; "" keeps the default.
func choice[T ~string](ptr func(*Config) *T, rule string, allowed ...T) field[T] {
	return field[T]{ptr: ptr, keepEmpty: true,
		parse: func(s string) (T, string) { return T(strings.ToLower(s)), "" },
		checks: []func(T) string{func(v T) string {
			if slices.Contains(allowed, v) {
				return ""
			}
			return rule
		}}}
}

// parsed reads a value with parse, whose error is the rule.
func parsed[T any](ptr func(*Config) *T, parse func(string) (T, error)) field[T] {
	return field[T]{ptr: ptr, parse: func(s string) (T, string) {
		v, err := parse(s)
		if err != nil {
			return v, err.Error()
		}
		return v, ""
	}}
}

// The shapes of rules.

// optional applies check to values other than the zero value ("", 0:
// unset, off).
func optional[T comparable](check func(T) string) func(T) string {
	return func(v T) string {
		var zero T
		if v == zero {
			return ""
		}
		return check(v)
	}
}

func matching(re *regexp.Regexp, rule string) func(string) string {
	return func(s string) string {
		if !re.MatchString(s) {
			return rule
		}
		return ""
	}
}

func within[T cmp.Ordered](lo, hi T, rule string) func(T) string {
	return func(v T) string {
		if v < lo || v > hi {
			return rule
		}
		return ""
	}
}

// whole: a duration from lo to hi in whole units.
func whole(unit, lo, hi time.Duration, rule string) func(time.Duration) string {
	return func(d time.Duration) string {
		if d < lo || d > hi || d%unit != 0 {
			return rule
		}
		return ""
	}
}

func oneOf[T comparable](allowed ...T) func(T) string {
	return func(v T) string {
		if slices.Contains(allowed, v) {
			return ""
		}
		return fmt.Sprintf("must be one of %v", allowed)
	}
}

// inEventKeys: a key filter or pattern only ever sees keys as S3 events
// encode them, so a character no encoded key holds could never match.
// escapes: `\` escapes a '*' (StringMatches, EventBridge wildcard).
func inEventKeys(escapes bool) func(string) string {
	return func(s string) string {
		i := strings.IndexFunc(s, func(r rune) bool { return !inEventKey(r) && !(escapes && r == '\\') })
		if i < 0 {
			return ""
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("holds %q, which no S3 event key carries: events URL-encode keys (a space is '+', other characters %%XX, e.g. red+flower.jpg, caf%%C3%%A9.txt), so it could never match; write it encoded", r)
	}
}

// inEventKey reports whether r can appear in an object key as S3 events
// (and so the rule and the Choice state) see it: letters, digits, the
// characters S3 leaves unencoded, '+' (a space) and '%' (of %XX).
func inEventKey(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".-*_/+%", r)
}
