package stacks

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
)

// synth builds the app the way `cdk synth` does: cdk.json's context (feature
// flags and defaults) plus overrides, then config validation, then Build.
func synth(t *testing.T, overrides map[string]any) (*App, config.Config) {
	t.Helper()
	ctx, err := CDKJSONContext("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(ctx, overrides)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	cfg, err := config.FromContext(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
	if err != nil {
		t.Fatal(err)
	}
	built := Build(app, cfg, "..")
	app.Synth(nil)
	return built, cfg
}

// resources returns the template's resources of one type, by logical ID.
func resources(t *testing.T, tpl assertions.Template, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range *tpl.FindResources(jsii.String(typ), nil) {
		out[id] = *r
	}
	return out
}

// only returns the single resource of a type, failing otherwise.
func only(t *testing.T, tpl assertions.Template, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(t, tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r["Properties"].(map[string]any)
	}
	panic("unreachable")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
