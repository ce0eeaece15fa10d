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
	"errors"
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

// errMalformed is a handler's word that its intrinsic's argument has the
// wrong shape; intrinsic names the function and the argument.
var errMalformed = errors.New("malformed")

// intrinsic evaluates one intrinsic function, each by a method of its own
// (as text/template walks each node kind by its own).
func (e Env) intrinsic(tpl Template, fn string, arg any) (any, error) {
	var eval func(Template, any) (any, error)
	switch fn {
	case "Ref":
		eval = e.ref
	case "Fn::GetAtt":
		eval = e.getAtt
	case "Fn::Join":
		eval = e.join
	case "Fn::Select":
		eval = e.selectItem
	case "Fn::Split":
		eval = e.split
	case "Fn::Sub":
		eval = e.sub
	default:
		return nil, fmt.Errorf("stack %s: %s is not resolved here (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split are)", tpl.StackName, fn)
	}
	v, err := eval(tpl, arg)
	if errors.Is(err, errMalformed) {
		return nil, fmt.Errorf("stack %s: malformed %s %v", tpl.StackName, fn, arg)
	}
	return v, err
}

// pair is the argument of a function that takes two.
func pair(arg any) ([]any, bool) {
	a, ok := arg.([]any)
	return a, ok && len(a) == 2
}

// ref is Ref: a pseudo parameter, a resource, or AWS::NoValue.
func (e Env) ref(tpl Template, arg any) (any, error) {
	name, ok := arg.(string)
	if !ok {
		return nil, errMalformed
	}
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	return e.Attr(tpl, name, "Ref")
}

// getAtt is Fn::GetAtt, as [id, attr] or "id.attr".
func (e Env) getAtt(tpl Template, arg any) (any, error) {
	var id, attr string
	switch a := arg.(type) {
	case []any:
		if len(a) != 2 {
			return nil, errMalformed
		}
		id, _ = a[0].(string)
		attr, _ = a[1].(string)
	case string: // "Logical.Attr"
		id, attr, _ = strings.Cut(a, ".")
	}
	if id == "" || attr == "" {
		return nil, errMalformed
	}
	return e.Attr(tpl, id, attr)
}

// join is Fn::Join: [separator, list of strings].
func (e Env) join(tpl Template, arg any) (any, error) {
	a, ok := pair(arg)
	if !ok {
		return nil, errMalformed
	}
	sep, _ := a[0].(string)
	list, err := e.Resolve(tpl, a[1])
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return nil, errMalformed
	}
	parts := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, errMalformed
		}
		parts[i] = s
	}
	return strings.Join(parts, sep), nil
}

// selectItem is Fn::Select: [index, list].
func (e Env) selectItem(tpl Template, arg any) (any, error) {
	a, ok := pair(arg)
	if !ok {
		return nil, errMalformed
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
}

// split is Fn::Split: [separator, string].
func (e Env) split(tpl Template, arg any) (any, error) {
	a, ok := pair(arg)
	if !ok {
		return nil, errMalformed
	}
	sep, _ := a[0].(string)
	s, err := e.String(tpl, a[1])
	if err != nil || sep == "" {
		return nil, errMalformed
	}
	var out []any
	for _, p := range strings.Split(s, sep) {
		out = append(out, p)
	}
	return out, nil
}

// sub is Fn::Sub: a string, or [string, variables].
func (e Env) sub(tpl Template, arg any) (any, error) {
	text, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, errMalformed
		}
		text, _ = a[0].(string)
		vars, _ = a[1].(map[string]any)
	default:
		return nil, errMalformed
	}
	return e.substitute(tpl, text, vars)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitute is Fn::Sub's text: ${Var} from vars, a pseudo parameter, a Ref
// or a Logical.Attr; ${!Literal} is written as ${Literal}.
func (e Env) substitute(tpl Template, text string, vars map[string]any) (string, error) {
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
		if v, ok := e.pseudoParameter(tpl, id); ok {
			return v, nil
		}
	}
	res, ok := tpl.Resources[id]
	if !ok {
		return "", fmt.Errorf("stack %s: %s.%s: no such resource or pseudo parameter", tpl.StackName, id, attr)
	}
	typ, _ := res["Type"].(string)
	kind, ok := resourceKinds[typ]
	if !ok {
		return "", fmt.Errorf("stack %s: %s.%s (%s) is not resolved here", tpl.StackName, id, attr, typ)
	}
	n, err := e.resourceName(tpl, id, res, kind)
	if err != nil {
		return "", fmt.Errorf("stack %s: the name of %s: %w", tpl.StackName, id, err)
	}
	if v, ok := kind.attrs(e, n)[attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("stack %s: %s.%s (%s) is not resolved here", tpl.StackName, id, attr, typ)
}

// resourceName is the name set in the resource's properties, else the one
// CloudFormation makes.
func (e Env) resourceName(tpl Template, id string, res map[string]any, kind resourceKind) (string, error) {
	props, _ := res["Properties"].(map[string]any)
	if v, ok := props[kind.nameProp]; ok && kind.nameProp != "" {
		return e.String(tpl, v)
	}
	return kind.defaultName(tpl.StackName+"-"+id, id), nil
}

// pseudoParameter is the value of AWS::AccountId and its kin in e.
func (e Env) pseudoParameter(tpl Template, name string) (string, bool) {
	switch name {
	case "AWS::AccountId":
		return e.Account, true
	case "AWS::Region":
		return e.Region, true
	case "AWS::Partition":
		return Partition, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackName":
		return tpl.StackName, true
	case "AWS::StackId":
		return e.ARN("cloudformation", "stack/"+tpl.StackName+"/00000000-0000-4000-8000-000000000000"), true
	}
	return "", false
}

// A resourceKind is how CloudFormation names the resources of one type and
// what their Ref and attributes give.
type resourceKind struct {
	// nameProp is the property that names the resource ("" = it is never
	// named: an id is assigned).
	nameProp string
	// defaultName is the name CloudFormation makes when nameProp is unset,
	// from "<stack>-<logical ID>" (generated) or the logical ID.
	defaultName func(generated, id string) string
	// attrs are Ref's and each attribute's value for the name n.
	attrs func(e Env, n string) map[string]string
}

// asGenerated and truncatedTo are the usual defaultNames.
func asGenerated(generated, _ string) string { return generated }

func truncatedTo(n int) func(generated, _ string) string {
	return func(generated, _ string) string { return truncate(generated, n) }
}

// resourceKinds are the resource types whose names policies refer to.
var resourceKinds = map[string]resourceKind{
	"AWS::S3::Bucket": {"BucketName", func(g, _ string) string { return bucketName(g) }, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": "arn:aws:s3:::" + n,
			"DomainName": n + ".s3.amazonaws.com", "RegionalDomainName": n + ".s3." + e.Region + ".amazonaws.com"}
	}},
	"AWS::IAM::Role": {"RoleName", truncatedTo(64), func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": "arn:aws:iam::" + e.Account + ":role/" + n}
	}},
	"AWS::IAM::ManagedPolicy": {"ManagedPolicyName", truncatedTo(128), func(e Env, n string) map[string]string {
		return map[string]string{"Ref": "arn:aws:iam::" + e.Account + ":policy/" + n}
	}},
	"AWS::ECS::Cluster": {"ClusterName", asGenerated, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("ecs", "cluster/"+n)}
	}},
	// The first revision of the family: what the stack's first deploy
	// registers.
	"AWS::ECS::TaskDefinition": {"Family", func(g, _ string) string { return strings.ReplaceAll(g, "-", "") }, func(e Env, n string) map[string]string {
		arn := e.ARN("ecs", "task-definition/"+n+":1")
		return map[string]string{"Ref": arn, "TaskDefinitionArn": arn}
	}},
	"AWS::StepFunctions::StateMachine": {"StateMachineName", func(_, id string) string { return id }, func(e Env, n string) map[string]string {
		arn := e.ARN("states", "stateMachine:"+n)
		return map[string]string{"Ref": arn, "Arn": arn, "Name": n}
	}},
	"AWS::DynamoDB::Table": {"TableName", asGenerated, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("dynamodb", "table/"+n)}
	}},
	"AWS::SQS::Queue": {"QueueName", asGenerated, func(e Env, n string) map[string]string {
		url := "https://sqs." + e.Region + ".amazonaws.com/" + e.Account + "/" + n
		return map[string]string{"Ref": url, "QueueUrl": url, "Arn": e.ARN("sqs", n), "QueueName": n}
	}},
	"AWS::SNS::Topic": {"TopicName", asGenerated, func(e Env, n string) map[string]string {
		arn := e.ARN("sns", n)
		return map[string]string{"Ref": arn, "TopicArn": arn, "TopicName": n}
	}},
	"AWS::KMS::Key": {"", func(_, id string) string { return "key-" + strings.ToLower(id) }, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "KeyId": n, "Arn": e.ARN("kms", "key/"+n)}
	}},
	"AWS::Logs::LogGroup": {"LogGroupName", asGenerated, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("logs", "log-group:"+n+":*")}
	}},
	"AWS::Events::Rule": {"Name", truncatedTo(64), func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("events", "rule/"+n)}
	}},
	"AWS::CloudWatch::Alarm": {"AlarmName", asGenerated, func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("cloudwatch", "alarm:"+n)}
	}},
	"AWS::Lambda::Function": {"FunctionName", truncatedTo(64), func(e Env, n string) map[string]string {
		return map[string]string{"Ref": n, "Arn": e.ARN("lambda", "function:"+n)}
	}},
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
