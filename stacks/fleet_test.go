package stacks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
)

// fleetPipeline synthesizes the pipeline stack with fleet settings.
func fleetPipeline(t *testing.T, name string, overrides map[string]any) assertions.Template {
	t.Helper()
	return assertions.Template_FromStack(synthCached(t, name, overrides).Pipeline.Stack, nil)
}

// Fleet definitions the local ASL interpreter's tests run: a group target
// and a routed one. Their copies in local/statemachine/testdata must match
// what synth renders (account, region and generated names aside).
var fleetTestdata = []struct {
	file      string
	overrides map[string]any
}{
	{"fleet-group.asl.json", map[string]any{config.KeyDeliverTo: "group:site1"}},
	{"fleet-routed.asl.json", map[string]any{config.KeyRoutePrefix: "to/"}},
}

// normalizeASL replaces what differs by account and generated names (the
// cluster ARN, the task definition ARN) with placeholders.
func normalizeASL(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Cluster":
				x[k] = "<cluster>"
			case "TaskDefinition":
				x[k] = "<task definition>"
			case "Resource":
				x[k] = strings.ReplaceAll(e.(string), "${AWS::Partition}", "aws")
			default:
				x[k] = normalizeASL(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeASL(e)
		}
	}
	return v
}

func TestFleetTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	for _, td := range fleetTestdata {
		def := normalizeASL(asl(t, fleetPipeline(t, td.file, td.overrides)))
		want := indentJSON(t, def)
		path := "../local/statemachine/testdata/" + td.file
		if os.Getenv("EDGE_DROP_UPDATE_TESTDATA") == "1" {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var copyDef any
		if err := json.Unmarshal(raw, &copyDef); err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(t, copyDef); got != want {
			t.Errorf("%s drifted from the synthesized definition: regenerate it with EDGE_DROP_UPDATE_TESTDATA=1 go test ./stacks -run TestFleetTestdata\n--- copy\n%s\n--- synthesized\n%s", path, got, want)
		}
	}
}

// indentJSON is v as indented JSON, '<' and '>' as they are.
func indentJSON(t *testing.T, v any) string {
	t.Helper()
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}
