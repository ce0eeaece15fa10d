package stacks

import (
	"encoding/json"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

// synth builds the app the way `cdk synth` does: cdk.json's context (feature
// flags) plus overrides, then config validation, then Build.
func synth(t *testing.T, overrides map[string]any) (*App, config.Config) {
	t.Helper()
	return synthWith(t, overrides, nil)
}

// synthWith is synth with prepare applied to the app before it is built
// (nil: nothing), e.g. stack tags.
func synthWith(t *testing.T, overrides map[string]any, prepare func(awscdk.App)) (*App, config.Config) {
	t.Helper()
	ctx, err := config.CDKJSONContext("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(ctx, overrides)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir(t))})
	cfg, err := configOf(app)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(app)
	}
	built, err := Build(app, cfg, "..")
	if err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	return built, cfg
}

// configOf reads and checks app's configuration as cdkapp.ConfigFrom does
// (which this package cannot import: cdkapp imports stacks), less its
// check for misspelt keys: config's rules, then CheckLimits.
func configOf(app awscdk.App) (config.Config, error) {
	cfg, err := config.FromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return cfg, err
	}
	return cfg, CheckLimits(cfg)
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

// render flattens a CloudFormation string expression (Fn::Join, Ref,
// Fn::GetAtt, Fn::GetStackOutput) into text with ${...} placeholders, so
// rendered JSON such as an ASL definition can be parsed and checked.
func render(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case []any: // a condition's list of values
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(t, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok {
			var sb strings.Builder
			for i, part := range j[1].([]any) {
				if i > 0 {
					sb.WriteString(j[0].(string))
				}
				sb.WriteString(render(t, part))
			}
			return sb.String()
		}
		if r, ok := x["Ref"].(string); ok {
			return "${" + r + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok {
			return "${" + g[0].(string) + "." + g[1].(string) + "}"
		}
		if o, ok := x["Fn::GetStackOutput"].(map[string]any); ok {
			return "${" + o["StackName"].(string) + ":" + o["OutputName"].(string) + "}"
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			return sub
		}
		if imp, ok := x["Fn::ImportValue"]; ok {
			return "${Import:" + render(t, imp) + "}"
		}
	}
	t.Fatalf("cannot render %s", mustJSON(t, v))
	return ""
}

// asl returns the pipeline state machine's definition as parsed JSON.
func asl(t *testing.T, tpl assertions.Template) map[string]any {
	t.Helper()
	return aslOf(t, tpl, "Pipeline")
}

func templateOf(stack awscdk.Stack) assertions.Template {
	return assertions.Template_FromStack(stack, nil)
}

// onlyOf returns the single resource of a type in a construct
// ("Pipeline", "Sync": the logical ID starts with it), failing otherwise.
func onlyOf(t *testing.T, tpl assertions.Template, typ, construct string) (string, map[string]any) {
	t.Helper()
	var id string
	var props map[string]any
	for rid, r := range resources(t, tpl, typ) {
		if strings.HasPrefix(rid, construct) {
			if props != nil {
				t.Fatalf("two %s in %s: %s and %s", typ, construct, id, rid)
			}
			id, props = rid, r["Properties"].(map[string]any)
		}
	}
	if props == nil {
		t.Fatalf("no %s in %s", typ, construct)
	}
	return id, props
}

// withRenderedResources is statements with each Resource rendered
// ("${Bucket.Arn}/*").
func withRenderedResources(t *testing.T, sts []map[string]any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(sts))
	for i, st := range sts {
		out[i] = maps.Clone(st)
		out[i]["Resource"] = render(t, st["Resource"])
	}
	return out
}

// aslOf returns the definition of the state machine of a construct
// ("Pipeline", "Sync") as parsed JSON.
func aslOf(t *testing.T, tpl assertions.Template, construct string) map[string]any {
	t.Helper()
	_, props := onlyOf(t, tpl, "AWS::StepFunctions::StateMachine", construct)
	var def map[string]any
	text := render(t, props["DefinitionString"])
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("definition is not JSON: %v\n%s", err, text)
	}
	return def
}

// get walks a JSON value: keys for objects, ints for arrays.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("path %v: %q on non-object %s", path, k, mustJSON(t, v))
			}
			v, ok = m[k]
			if !ok {
				t.Fatalf("path %v: no key %q in %s", path, k, mustJSON(t, m))
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("path %v: index %d on %s", path, k, mustJSON(t, v))
			}
			v = a[k]
		}
	}
	return v
}

// equalJSON compares after a JSON round trip (numbers become float64).
func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	var g, w any
	_ = json.Unmarshal([]byte(mustJSON(t, got)), &g)
	_ = json.Unmarshal([]byte(mustJSON(t, want)), &w)
	if mustJSON(t, g) != mustJSON(t, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, mustJSON(t, g), mustJSON(t, w))
	}
}

// statements returns every IAM policy statement in the template (inline
// policies of roles and AWS::IAM::Policy documents), by "${RoleLogicalID}".
func statements(t *testing.T, tpl assertions.Template) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for id, r := range resources(t, tpl, "AWS::IAM::Role") {
		policies, _ := r["Properties"].(map[string]any)["Policies"].([]any)
		for _, p := range policies {
			for _, s := range get(t, p, "PolicyDocument", "Statement").([]any) {
				out["${"+id+"}"] = append(out["${"+id+"}"], s.(map[string]any))
			}
		}
	}
	for _, r := range resources(t, tpl, "AWS::IAM::Policy") {
		doc := get(t, r, "Properties", "PolicyDocument").(map[string]any)
		roles := r["Properties"].(map[string]any)["Roles"].([]any)
		owner := render(t, roles[0])
		for _, s := range doc["Statement"].([]any) {
			out[owner] = append(out[owner], s.(map[string]any))
		}
	}
	return out
}

// envOf returns a container definition's environment as a map.
func envOf(t *testing.T, container any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, kv := range get(t, container, "Environment").([]any) {
		out[kv.(map[string]any)["Name"].(string)] = kv.(map[string]any)["Value"]
	}
	return out
}

// list turns a string-or-list IAM field into a list.
func list(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

// outdir is a cloud-assembly directory that outlives the test that made
// it: templates synthesized once are read again by later tests. TestMain
// removes them all.
func outdir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(outRoot, "assembly")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var outRoot string

func TestMain(m *testing.M) {
	cdktest.Main(func() int {
		var err error
		if outRoot, err = os.MkdirTemp("", "edge-drop-stacks"); err != nil {
			panic(err)
		}
		defer os.RemoveAll(outRoot)
		return m.Run()
	})
}
