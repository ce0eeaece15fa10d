package contract

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// StringMatchesCase is one row of testdata/stringmatches.json.
type stringMatchesCase struct {
	Pattern, Input string
	Match          bool
}

func stringMatchesTable(t *testing.T) []stringMatchesCase {
	t.Helper()
	b, err := os.ReadFile("testdata/stringmatches.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []stringMatchesCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 20 {
		t.Fatalf("only %d cases", len(doc.Cases))
	}
	return doc.Cases
}

func TestStringMatchesSharedTable(t *testing.T) {
	for _, c := range stringMatchesTable(t) {
		if got := StringMatches(c.Pattern, c.Input); got != c.Match {
			t.Errorf("StringMatches(%q, %q) = %v, want %v", c.Pattern, c.Input, got, c.Match)
		}
		if got := CompilePattern(c.Pattern).Match(c.Input); got != c.Match {
			t.Errorf("CompilePattern(%q).Match(%q) = %v, want %v", c.Pattern, c.Input, got, c.Match)
		}
	}
}

// A suffix literal must not reuse bytes a middle literal consumed.
func TestStringMatchesNoOverlap(t *testing.T) {
	if StringMatches("*ab*ba", "aba") {
		t.Error(`"*ab*ba" matched "aba"`)
	}
	if !StringMatches("*ab*ba", "abba") {
		t.Error(`"*ab*ba" did not match "abba"`)
	}
}

func TestZeroPatternIsTheEmptyPattern(t *testing.T) {
	var p Pattern
	if !p.Match("") || p.Match("a") {
		t.Error("the zero Pattern must match only the empty string, as CompilePattern(\"\")")
	}
}

func TestPatternMatchDoesNotAllocate(t *testing.T) {
	p := CompilePattern("demo*/x*.txt")
	if n := testing.AllocsPerRun(100, func() { p.Match("demo-1/sub/x-42.txt") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

// The regular expression agrees with StringMatches on every case of the
// shared table.
func TestPatternRegexpAgreesWithStringMatches(t *testing.T) {
	for _, c := range stringMatchesTable(t) {
		re := regexp.MustCompile(CompilePattern(c.Pattern).Regexp())
		if got := re.MatchString(c.Input); got != c.Match {
			t.Errorf("pattern %q (regexp %s) on %q: %v, want %v", c.Pattern, CompilePattern(c.Pattern).Regexp(), c.Input, got, c.Match)
		}
	}
}
