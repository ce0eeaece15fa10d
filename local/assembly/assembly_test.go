package assembly

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T) *Assembly {
	t.Helper()
	a, err := Load("testdata/asm", "eu-west-1", "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestResolvesReferencesAcrossStacks(t *testing.T) {
	a := load(t)
	sms, err := a.StateMachines()
	if err != nil {
		t.Fatal(err)
	}
	sm, ok := sms["arn:aws:states:eu-west-1:111122223333:stateMachine:SM"]
	if !ok {
		t.Fatalf("state machines %v", sms)
	}
	var def map[string]string
	if err := json.Unmarshal(sm.Definition, &def); err != nil {
		t.Fatalf("%v: %s", err, sm.Definition)
	}
	want := map[string]string{
		"Cluster":  "arn:aws:ecs:eu-west-1:111122223333:cluster/boards", // Fn::GetStackOutput → GetAtt Arn
		"Imported": "boards",                                            // Fn::ImportValue → Ref
		"Part":     "b",                                                 // Fn::Select of Fn::Split
		"Res":      "arn:aws:states:::ecs:runTask.sync",                 // AWS::Partition
	}
	for k, v := range want {
		if def[k] != v {
			t.Errorf("%s = %q, want %q", k, def[k], v)
		}
	}
}

func TestBucketsRulesAndTaskDefinitions(t *testing.T) {
	a := load(t)
	buckets, err := a.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 || buckets[0] != "b-drop" {
		t.Errorf("buckets %v, want only the drop bucket (the log bucket receives no uploads)", buckets)
	}

	rules, err := a.Rules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 {
		t.Fatalf("want the enabled rule's state machine target only, got %+v", rules)
	}
	r := rules[0]
	if r.Name != "Rule" || r.InputPath != "$.detail" || !strings.HasSuffix(r.StateMachineARN, ":stateMachine:SM") {
		t.Errorf("rule %+v", r)
	}
	if string(r.Pattern) != `{"detail":{"bucket":{"name":["b-drop"]}},"source":["aws.s3"]}` {
		t.Errorf("pattern %s", r.Pattern)
	}

	tds, err := a.TaskDefinitions()
	if err != nil {
		t.Fatal(err)
	}
	td, ok := tds["dl"]
	if !ok || tds["arn:aws:ecs:eu-west-1:111122223333:task-definition/dl:1"].Family != "dl" {
		t.Fatalf("task definitions by family and ARN: %v", tds)
	}
	c := td.Containers[0]
	if c.Name != "download" || c.User != "65532:65532" || c.MemoryMiB != 128 || !c.Essential {
		t.Errorf("container %+v", c)
	}
	if c.Environment["DIR"] != "/data" || c.Environment["WHERE"] != "eu-west-1/b-drop" {
		t.Errorf("environment %v", c.Environment)
	}
	if td.HostPaths["data"] != "/data" || len(c.MountPoints) != 1 || c.MountPoints[0].ContainerPath != "/data" {
		t.Errorf("volumes %v, mounts %v", td.HostPaths, c.MountPoints)
	}
}

func TestUnsupportedAndBrokenInputsAreClearErrors(t *testing.T) {
	if _, err := Load(t.TempDir(), "r", "a"); err == nil || !strings.Contains(err.Error(), "no cloud assembly") {
		t.Errorf("empty dir: %v", err)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("manifest.json", `{"artifacts":{"S":{"type":"aws:cloudformation:stack","properties":{"templateFile":"S.json"}}}}`)
	write("S.json", `{"Resources":{"SM":{"Type":"AWS::StepFunctions::StateMachine","Properties":{"DefinitionString":{"Fn::Base64":"x"}}},
		"R":{"Type":"AWS::Events::Rule","Properties":{"EventPattern":{"source":[{"Ref":"Missing"}]},"Targets":[]}}}}`)
	a, err := Load(dir, "r", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StateMachines(); err == nil || !strings.Contains(err.Error(), "does not support the CloudFormation function Fn::Base64") {
		t.Errorf("unsupported function: %v", err)
	}
	if _, err := a.Rules(); err == nil || !strings.Contains(err.Error(), `Ref to unknown "Missing"`) {
		t.Errorf("dangling Ref: %v", err)
	}
	write("S.json", `{"Resources":{}}`)
	a, _ = Load(dir, "r", "a")
	if _, err := a.Rules(); err != errNoPipeline {
		t.Errorf("no rules: %v", err)
	}
}

func TestSchedules(t *testing.T) {
	scheds, err := load(t).Schedules()
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by logical ID; the disabled one is left out; the pattern rule is no schedule.
	if len(scheds) != 2 {
		t.Fatalf("schedules %+v, want Every6h and Nightly", scheds)
	}
	sm := "arn:aws:states:eu-west-1:111122223333:stateMachine:SM"
	if s := scheds[0]; s.Name != "Every6h" || s.Expression != "rate(6 hours)" || s.Every != 6*time.Hour || s.StateMachineARN != sm || s.Input != "{}" || s.Pattern != nil {
		t.Errorf("schedule %+v", s)
	}
	if s := scheds[1]; s.Name != "Nightly" || s.Every != 0 || s.Expression != "cron(0 3 * * ? *)" {
		t.Errorf("schedule %+v", s)
	}
}

func TestParseRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(15 minutes)": 15 * time.Minute, "rate(6 hours)": 6 * time.Hour, "rate(7 days)": 7 * 24 * time.Hour} {
		if got, err := ParseRate(expr); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{"", "rate(0 hours)", "rate(-1 hours)", "rate(6 weeks)", "rate(6hours)", "rate(6 hours", "cron(0 3 * * ? *)", "rate(x hours)"} {
		if _, err := ParseRate(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseRate(%q) = %v, want a one-line error", bad, err)
		}
	}
}

// Fn::Sub as CloudFormation renders it: ${!Literal} is the text ${Literal},
// ${Name} a Ref, ${Id.Attr} a GetAtt, ${Var} the variable map's value.
func TestSubRendersLiteralsVariablesAndReferences(t *testing.T) {
	a := load(t)
	r := resolver{a: a, stack: &stack{name: "S", params: map[string]any{"Env": "prod"}}}
	for _, tc := range []struct {
		arg  any
		want string
	}{
		{"arn:${AWS::Partition}:s3:::b", "arn:aws:s3:::b"},
		{"${!Literal} and ${!AWS::Region}", "${Literal} and ${AWS::Region}"},
		{"${Env}-${!Env}", "prod-${Env}"},
		{[]any{"${X}/${AWS::AccountId}", map[string]any{"X": "x"}}, "x/111122223333"},
	} {
		got, err := r.sub(tc.arg)
		if err != nil || got != tc.want {
			t.Errorf("Fn::Sub %v = %q, %v; want %q", tc.arg, got, err, tc.want)
		}
	}
}

func TestBucketDomainNames(t *testing.T) {
	a := load(t)
	attrs := resourceKinds["AWS::S3::Bucket"].attrs
	if got, want := attrs["DomainName"](a, "b"), "b.s3.amazonaws.com"; got != want {
		t.Errorf("DomainName = %q, want %q", got, want)
	}
	if got, want := attrs["RegionalDomainName"](a, "b"), "b.s3.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("RegionalDomainName = %q, want %q", got, want)
	}
}
