// Package deployment finds an edge-drop deployment's resources for the
// CLI and the status page: in AWS from the pipeline stack's outputs
// (CloudFormation DescribeStacks), or in the running local demo from its
// endpoints file (local/endpoints), which carries the same output names.
// It hands out SDK clients pointed at the right endpoints with the right
// credentials.
package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/local/endpoints"
)

// Deployment is one pipeline's resources and how to reach them.
type Deployment struct {
	// Name says which deployment: "stack EdgeDrop-Pipeline (eu-west-1)" or
	// "the demo in .demo".
	Name string
	// Local is true for the demo.
	Local bool
	// Unreachable says what to do when an endpoint does not answer.
	Unreachable string

	cfg       aws.Config
	endpoints endpoints.Endpoints // Local only
	outputs   map[string]string
	stack     string
}

// DefaultStack is <stackPrefix>-Pipeline, the prefix from dir's cdk.json
// context when set there, else EdgeDrop (config's default).
func DefaultStack(dir string) string {
	prefix := "EdgeDrop"
	if b, err := os.ReadFile(filepath.Join(dir, "cdk.json")); err == nil {
		var c struct {
			Context map[string]any `json:"context"`
		}
		if json.Unmarshal(b, &c) == nil {
			if p, ok := c.Context["stackPrefix"].(string); ok && p != "" {
				prefix = p
			}
		}
	}
	return prefix + "-Pipeline"
}

// FromStack loads the AWS configuration (environment, shared config and
// credentials files; profile and region override them when set), checks
// that it has a region and credentials, and reads the stack's outputs.
func FromStack(ctx context.Context, stack, profile, region string) (*Deployment, error) {
	var opts []func(*config.LoadOptions) error
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return nil, fault.Setupf("AWS profile %q is not in ~/.aws/config or ~/.aws/credentials: create it (aws configure --profile %s) or name another", missing.Profile, missing.Profile)
		}
		return nil, fault.Setupf("AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		return nil, fault.Setupf("no AWS region: set AWS_REGION, a region in your profile (aws configure), or --region")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		why := ""
		if msg := oneLine(err.Error()); strings.Contains(msg, "SSO") || strings.Contains(msg, "sso") || strings.Contains(msg, "expired") {
			why = " (" + msg + ")"
		}
		return nil, fault.Setupf("no AWS credentials%s: run aws configure (or aws sso login --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", why)
	}
	d := &Deployment{Name: fmt.Sprintf("stack %s (%s)", stack, cfg.Region), cfg: cfg, stack: stack,
		Unreachable: "AWS (network or proxy settings?)", outputs: map[string]string{}}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist") {
			return nil, fault.NotFoundf("stack %s not found in %s: deploy it (make deploy), or name it with --stack (or another --region / --profile)", stack, cfg.Region)
		}
		return nil, fault.AWS(err, "CloudFormation DescribeStacks "+stack, d.Unreachable)
	}
	if len(out.Stacks) == 0 {
		return nil, fault.NotFoundf("stack %s not found in %s: deploy it (make deploy), or name it with --stack", stack, cfg.Region)
	}
	for _, o := range out.Stacks[0].Outputs {
		d.outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return d, nil
}

// FromLocal reads the endpoints file of the demo whose state dir is dir.
func FromLocal(dir string) (*Deployment, error) {
	e, err := endpoints.Read(dir)
	if err != nil {
		return nil, fault.Setupf("%v", err)
	}
	cfg := aws.Config{Region: e.Region, Credentials: credentials.NewStaticCredentialsProvider(e.AccessKeyID, e.SecretAccessKey, "")}
	return &Deployment{Name: "the demo in " + dir, Local: true, cfg: cfg, endpoints: e, outputs: e.Outputs,
		Unreachable: fmt.Sprintf("the demo in %s (stopped? start make demo)", dir)}, nil
}

// Output is a stack output by name (contract.Output*), or an error that
// says how to get it.
func (d *Deployment) Output(name string) (string, error) {
	if v := d.outputs[name]; v != "" {
		return v, nil
	}
	if d.Local {
		return "", fault.Setupf("the demo in %s has no %s: restart it with this version (make demo)", d.dirName(), name)
	}
	return "", fault.Setupf("stack %s has no output %s: deploy this version of edge-drop (make deploy)", d.stack, name)
}

func (d *Deployment) dirName() string { return strings.TrimPrefix(d.Name, "the demo in ") }

// Delivery is the deployment's delivery configuration (which keys go to
// which boards).
func (d *Deployment) Delivery() (contract.Delivery, error) {
	v, err := d.Output(contract.OutputDelivery)
	if err != nil {
		return contract.Delivery{}, err
	}
	dl, err := contract.ParseDelivery(v)
	if err != nil {
		return dl, fault.Setupf("%s: %v", d.Name, err)
	}
	return dl, nil
}

// Region is the deployment's region.
func (d *Deployment) Region() string { return d.cfg.Region }

// S3 is an S3 client (path-style for the demo).
func (d *Deployment) S3() *s3.Client {
	return s3.NewFromConfig(d.cfg, func(o *s3.Options) {
		if d.Local {
			o.BaseEndpoint, o.UsePathStyle = aws.String(d.endpoints.S3), true
		}
	})
}

// DynamoDB is a DynamoDB client, or an error when the demo keeps no ledger.
func (d *Deployment) DynamoDB() (*dynamodb.Client, error) {
	if d.Local && d.endpoints.DynamoDB == "" {
		return nil, fault.Setupf("the demo in %s keeps no ledger yet (no DynamoDB endpoint in its %s): run a demo that does (make demo)", d.dirName(), endpoints.FileName)
	}
	return dynamodb.NewFromConfig(d.cfg, func(o *dynamodb.Options) {
		if d.Local {
			o.BaseEndpoint = aws.String(d.endpoints.DynamoDB)
		}
	}), nil
}

// ECS is an ECS client.
func (d *Deployment) ECS() *ecs.Client {
	return ecs.NewFromConfig(d.cfg, func(o *ecs.Options) {
		if d.Local {
			o.BaseEndpoint = aws.String(d.endpoints.ECS)
		}
	})
}

// SFN is a Step Functions client.
func (d *Deployment) SFN() *sfn.Client {
	return sfn.NewFromConfig(d.cfg, func(o *sfn.Options) {
		if d.Local {
			o.BaseEndpoint = aws.String(d.endpoints.StepFunctions)
		}
	})
}

// oneLine keeps a message to its first line, at most 200 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return contract.Cut(s, 200)
}
