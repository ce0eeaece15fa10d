// Package assembly reads a synthesized CDK cloud assembly (cdk.out) and
// resolves what the local pipeline needs from it, with the local names a
// deploy would have produced: the buckets, the EventBridge rules and their
// targets, the state machine definitions and the ECS task definitions.
//
// The local demo is driven by this, never by copies of the CDK code's
// settings: change the CDK app and the local run changes with it.
package assembly

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Assembly is a loaded cloud assembly.
type Assembly struct {
	Region, Account string
	stacks          map[string]*stack
	order           []string
}

type stack struct {
	name      string
	resources map[string]map[string]any
	outputs   map[string]any
	params    map[string]any
}

// Load reads every CloudFormation stack of the assembly in dir.
func Load(dir, region, account string) (*Assembly, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("no cloud assembly in %s (run make synth or let the demo synthesize): %w", dir, err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
			DisplayName string `json:"displayName"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	a := &Assembly{Region: region, Account: account, stacks: map[string]*stack{}}
	for name, art := range manifest.Artifacts {
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		var tpl struct {
			Resources  map[string]map[string]any `json:"Resources"`
			Outputs    map[string]any            `json:"Outputs"`
			Parameters map[string]map[string]any `json:"Parameters"`
		}
		b, err := os.ReadFile(filepath.Join(dir, art.Properties.TemplateFile))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &tpl); err != nil {
			return nil, fmt.Errorf("%s: %w", art.Properties.TemplateFile, err)
		}
		s := &stack{name: name, resources: tpl.Resources, outputs: tpl.Outputs, params: map[string]any{}}
		for p, def := range tpl.Parameters {
			s.params[p] = def["Default"] // bootstrap version and the like
		}
		a.stacks[name] = s
		a.order = append(a.order, name)
	}
	if len(a.stacks) == 0 {
		return nil, fmt.Errorf("the cloud assembly in %s has no stacks", dir)
	}
	slices.Sort(a.order)
	return a, nil
}

func (a *Assembly) output(stackName, name string) (any, error) {
	s, ok := a.stacks[stackName]
	if !ok {
		return nil, fmt.Errorf("output %s of stack %s: no such stack in the assembly", name, stackName)
	}
	o, ok := s.outputs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("stack %s has no output %s", stackName, name)
	}
	return resolver{a, s}.value(o["Value"])
}

func (a *Assembly) export(name string) (any, error) {
	for _, sn := range a.order {
		s := a.stacks[sn]
		for _, o := range s.outputs {
			om, _ := o.(map[string]any)
			exp, _ := om["Export"].(map[string]any)
			if exp == nil {
				continue
			}
			if n, err := (resolver{a, s}).str(exp["Name"]); err == nil && n == name {
				return resolver{a, s}.value(om["Value"])
			}
		}
	}
	return nil, fmt.Errorf("no stack exports %q", name)
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// physical gives a resource's Ref or attribute the value a deploy would:
// the name set in the template, or one made from stack name and logical ID.
func (a *Assembly) physical(s *stack, id string, res map[string]any, attr string) (any, error) {
	generated := s.name + "-" + id
	typ, _ := res["Type"].(string)
	if kind, ok := resourceKinds[typ]; ok {
		if value, ok := kind.attrs[attr]; ok {
			name, err := kind.name(resolver{a, s}, res, generated, s.name, id)
			return value(a, name), err
		}
	}
	// Resources the local pipeline only passes around (policies, lambdas):
	// stable placeholder names are enough.
	switch attr {
	case "Ref":
		return generated, nil
	case "Arn":
		return a.arn("local", id), nil
	}
	return nil, fmt.Errorf("stack %s: the local run cannot resolve %s.%s (%s)", s.name, id, attr, typ)
}

// resourceKind is how a deploy names a resource of one type (nameProp in
// its Properties, else a generated name) and what its Ref and attributes
// are, made from that name.
type resourceKind struct {
	nameProp string
	// generate makes the name CloudFormation would, from the stack name
	// and logical ID ("generated" is "<stack>-<id>").
	generate func(generated, stack, id string) string
	attrs    map[string]func(a *Assembly, name string) string
}

func (k resourceKind) name(r resolver, res map[string]any, generated, stack, id string) (string, error) {
	props, _ := res["Properties"].(map[string]any)
	if v, ok := props[k.nameProp]; ok {
		return r.str(v)
	}
	return k.generate(generated, stack, id), nil
}

func (a *Assembly) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, a.Region, a.Account, resource)
}

// The attribute makers.
func itself(_ *Assembly, name string) string { return name }

func arnOf(service, prefix, suffix string) func(*Assembly, string) string {
	return func(a *Assembly, name string) string { return a.arn(service, prefix+name+suffix) }
}

func asGenerated(generated, _, _ string) string { return generated }

func bucketDomain(_ *Assembly, name string) string { return name + ".s3.amazonaws.com" }

func bucketRegionalDomain(a *Assembly, name string) string {
	return name + ".s3." + a.Region + ".amazonaws.com"
}

func queueURL(a *Assembly, name string) string {
	return "https://sqs." + a.Region + ".amazonaws.com/" + a.Account + "/" + name
}

// resourceKinds are the resource types the local pipeline resolves by name.
var resourceKinds = map[string]resourceKind{
	"AWS::S3::Bucket": {"BucketName", func(g, _, _ string) string { return bucketName(g) }, map[string]func(*Assembly, string) string{
		"Ref": itself, "BucketName": itself,
		"Arn":                func(_ *Assembly, n string) string { return "arn:aws:s3:::" + n },
		"DomainName":         bucketDomain,
		"RegionalDomainName": bucketRegionalDomain,
	}},
	"AWS::ECS::Cluster": {"ClusterName", asGenerated, map[string]func(*Assembly, string) string{
		"Ref": itself, "Arn": arnOf("ecs", "cluster/", ""),
	}},
	"AWS::ECS::TaskDefinition": {"Family", func(_, stack, id string) string { return strings.ReplaceAll(stack, "-", "") + id }, map[string]func(*Assembly, string) string{
		"Ref": arnOf("ecs", "task-definition/", ":1"), "TaskDefinitionArn": arnOf("ecs", "task-definition/", ":1"),
	}},
	"AWS::StepFunctions::StateMachine": {"StateMachineName", func(_, _, id string) string { return id }, map[string]func(*Assembly, string) string{
		"Ref": arnOf("states", "stateMachine:", ""), "Arn": arnOf("states", "stateMachine:", ""), "Name": itself,
	}},
	"AWS::IAM::Role": {"RoleName", asGenerated, map[string]func(*Assembly, string) string{
		"Ref": itself,
		"Arn": func(a *Assembly, n string) string { return "arn:aws:iam::" + a.Account + ":role/" + n },
	}},
	"AWS::SQS::Queue": {"QueueName", asGenerated, map[string]func(*Assembly, string) string{
		"Ref":       queueURL,
		"QueueUrl":  queueURL,
		"Arn":       arnOf("sqs", "", ""),
		"QueueName": itself,
	}},
	"AWS::Logs::LogGroup": {"LogGroupName", asGenerated, map[string]func(*Assembly, string) string{
		"Ref": itself, "Arn": arnOf("logs", "log-group:", ":*"),
	}},
	"AWS::Events::Rule": {"Name", asGenerated, map[string]func(*Assembly, string) string{
		"Ref": itself, "Arn": arnOf("events", "rule/", ""),
	}},
}

// bucketName turns a generated name into a valid S3 bucket name.
func bucketName(generated string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(generated), "-"), "-")
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

// resourcesOf lists (stack, logical ID, resource) of one type, in a stable order.
func (a *Assembly) resourcesOf(typ string) []found {
	var out []found
	for _, sn := range a.order {
		s := a.stacks[sn]
		ids := make([]string, 0, len(s.resources))
		for id := range s.resources {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if s.resources[id]["Type"] == typ {
				props, _ := s.resources[id]["Properties"].(map[string]any)
				out = append(out, found{a, s, id, props})
			}
		}
	}
	return out
}

type found struct {
	a     *Assembly
	stack *stack
	id    string
	props map[string]any
}

func (f found) resolver() resolver { return resolver{f.a, f.stack} }

var errNoPipeline = errors.New("the cloud assembly has no EventBridge rule that starts a state machine")
