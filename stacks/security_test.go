package stacks

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Actions on Resource "*", each for a feature we use: all but one have no
// resource type in the Service Authorization Reference, so "*" is the only
// choice; ssm:UpdateInstanceInformation takes managed-instance ARNs but
// keeps AWS's managed policy's "*" (TestIAMOnAWSData excuses it, with its
// reason). ecs:StopTask/DescribeTasks are not here: they take task ARNs.
var allowedOnAnyResource = []string{
	"ecr:GetAuthorizationToken", // image pull (execution role)
	// The task's report: no resource type (Service Authorization Reference),
	// region-bound.
	"states:SendTaskSuccess",
	// The boards' ECS and SSM agents (scoped board policy, region-bound).
	"ecs:DiscoverPollEndpoint", "ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel",
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
	"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", // state machine logging
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", // tracing
}

func TestIAMHasNoWildcardActionsAndScopedResources(t *testing.T) {
	for name, overrides := range map[string]map[string]any{"default": nil, "customized": customized, "imported": imported,
		"fleet-group": fleetConfigs["fleet-group"], "fleet-routed": fleetConfigs["fleet-routed"], "fleet-paged": pagedConfig} {
		app := synthCached(t, name, overrides)
		for _, stack := range app.Stacks() {
			tpl := assertions.Template_FromStack(stack, nil)
			for owner, sts := range statements(t, tpl) {
				for _, st := range sts {
					if st["Effect"] != "Allow" {
						continue
					}
					for _, action := range list(st["Action"]) {
						if strings.Contains(action.(string), "*") {
							t.Errorf("%s %s: wildcard action %v", name, owner, action)
						}
					}
					if slices.ContainsFunc(list(st["Resource"]), func(r any) bool { return r == "*" }) {
						for _, action := range list(st["Action"]) {
							if !slices.Contains(allowedOnAnyResource, action.(string)) {
								t.Errorf("%s %s: %v on Resource * (scope it)", name, owner, action)
							}
						}
					}
				}
			}
		}
	}
}

func TestTaskRoleMayOnlyGetObjectsOfTheDropBucket(t *testing.T) {
	tpl := defaultPipeline(t)
	bucketID := dropBucketID(t, tpl)
	// s3:GetObject on the objects the default pattern (demo*.txt) can
	// deliver; s3:ListBucket on the bucket for the default schedule's
	// syncs, under the same prefix.
	sts := statementsOf(t, tpl, "DownloadTaskTaskRole")
	equalJSON(t, "task role", withRenderedResources(t, sts), []map[string]any{
		{"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "${" + bucketID + ".Arn}/demo*"},
		{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${" + bucketID + ".Arn}",
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": "demo*"}}},
		// The task's report (contract.Report): SendTaskSuccess has no
		// resource type; this region only.
		{"Sid": "ReportTheOutcome", "Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": map[string]any{"Ref": "AWS::Region"}}}},
	})
	// The state machine may run exactly this task definition and pass
	// exactly its two roles.
	sm := statementsOf(t, tpl, "PipelineStateMachineRole")
	var passRoles, runTask []string
	for _, st := range sm {
		for _, a := range list(st["Action"]) {
			for _, r := range list(st["Resource"]) {
				switch a {
				case "iam:PassRole":
					passRoles = append(passRoles, render(t, r))
				case "ecs:RunTask":
					runTask = append(runTask, render(t, r))
				}
			}
		}
	}
	slices.Sort(passRoles)
	if len(passRoles) != 2 || !strings.Contains(passRoles[0], "ExecutionRole") || !strings.Contains(passRoles[1], "TaskRole") {
		t.Errorf("iam:PassRole on %v, want the task's two roles", passRoles)
	}
	if len(runTask) != 1 || !strings.HasPrefix(runTask[0], "${DownloadTaskTaskDefinition") || strings.Contains(runTask[0], ":") {
		t.Errorf("ecs:RunTask on %v, want the one task definition revision the stack deploys", runTask)
	}
}

// TestCdkNagAwsSolutions: every stack passes AwsSolutions with zero
// unsuppressed errors or warnings, and the suppressed findings are exactly
// the justified ones (a new finding must be fixed or justified in code).
func TestCdkNagAwsSolutions(t *testing.T) {
	for name, overrides := range map[string]map[string]any{"default": nil, "customized": customized, "imported": imported,
		"fleet-group": fleetConfigs["fleet-group"], "fleet-routed": fleetConfigs["fleet-routed"], "coalesce-all": coalesceConfig,
		"coalesce-any": coalesceAnyConfig} {
		app := synthCached(t, name, overrides)
		for _, stack := range app.Stacks() {
			ann := assertions.Annotations_FromStack(stack)
			errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			if len(*errs)+len(*warns) != 0 {
				t.Errorf("%s/%s: %d cdk-nag errors, %d warnings", name, *stack.StackName(), len(*errs), len(*warns))
			}
		}
	}

	// cdk-nag's report lists each rule per resource; "Suppressed" rows are
	// the findings before suppression, each justified in code.
	app := synthCached(t, "default", nil)
	rules := map[string]int{}
	seen := map[string]bool{}
	for _, stack := range app.Stacks() {
		path := filepath.Join(*awscdk.Stage_Of(stack).Outdir(), "AwsSolutions-"+*stack.StackName()+"-NagReport.csv")
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 2 {
			t.Fatalf("nag report %s: %v", path, err)
		}
		for _, row := range rows[1:] {
			switch row[2] {
			case "Non-Compliant":
				t.Errorf("%s: unsuppressed %s on %s", *stack.StackName(), row[0], row[1])
			case "Suppressed":
				if seen[strings.Join(row, ",")] {
					continue // each synth of the stack appends to the report
				}
				seen[strings.Join(row, ",")] = true
				if len(strings.TrimSpace(row[3])) < 20 {
					t.Errorf("%s on %s: suppression without a real reason: %q", row[0], row[1], row[3])
				}
				rules[row[0]]++
			}
		}
	}
	t.Logf("cdk-nag AwsSolutions findings before suppressions (all suppressed with reasons): %v", rules)
	var got []string
	for r := range rules {
		got = append(got, r)
	}
	slices.Sort(got)
	equalJSON(t, "suppressed rules", got, []string{"AwsSolutions-ECS2", "AwsSolutions-IAM5", "AwsSolutions-SQS3"})
}
