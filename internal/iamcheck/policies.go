package iamcheck

import (
	"fmt"
	"maps"
	"slices"
)

// Kind is where a policy is attached, which decides how it is read.
type Kind string

const (
	// Identity policies are a role's: its inline policies and the
	// AWS::IAM::Policy and AWS::IAM::ManagedPolicy documents attached to it.
	Identity Kind = "identity"
	// Resource policies are a bucket's, a queue's, a topic's or a key's.
	Resource Kind = "resource"
	// Trust policies say who may assume a role.
	Trust Kind = "trust"
)

// Policy is one resolved policy document of a template.
type Policy struct {
	// ID names the policy: "<stack>/<logical ID>[/<inline name>]" or, for
	// a trust policy, "<stack>/<role logical ID>/trust".
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Owner is the logical ID of the role (identity, trust) or of the
	// resource (resource) the policy belongs to.
	Owner string `json:"owner"`
	// Self are the ARNs of the resources a resource policy is attached
	// to: "*" in a key policy means that key.
	Self     []string       `json:"self,omitempty"`
	Document map[string]any `json:"document"`
}

// resourcePolicies are the resource types whose policy document is checked,
// the property holding it, and the property naming the resources it is
// attached to ("" = the resource itself).
var resourcePolicies = map[string]struct{ doc, attachedTo, attr string }{
	"AWS::S3::BucketPolicy": {"PolicyDocument", "Bucket", "Arn"},
	"AWS::SQS::QueuePolicy": {"PolicyDocument", "Queues", "Arn"},
	"AWS::SNS::TopicPolicy": {"PolicyDocument", "Topics", "Ref"},
	"AWS::KMS::Key":         {"KeyPolicy", "", "Arn"},
}

// Policies returns every policy document of the template, resolved in e.
// A resource of another type that holds a policy document (a property
// with a "Statement") is an error: every statement is checked, or the
// check says what it cannot read.
func (e Env) Policies(tpl Template) ([]Policy, error) {
	var out []Policy
	for _, id := range slices.Sorted(maps.Keys(tpl.Resources)) {
		res := tpl.Resources[id]
		typ, _ := res["Type"].(string)
		props, _ := res["Properties"].(map[string]any)
		prefix := tpl.StackName + "/" + id
		doc := func(v any) (map[string]any, error) {
			r, err := e.Resolve(tpl, v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", prefix, err)
			}
			m, ok := r.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: the policy document is not an object", prefix)
			}
			return m, nil
		}
		switch typ {
		case "AWS::IAM::Role":
			trust, err := doc(props["AssumeRolePolicyDocument"])
			if err != nil {
				return nil, err
			}
			arn, err := e.Attr(tpl, id, "Arn")
			if err != nil {
				return nil, err
			}
			out = append(out, Policy{ID: prefix + "/trust", Kind: Trust, Owner: id, Self: []string{arn}, Document: trust})
			inline, _ := props["Policies"].([]any)
			for _, p := range inline {
				pm, _ := p.(map[string]any)
				name, _ := pm["PolicyName"].(string)
				d, err := doc(pm["PolicyDocument"])
				if err != nil {
					return nil, err
				}
				out = append(out, Policy{ID: prefix + "/" + name, Kind: Identity, Owner: id, Document: d})
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			d, err := doc(props["PolicyDocument"])
			if err != nil {
				return nil, err
			}
			if props["Users"] != nil || props["Groups"] != nil {
				return nil, fmt.Errorf("%s: attached to users or groups, which the check does not model", prefix)
			}
			roles, _ := props["Roles"].([]any)
			for _, r := range roles {
				ref, ok := r.(map[string]any)["Ref"].(string)
				if !ok {
					return nil, fmt.Errorf("%s: attached to a role that is not in the template (%v)", prefix, r)
				}
				out = append(out, Policy{ID: prefix, Kind: Identity, Owner: ref, Document: d})
			}
		default:
			rp, ok := resourcePolicies[typ]
			if !ok {
				if p := policyProperty(props); p != "" {
					return nil, fmt.Errorf("%s (%s) holds a policy document in %s, which the check does not read", prefix, typ, p)
				}
				continue
			}
			d, err := doc(props[rp.doc])
			if err != nil {
				return nil, err
			}
			self, err := e.attached(tpl, id, props, rp.attachedTo, rp.attr)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", prefix, err)
			}
			out = append(out, Policy{ID: prefix, Kind: Resource, Owner: id, Self: self, Document: d})
		}
	}
	return out, nil
}

// attached are the ARNs of the resources a resource policy applies to:
// the resources its property refers to (Ref), or the resource itself.
func (e Env) attached(tpl Template, id string, props map[string]any, prop, attr string) ([]string, error) {
	if prop == "" {
		arn, err := e.Attr(tpl, id, attr)
		return []string{arn}, err
	}
	var out []string
	for _, v := range list(props[prop]) {
		ref, ok := v.(map[string]any)["Ref"].(string)
		if !ok {
			// An imported bucket is named, not referenced.
			name, err := e.String(tpl, v)
			if err != nil {
				return nil, err
			}
			out = append(out, "arn:aws:s3:::"+name)
			continue
		}
		arn, err := e.Attr(tpl, ref, attr)
		if err != nil {
			return nil, err
		}
		out = append(out, arn)
	}
	return out, nil
}

// policyProperty is the name of a property that looks like a policy
// document (an object with a Statement), "" if none.
func policyProperty(props map[string]any) string {
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if m, ok := props[k].(map[string]any); ok {
			if _, ok := m["Statement"]; ok {
				return k
			}
		}
	}
	return ""
}

// list is a string-or-list field as a list.
func list(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// Statements counts the statements of the policies.
func Statements(policies []Policy) int {
	n := 0
	for _, p := range policies {
		n += len(list(p.Document["Statement"]))
	}
	return n
}

// RoleArn is the ARN of a role of the template, by logical ID.
func (e Env) RoleArn(tpl Template, id string) (string, error) {
	if typ, _ := tpl.Resources[id]["Type"].(string); typ != "AWS::IAM::Role" {
		return "", fmt.Errorf("stack %s: %s is not a role", tpl.StackName, id)
	}
	return e.Attr(tpl, id, "Arn")
}
