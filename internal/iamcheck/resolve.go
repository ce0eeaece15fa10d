// Package iamcheck checks the IAM policies of synthesized CloudFormation
// templates against AWS's own data, with @cloud-copilot's IAM packages
// (npm, pinned in package.json): every statement against the Service
// Authorization Reference (the action exists, each resource is of a type
// the action takes, each condition key applies), and requests simulated
// against the policies that decide them, each expected to be allowed or
// denied.
//
// The templates are first resolved to concrete JSON in a fixed account and
// region (Resolve): the policies' Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
// Fn::Select and Fn::Split become the ARNs a deploy would produce.
package iamcheck

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Env is where the templates are resolved: one account, one region, the
// aws partition.
type Env struct {
	Account, Region string
}

// Template is one stack's synthesized template.
type Template struct {
	StackName string
	Resources map[string]map[string]any
}

// NewTemplate takes a template as CDK's assertions (Template.ToJSON) or a
// template file decodes it.
func NewTemplate(stackName string, tpl map[string]any) (Template, error) {
	out := Template{StackName: stackName, Resources: map[string]map[string]any{}}
	resources, ok := tpl["Resources"].(map[string]any)
	if !ok {
		return out, fmt.Errorf("stack %s: the template has no Resources", stackName)
	}
	for id, r := range resources {
		res, ok := r.(map[string]any)
		if !ok {
			return out, fmt.Errorf("stack %s: resource %s is not an object", stackName, id)
		}
		out.Resources[id] = res
	}
	return out, nil
}

// Resolve evaluates every intrinsic function in v. An intrinsic it does not
// know, or a Ref to something that is not in the template, is an error
// naming it: a policy is never checked with a guessed value.
func (e Env) Resolve(tpl Template, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return e.intrinsic(tpl, fn, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := e.Resolve(tpl, x[k])
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			r, err := e.Resolve(tpl, item)
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

// noValue is AWS::NoValue: the property or list item is dropped.
type noValueType struct{}

var noValue = noValueType{}

// String resolves v and requires a string.
func (e Env) String(tpl Template, v any) (string, error) {
	r, err := e.Resolve(tpl, v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("stack %s: want a string, got %v", tpl.StackName, r)
	}
	return s, nil
}

func (e Env) intrinsic(tpl Template, fn string, arg any) (any, error) {
	bad := func() (any, error) { return nil, fmt.Errorf("stack %s: malformed %s %v", tpl.StackName, fn, arg) }
	pair := func() ([]any, bool) {
		a, ok := arg.([]any)
		return a, ok && len(a) == 2
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return bad()
		}
		if name == "AWS::NoValue" {
			return noValue, nil
		}
		return e.Attr(tpl, name, "Ref")
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case []any:
			if len(a) != 2 {
				return bad()
			}
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		case string: // "Logical.Attr"
			id, attr, _ = strings.Cut(a, ".")
		}
		if id == "" || attr == "" {
			return bad()
		}
		return e.Attr(tpl, id, attr)
	case "Fn::Join":
		a, ok := pair()
		if !ok {
			return bad()
		}
		sep, _ := a[0].(string)
		list, err := e.Resolve(tpl, a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return bad()
		}
		parts := make([]string, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return bad()
			}
			parts[i] = s
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		a, ok := pair()
		if !ok {
			return bad()
		}
		idx, err := e.Resolve(tpl, a[0])
		if err != nil {
			return nil, err
		}
		list, err := e.Resolve(tpl, a[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		i, err := strconv.Atoi(fmt.Sprint(idx))
		if err != nil || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("stack %s: Fn::Select index %v out of range of %v", tpl.StackName, idx, list)
		}
		return items[i], nil
	case "Fn::Split":
		a, ok := pair()
		if !ok {
			return bad()
		}
		sep, _ := a[0].(string)
		s, err := e.String(tpl, a[1])
		if err != nil || sep == "" {
			return bad()
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Sub":
		text, vars := "", map[string]any{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return bad()
			}
			text, _ = a[0].(string)
			vars, _ = a[1].(map[string]any)
		default:
			return bad()
		}
		return e.sub(tpl, text, vars)
	}
	return nil, fmt.Errorf("stack %s: %s is not resolved here (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split are)", tpl.StackName, fn)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub is Fn::Sub: ${Var} from vars, a pseudo parameter, a Ref or a
// Logical.Attr; ${!Literal} is written as ${Literal}.
func (e Env) sub(tpl Template, text string, vars map[string]any) (string, error) {
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var (
			s   string
			err error
		)
		switch v, ok := vars[name]; {
		case ok:
			s, err = e.String(tpl, v)
		case strings.Contains(name, "."):
			id, attr, _ := strings.Cut(name, ".")
			s, err = e.Attr(tpl, id, attr)
		default:
			s, err = e.Attr(tpl, name, "Ref")
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	})
	return out, firstErr
}

// Partition is the one partition templates are resolved in.
const Partition = "aws"

// Attr is what Ref ("Ref") or Fn::GetAtt (any other attr) of a pseudo
// parameter or a resource gives after a deploy: the name set in the
// template, else one made from the stack name and the logical ID, as
// CloudFormation makes them.
func (e Env) Attr(tpl Template, id, attr string) (string, error) {
	if attr == "Ref" {
		switch id {
		case "AWS::AccountId":
			return e.Account, nil
		case "AWS::Region":
			return e.Region, nil
		case "AWS::Partition":
			return Partition, nil
		case "AWS::URLSuffix":
			return "amazonaws.com", nil
		case "AWS::StackName":
			return tpl.StackName, nil
		case "AWS::StackId":
			return e.ARN("cloudformation", "stack/"+tpl.StackName+"/00000000-0000-4000-8000-000000000000"), nil
		}
	}
	res, ok := tpl.Resources[id]
	if !ok {
		return "", fmt.Errorf("stack %s: %s.%s: no such resource or pseudo parameter", tpl.StackName, id, attr)
	}
	props, _ := res["Properties"].(map[string]any)
	name := func(prop, generated string) (string, error) {
		if v, ok := props[prop]; ok {
			return e.String(tpl, v)
		}
		return generated, nil
	}
	generated := tpl.StackName + "-" + id
	typ, _ := res["Type"].(string)
	var (
		n   string
		err error
	)
	attrs := map[string]func() string{}
	switch typ {
	case "AWS::S3::Bucket":
		n, err = name("BucketName", bucketName(generated))
		attrs = map[string]func() string{
			"Ref": func() string { return n }, "Arn": func() string { return "arn:aws:s3:::" + n },
			"DomainName":         func() string { return n + ".s3.amazonaws.com" },
			"RegionalDomainName": func() string { return n + ".s3." + e.Region + ".amazonaws.com" },
		}
	case "AWS::IAM::Role":
		n, err = name("RoleName", truncate(generated, 64))
		attrs = map[string]func() string{
			"Ref": func() string { return n }, "Arn": func() string { return "arn:aws:iam::" + e.Account + ":role/" + n },
		}
	case "AWS::IAM::ManagedPolicy":
		n, err = name("ManagedPolicyName", truncate(generated, 128))
		attrs = map[string]func() string{"Ref": func() string { return "arn:aws:iam::" + e.Account + ":policy/" + n }}
	case "AWS::ECS::Cluster":
		n, err = name("ClusterName", generated)
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": func() string { return e.ARN("ecs", "cluster/"+n) }}
	case "AWS::ECS::TaskDefinition":
		// The first revision of the family: what the stack's first deploy
		// registers.
		n, err = name("Family", strings.ReplaceAll(generated, "-", ""))
		arn := func() string { return e.ARN("ecs", "task-definition/"+n+":1") }
		attrs = map[string]func() string{"Ref": arn, "TaskDefinitionArn": arn}
	case "AWS::StepFunctions::StateMachine":
		n, err = name("StateMachineName", id)
		arn := func() string { return e.ARN("states", "stateMachine:"+n) }
		attrs = map[string]func() string{"Ref": arn, "Arn": arn, "Name": func() string { return n }}
	case "AWS::DynamoDB::Table":
		n, err = name("TableName", generated)
		arn := func() string { return e.ARN("dynamodb", "table/"+n) }
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": arn}
	case "AWS::SQS::Queue":
		n, err = name("QueueName", generated)
		url := func() string { return "https://sqs." + e.Region + ".amazonaws.com/" + e.Account + "/" + n }
		attrs = map[string]func() string{"Ref": url, "QueueUrl": url, "Arn": func() string { return e.ARN("sqs", n) }, "QueueName": func() string { return n }}
	case "AWS::SNS::Topic":
		n, err = name("TopicName", generated)
		arn := func() string { return e.ARN("sns", n) }
		attrs = map[string]func() string{"Ref": arn, "TopicArn": arn, "TopicName": func() string { return n }}
	case "AWS::KMS::Key":
		n = "key-" + strings.ToLower(id) // a key id is assigned, never named
		attrs = map[string]func() string{"Ref": func() string { return n }, "KeyId": func() string { return n }, "Arn": func() string { return e.ARN("kms", "key/"+n) }}
	case "AWS::Logs::LogGroup":
		n, err = name("LogGroupName", generated)
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": func() string { return e.ARN("logs", "log-group:"+n+":*") }}
	case "AWS::Events::Rule":
		n, err = name("Name", truncate(generated, 64))
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": func() string { return e.ARN("events", "rule/"+n) }}
	case "AWS::CloudWatch::Alarm":
		n, err = name("AlarmName", generated)
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": func() string { return e.ARN("cloudwatch", "alarm:"+n) }}
	case "AWS::Lambda::Function":
		n, err = name("FunctionName", truncate(generated, 64))
		attrs = map[string]func() string{"Ref": func() string { return n }, "Arn": func() string { return e.ARN("lambda", "function:"+n) }}
	}
	if err != nil {
		return "", fmt.Errorf("stack %s: the name of %s: %w", tpl.StackName, id, err)
	}
	if f, ok := attrs[attr]; ok {
		return f(), nil
	}
	return "", fmt.Errorf("stack %s: %s.%s (%s) is not resolved here", tpl.StackName, id, attr, typ)
}

// ARN is an ARN of service in e's account and region.
func (e Env) ARN(service, resource string) string {
	return "arn:" + Partition + ":" + service + ":" + e.Region + ":" + e.Account + ":" + resource
}

var nonBucketChars = regexp.MustCompile(`[^a-z0-9-]+`)

// bucketName makes a generated name a valid bucket name.
func bucketName(generated string) string {
	return truncate(strings.Trim(nonBucketChars.ReplaceAllString(strings.ToLower(generated), "-"), "-"), 63)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
