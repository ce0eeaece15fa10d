package iamcheck

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

var env = Env{Account: "123456789012", Region: "eu-west-1"}

func template(t *testing.T, js string) Template {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		t.Fatal(err)
	}
	tpl, err := NewTemplate("Test", raw)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

const roleTemplate = `{"Resources": {
  "Bucket": {"Type": "AWS::S3::Bucket"},
  "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "named-bucket"}},
  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Join": ["", ["/x/", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]}}},
  "Def": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Family": "fam"}},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
      "Principal": {"Service": "ecs-tasks.amazonaws.com"},
      "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
    "Policies": [{"PolicyName": "Inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/in/*"]]}},
      {"Sid": "Run", "Effect": "Allow", "Action": "ecs:RunTask", "Resource": {"Ref": "Def"},
       "Condition": {"ArnEquals": {"ecs:cluster": {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/c"}}}}
    ]}}]}},
  "Attached": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "P", "Roles": [{"Ref": "Role"}],
    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": {"Fn::GetAtt": ["Logs", "Arn"]}}]}}},
  "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]}}}
}}`

func TestResolveGivesTheNamesADeployWould(t *testing.T) {
	tpl := template(t, roleTemplate)
	for _, tc := range []struct {
		in   string
		want any
	}{
		{`{"Ref": "Bucket"}`, "test-bucket"},
		{`{"Fn::GetAtt": ["Named", "Arn"]}`, "arn:aws:s3:::named-bucket"},
		{`{"Fn::GetAtt": "Role.Arn"}`, "arn:aws:iam::123456789012:role/Test-Role"},
		{`{"Ref": "Def"}`, "arn:aws:ecs:eu-west-1:123456789012:task-definition/fam:1"},
		{`{"Fn::GetAtt": ["Logs", "Arn"]}`, "arn:aws:logs:eu-west-1:123456789012:log-group:/x/00000000-0000-4000-8000-000000000000:*"},
		{`{"Fn::Sub": ["${A}-${!Literal}-${AWS::Region}-${Named.Arn}", {"A": {"Ref": "AWS::AccountId"}}]}`, "123456789012-${Literal}-eu-west-1-arn:aws:s3:::named-bucket"},
		{`{"Fn::GetAtt": ["Key", "Arn"]}`, "arn:aws:kms:eu-west-1:123456789012:key/key-key"},
		{`["a", {"Ref": "AWS::NoValue"}, "b"]`, []any{"a", "b"}},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
			t.Fatal(err)
		}
		got, err := env.Resolve(tpl, v)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if g, w := mustJSON(t, got), mustJSON(t, tc.want); g != w {
			t.Errorf("%s = %s, want %s", tc.in, g, w)
		}
	}
	// Nothing is guessed: an unknown reference or function is an error.
	for _, in := range []string{`{"Ref": "Missing"}`, `{"Fn::GetAtt": ["Bucket", "Nope"]}`, `{"Fn::ImportValue": "x"}`, `{"Fn::If": ["c", "a", "b"]}`} {
		var v any
		_ = json.Unmarshal([]byte(in), &v)
		if _, err := env.Resolve(tpl, v); err == nil {
			t.Errorf("%s resolved", in)
		}
	}
}

func TestPoliciesFindsEveryDocument(t *testing.T) {
	ps, err := env.Policies(template(t, roleTemplate))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, string(p.Kind)+" "+p.ID+" "+p.Owner+" "+strings.Join(p.Self, ","))
	}
	want := []string{
		"identity Test/Attached Role ",
		"resource Test/Key Key arn:aws:kms:eu-west-1:123456789012:key/key-key",
		"trust Test/Role/trust Role arn:aws:iam::123456789012:role/Test-Role",
		"identity Test/Role/Inline Role ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("policies\n got %q\nwant %q", got, want)
	}
	if n := Statements(ps); n != 5 {
		t.Errorf("%d statements, want 5", n)
	}
	// A policy document in a resource type the check does not read is an
	// error, not a silent gap.
	_, err = env.Policies(template(t, `{"Resources": {"Q": {"Type": "AWS::Logs::ResourcePolicy", "Properties": {"Doc": {"Statement": []}}}}}`))
	if err == nil || !strings.Contains(err.Error(), "does not read") {
		t.Errorf("unknown policy holder: %v", err)
	}
}

// run checks the cases, or skips without node where EDGE_DROP_SKIP_NODE=1.
func run(t *testing.T, cases []Case) []Result {
	t.Helper()
	results, err := Run(context.Background(), cases)
	if errors.Is(err, ErrNoNode) && os.Getenv("EDGE_DROP_SKIP_NODE") == "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func TestCheckFindsWhatTheIAMDataRules(t *testing.T) {
	doc := func(sts ...string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(`{"Version": "2012-10-17", "Statement": [`+strings.Join(sts, ",")+`]}`), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	c := Case{Name: "bad", Policies: []Policy{
		{ID: "ok", Kind: Identity, Owner: "R", Document: doc(
			`{"Effect": "Allow", "Action": ["ecs:DescribeTasks", "ecs:StopTask"], "Resource": "arn:aws:ecs:eu-west-1:123456789012:task/c/*", "Condition": {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/c"}}}`,
			`{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}`,
			`{"Effect": "Allow", "Action": "s3:PutBucketNotification", "Resource": "*"}`)},
		{ID: "bad", Kind: Identity, Owner: "R", Document: doc(
			`{"Effect": "Allow", "Action": "ecs:RunTusk", "Resource": "*"}`,
			`{"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "arn:aws:ecs:eu-west-1:123456789012:cluster/c"}`,
			`{"Effect": "Allow", "Action": "ecs:TagResource", "Resource": "arn:aws:ecs:eu-west-1:123456789012:task/c/*", "Condition": {"StringEquals": {"ecs:cluster": "x"}}}`,
			`{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "arn:aws:s3:::b"}`,
			`{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}`)},
		{ID: "key", Kind: Resource, Owner: "K", Self: []string{"arn:aws:kms:eu-west-1:123456789012:key/k"}, Document: doc(
			`{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*"}`)},
	}, Exempt: []Exempt{{Owner: "R", Action: "s3:PutBucketNotification", Reason: "test"}}}
	r := run(t, []Case{c})[0]
	if r.Statements != 9 {
		t.Errorf("%d statements, want 9", r.Statements)
	}
	want := []string{"ecs:RunTusk: no such action", "ecs:RunTask on arn:aws:ecs:eu-west-1:123456789012:cluster/c", "condition key ecs:cluster does not apply to ecs:TagResource",
		`xray:PutTraceSegments on arn:aws:s3:::b: the action takes only "*"`, "s3:GetObject on *"}
	if len(r.Findings) != len(want) {
		t.Errorf("findings:\n%s", strings.Join(r.Findings, "\n"))
	}
	for _, w := range want {
		if !slices.ContainsFunc(r.Findings, func(f string) bool { return strings.HasPrefix(f, "bad statement") && strings.Contains(f, w) }) {
			t.Errorf("no finding %q in\n%s", w, strings.Join(r.Findings, "\n"))
		}
	}
}

func TestRequestsAreSimulatedAndJudged(t *testing.T) {
	tpl := template(t, roleTemplate)
	ps, err := env.Policies(tpl)
	if err != nil {
		t.Fatal(err)
	}
	role, _ := env.RoleArn(tpl, "Role")
	identity := []string{"Test/Role/Inline", "Test/Attached"}
	cluster := env.ARN("ecs", "cluster/c")
	c := Case{Name: "role", Policies: ps, Requests: []Request{
		{Name: "read", Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::test-bucket/in/a.txt", Identity: identity, Allowed: true},
		{Name: "read outside", Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::test-bucket/out/a.txt", Identity: identity},
		{Name: "run", Principal: role, Action: "ecs:RunTask", Resource: env.ARN("ecs", "task-definition/fam:1"), Identity: identity,
			Context: map[string]any{"ecs:cluster": cluster}, Allowed: true},
		{Name: "run elsewhere", Principal: role, Action: "ecs:RunTask", Resource: env.ARN("ecs", "task-definition/fam:1"), Identity: identity,
			Context: map[string]any{"ecs:cluster": env.ARN("ecs", "cluster/other")}},
		{Name: "assume", Principal: "ecs-tasks.amazonaws.com", Action: "sts:AssumeRole", Resource: role, ResourcePolicy: "Test/Role/trust",
			Context: map[string]any{"aws:SourceAccount": "123456789012"}, Allowed: true},
		{Name: "publish with a key", Principal: "cloudwatch.amazonaws.com", Action: "kms:GenerateDataKey",
			Resource: "arn:aws:kms:eu-west-1:123456789012:key/key-key", ResourcePolicy: "Test/Key", Allowed: true},
		// A wrong expectation, a key that does not apply and a policy that
		// does not exist are each a problem.
		{Name: "wrong expectation", Principal: role, Action: "logs:PutLogEvents", Resource: env.ARN("logs", "log-group:/x/00000000-0000-4000-8000-000000000000:log-stream:s"), Identity: identity},
		{Name: "key that does not apply", Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::test-bucket/in/a.txt", Identity: identity,
			Context: map[string]any{"ecs:cluster": cluster}, Allowed: true},
		{Name: "no such policy", Principal: role, Action: "s3:GetObject", Resource: "arn:aws:s3:::test-bucket/in/a.txt", Identity: []string{"nope"}},
	}}
	for i := range c.Requests {
		c.Requests[i].ResourceAccount = env.Account
	}
	// So is a policy no request is simulated against.
	c.Policies = append(c.Policies, Policy{ID: "unused", Kind: Identity, Owner: "Other", Document: map[string]any{"Version": "2012-10-17", "Statement": []any{}}})
	r := run(t, []Case{c})[0]
	problems := c.Problems(r)
	want := []string{`request "wrong expectation"`, `request "key that does not apply": ecs:cluster do not apply`, `request "no such policy": the simulator refused it`,
		"policy unused: no request"}
	if len(problems) != len(want) {
		t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
	}
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("no problem %q in\n%s", w, strings.Join(problems, "\n"))
		}
	}
	if a, d := c.Counts(); a != 5 || d != 4 {
		t.Errorf("counts %d allowed, %d denied", a, d)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
