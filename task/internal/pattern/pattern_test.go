package pattern

import (
	"encoding/json"
	"os"
	"testing"
)

// The table shared with the local state machine interpreter.
const table = "../../../contract/testdata/stringmatches.json"

func TestSharedTable(t *testing.T) {
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Pattern string `json:"pattern"`
			Input   string `json:"input"`
			Match   bool   `json:"match"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 20 {
		t.Fatalf("only %d cases in %s", len(doc.Cases), table)
	}
	for _, c := range doc.Cases {
		if got := Matches(c.Pattern, c.Input); got != c.Match {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.Pattern, c.Input, got, c.Match)
		}
	}
}

// A suffix literal must not reuse bytes a middle literal consumed.
func TestNoOverlap(t *testing.T) {
	if Matches("*ab*ba", "aba") {
		t.Error(`"*ab*ba" matched "aba"`)
	}
	if !Matches("*ab*ba", "abba") {
		t.Error(`"*ab*ba" did not match "abba"`)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p := Compile("demo*/x*.txt")
	if n := testing.AllocsPerRun(100, func() { p.Match("demo-1/sub/x-42.txt") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}
