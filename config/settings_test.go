package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md's table from Settings")

// TestDocsTableIsSettings keeps docs/configuration.md's table equal to
// Markdown(), i.e. to Settings: every key, its default and its doc.
// `go test ./config -update` rewrites it.
func TestDocsTableIsSettings(t *testing.T) {
	const doc = "../docs/configuration.md"
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "| key | default | allowed / meaning |\n")
	if start < 0 {
		t.Fatal("docs/configuration.md has no settings table (| key | default | allowed / meaning |)")
	}
	end := strings.Index(text[start:], "\n\n")
	if end < 0 {
		t.Fatal("the settings table does not end with a blank line")
	}
	got, want := text[start:start+end+1], Markdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(doc, []byte(text[:start]+want+text[start+end+1:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/configuration.md's table differs from Settings; run `go test ./config -update`.\nwant:\n%s", want)
}

// Every key is defined once: no two settings share a key, and each has a
// doc; every default reads (Default() would panic otherwise) and is valid.
func TestSettingsAreWhole(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.Key] || s.Doc == "" || s.field == nil {
			t.Errorf("%q: twice, or without a doc or a field", s.Key)
		}
		seen[s.Key] = true
		if s.Default != "" && s.Unset != "" {
			t.Errorf("%q has a default and says what happens when unset", s.Key)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// A JSON number in cdk.json reads as its digits for every key, not as
// fmt's exponent form (1e+06).
func TestWholeJSONNumbersReadAsDigits(t *testing.T) {
	c, err := FromContext(lookupFrom(map[string]any{KeyTaskUser: float64(1_000_000)}))
	if err != nil || c.TaskUser != "1000000" {
		t.Fatalf("taskUser 1000000 from cdk.json: got %q, %v", c.TaskUser, err)
	}
}
