package asl

import (
	"encoding/json"
	"os"
	"testing"
)

// TestStringMatchesSharedTable runs StringMatches against the table the
// task's sync mode is tested against too, so that both keep the keys the
// same way.
func TestStringMatchesSharedTable(t *testing.T) {
	b, err := os.ReadFile("../../contract/testdata/stringmatches.json")
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
	if len(doc.Cases) == 0 {
		t.Fatal("empty table")
	}
	for _, c := range doc.Cases {
		if got := wildcardMatch(c.Pattern, c.Input); got != c.Match {
			t.Errorf("StringMatches(%q, %q) = %v, want %v", c.Pattern, c.Input, got, c.Match)
		}
	}
}
