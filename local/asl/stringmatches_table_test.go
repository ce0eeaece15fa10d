package asl_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// A Choice state's StringMatches decides as the contract's table says (the
// task's sync filter runs the same implementation, contract.StringMatches).
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
		pattern, _ := json.Marshal(c.Pattern)
		def := fmt.Sprintf(`{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$.s","StringMatches":%s,"Next":"Yes"}],"Default":"No"},
			"Yes":{"Type":"Pass","Result":true,"End":true},"No":{"Type":"Pass","Result":false,"End":true}}}`, pattern)
		e := asltest.MustParse(t, def).Execute(t.Context(), map[string]any{"s": c.Input}, Options{})
		if e.Status != StatusSucceeded || e.Output != c.Match {
			t.Errorf("StringMatches %q on %q: %s %v, want %v", c.Pattern, c.Input, e.Status, e.Output, c.Match)
		}
	}
}
