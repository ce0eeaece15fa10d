package config

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
)

func TestLiteralPrefixReadsThePatternAsStringMatches(t *testing.T) {
	for pattern, want := range map[string]string{
		"demo*.txt": "demo", "*": "", "*.txt": "", "exact.txt": "exact.txt", "to/*": "to/",
		`a\*b*`: "a*b", `a\\*`: `a\`, `a\b*`: `a\b`, `a\`: `a\`, "q3+reports/r*": "q3+reports/r",
	} {
		if got := LiteralPrefix(pattern); got != want {
			t.Errorf("LiteralPrefix(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestDecodeEventKeyPrefix(t *testing.T) {
	for encoded, want := range map[string]string{
		"q3+reports/": "q3 reports/", "caf%C3%A9/": "café/", "%2Fx": "/x", "dt%3D2018/": "dt=2018/",
		// Cut off: an escape, a UTF-8 sequence, a '%' that no event key holds.
		"caf%C3": "caf", "a%2": "a", "a%": "a", "100%zz/": "100",
		// IAM reads '*' and '?' as wildcards and "${" as a variable.
		"a*b": "a", "what%3F/": "what", "cost%24%7Bx%7D": "cost", "": "",
	} {
		if got := DecodeEventKeyPrefix(encoded); got != want {
			t.Errorf("DecodeEventKeyPrefix(%q) = %q, want %q", encoded, got, want)
		}
	}
}

// Whatever start of an encoded key is decoded, the result starts the key.
func TestDecodedPrefixesStartTheKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab/ +%*?$=.-_~é😀\\")
	for range 2000 {
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		key := b.String()
		enc := contract.EventKey(key)
		for i := 0; i <= len(enc); i++ {
			if p := DecodeEventKeyPrefix(enc[:i]); !strings.HasPrefix(key, p) {
				t.Fatalf("key %q, encoded %q: prefix %q decodes to %q, which does not start the key", key, enc, enc[:i], p)
			}
		}
		if got := DecodeEventKeyPrefix(enc); !strings.ContainsAny(key, "*?$") && got != key {
			t.Fatalf("key %q, encoded %q: decodes to %q", key, enc, got)
		}
	}
}

func TestReadAndListPrefixes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ctx        map[string]any
		read, list string
	}{
		{"default", nil, "demo", "demo"},
		{"any key", map[string]any{KeyKeyPattern: "*"}, "", ""},
		{"rule prefix and pattern", map[string]any{KeyRuleKeyPrefix: "q3+reports/", KeyKeyPattern: "q3+reports/r*.csv"}, "q3 reports/r", "q3 reports/r"},
		{"rule prefix narrower", map[string]any{KeyRuleKeyPrefix: "demo/in/"}, "demo/in/", "demo/in/"},
		{"wildcard", map[string]any{KeyRuleKeyWildcard: "in/*/x.csv", KeyKeyPattern: "*"}, "in/", "in/"},
		{"escaped star", map[string]any{KeyKeyPattern: `a\*b*`}, "a", "a"},
		// Routing: each board's sync lists its own route.
		{"routed", map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "to/*"}, "to/", "to/"},
		{"routed, any pattern", map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "*"}, "to/", "to/"},
		{"routed to one board", map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "to/shop-1/*.txt"}, "to/shop-1/", "to/"},
		{"routed, rule prefix", map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "to/*", KeyRuleKeyPrefix: "to/shop-1/"}, "to/shop-1/", "to/shop-1/"},
	} {
		c, err := FromContext(lookupFrom(tc.ctx))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := c.ReadPrefix(); got != tc.read {
			t.Errorf("%s: ReadPrefix %q, want %q", tc.name, got, tc.read)
		}
		if got := c.ListPrefix(); got != tc.list {
			t.Errorf("%s: ListPrefix %q, want %q", tc.name, got, tc.list)
		}
	}
}

// Filters of which neither starts the other deliver nothing: a config
// error naming both.
func TestPrefixesThatExcludeEachOtherAreAnError(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]any
		want string
	}{
		{map[string]any{KeyRuleKeyPrefix: "q3+reports/", KeyKeyPattern: "report*.csv"},
			`"keyPattern" = "report*.csv" matches no key that ruleKeyPrefix=q3+reports/ matches (every delivered key would start with both "q3 reports/" and "report")`},
		{map[string]any{KeyRuleKeyWildcard: "in/*"}, `"ruleKeyWildcard" = "in/*" matches no key that keyPattern=demo*.txt matches`},
		{map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "*", KeyRuleKeyPrefix: "from/"}, `"routePrefix" = "to/" matches no key that ruleKeyPrefix=from/ matches`},
	} {
		_, err := FromContext(lookupFrom(tc.ctx))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: got %v, want one line with %s", tc.ctx, err, tc.want)
		}
	}
}
