// Package downloadtask is the ECS task definition that runs on the board: the
// edge-drop task image with the host's data directory mounted, allowed to
// read objects from one bucket and nothing else.
package downloadtask

import (
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/contract"
)

// localtime is the board's time zone file, mounted read-only (at the same
// path) when a bandwidth timetable needs the board's local time; the
// scratch image has none of its own.
const (
	localtime       = "/etc/localtime"
	localtimeVolume = "localtime"
)

// timeoutMargin is how much earlier than the state's timeout the task gives
// up by itself: it then cleans up and exits 7 instead of being killed.
const timeoutMargin = time.Minute

// Props configures the task.
type Props struct {
	Bucket awss3.IBucket
	// KeyPrefix narrows s3:GetObject to keys under it ("" = whole bucket):
	// the raw prefix every delivered key starts with.
	KeyPrefix string
	// ListKeys grants s3:ListBucket, narrowed to ListPrefix: sync mode
	// lists, and delete mode needs S3 to answer 404 rather than 403 for a
	// key that is gone.
	ListKeys bool
	// ListPrefix narrows s3:ListBucket (s3:prefix): what a sync lists, so
	// KeyPrefix or shorter ("" = the whole bucket).
	ListPrefix string
	Image      awsecs.ContainerImage
	// DataDir is the host path mounted at the same path in the container.
	DataDir   string
	CPU       int
	MemoryMiB int
	User      string
	// Timeout is the state machine's timeout for the task; the task is
	// told to finish timeoutMargin earlier.
	Timeout time.Duration
	// MaxObjectBytes is the largest object the task accepts.
	MaxObjectBytes int64
	// MaxRate and RateSchedule are the board's bandwidth budget
	// (contract.EnvMaxRate, EnvRateSchedule; "" = none). A timetable is in
	// the board's local time: the host's /etc/localtime is mounted
	// read-only for it.
	MaxRate, RateSchedule string
	LogRetention          awslogs.RetentionDays
	RemovalPolicy         awscdk.RemovalPolicy
}

// ListStatement lets the task list the bucket, under prefix only when one
// is set: s3:prefix is the ListObjectsV2 prefix parameter, and for a
// HeadObject of a missing key S3 evaluates it as the key itself, so a
// HEAD under the prefix answers 404 while a listing of the whole bucket
// (or another prefix) is denied. Without a prefix the task may list the
// whole bucket, as it may read every object.
func ListStatement(bucket awss3.IBucket, prefix string) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListUploadedKeys"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: &[]*string{bucket.BucketArn()},
	}
	if prefix != "" {
		props.Conditions = &map[string]any{"StringLike": map[string]any{"s3:prefix": prefix + "*"}}
	}
	return awsiam.NewPolicyStatement(props)
}

// ReportStatement lets the task send its report (contract.Report) as the
// output of the state that started it: states:SendTaskSuccess with the
// task token in its environment (contract.EnvTaskToken). The action has no
// resource type (Service Authorization Reference, AWS Step Functions:
// SendTaskSuccess lists none, and no condition key), so its resource is
// "*"; a token names one state of one execution, and without one the call
// does nothing. Only SendTaskSuccess: the task reports failures in its
// report too, and it never heartbeats.
func ReportStatement() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ReportTheOutcome"),
		Actions:    jsii.Strings("states:SendTaskSuccess"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": awscdk.Aws_REGION()}},
	})
}

// DownloadTask exposes what it made.
type DownloadTask struct {
	constructs.Construct
	TaskDefinition awsecs.ExternalTaskDefinition
	Container      awsecs.ContainerDefinition
	TaskRole       awsiam.Role
	ExecutionRole  awsiam.Role
	LogGroup       awslogs.LogGroup
}

// New creates the task definition and its roles and log group.
func New(scope constructs.Construct, id string, props Props) *DownloadTask {
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &DownloadTask{Construct: c}
	d.TaskRole = newTaskRole(c, props)
	d.ExecutionRole = awsiam.NewRole(c, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   trust.ECSTasks.PrincipalIn(c),
		Description: jsii.String("edge-drop task execution: pull the image, write logs"),
	})
	d.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: props.RemovalPolicy,
	})
	d.TaskDefinition = awsecs.NewExternalTaskDefinition(c, jsii.String("TaskDefinition"), &awsecs.ExternalTaskDefinitionProps{
		TaskRole:      d.TaskRole,
		ExecutionRole: d.ExecutionRole,
		NetworkMode:   awsecs.NetworkMode_BRIDGE,
		Volumes: &[]*awsecs.Volume{{
			Name: jsii.String(contract.VolumeName),
			Host: &awsecs.Host{SourcePath: jsii.String(props.DataDir)},
		}},
	})
	if props.RateSchedule != "" {
		d.TaskDefinition.AddVolume(&awsecs.Volume{Name: jsii.String(localtimeVolume), Host: &awsecs.Host{SourcePath: jsii.String(localtime)}})
	}
	d.Container = d.addContainer(c, props)
	// After the container: its log driver gave the execution role the
	// policy the suppression covers.
	d.suppressFindings(props)
	return d
}

// newTaskRole is the role the task runs as: read the uploaded objects
// (under the prefix), list them where asked, report the outcome.
func newTaskRole(c constructs.Construct, props Props) awsiam.Role {
	role := awsiam.NewRole(c, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   trust.ECSTasks.PrincipalIn(c),
		Description: jsii.String("edge-drop task: read uploaded objects, nothing else"),
	})
	// s3:GetObject also authorises HeadObject. Without s3:ListBucket a
	// missing key answers 403, which the task reports as access denied.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadUploadedObjects"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*props.Bucket.ArnForObjects(jsii.String(props.KeyPrefix + "*"))),
	}))
	if props.ListKeys {
		role.AddToPrincipalPolicy(ListStatement(props.Bucket, props.ListPrefix))
	}
	role.AddToPrincipalPolicy(ReportStatement())
	reason := "The task downloads whichever object was uploaded: s3:GetObject (only) on the objects of the one drop bucket. A keyPattern, routePrefix or ruleKeyPrefix with a literal start narrows it to that prefix."
	if props.KeyPrefix != "" {
		reason = "s3:GetObject (only) on the objects under the prefix every delivered key starts with (keyPattern's literal start, routePrefix, ruleKeyPrefix) of the one drop bucket."
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String(reason),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::.*\/[^*]*\*$/`)}},
	}, {
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("states:SendTaskSuccess has no resource type and no condition key of its own (Service Authorization Reference, AWS Step Functions): " +
			"the task returns its report as the output of the state that started it, and the task token it holds names that state; aws:RequestedRegion keeps it to this region."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	return role
}

// environment is the task's static environment; bucket and key arrive as
// per-run overrides.
func environment(c constructs.Construct, props Props) map[string]*string {
	env := map[string]*string{
		contract.EnvDataDir:  jsii.String(props.DataDir),
		contract.EnvTimeout:  jsii.String(max(props.Timeout-timeoutMargin, props.Timeout/2).String()),
		contract.EnvMaxBytes: jsii.String(strconv.FormatInt(props.MaxObjectBytes, 10)),
		// ECS agents before 2026 do not set AWS_REGION on external
		// instances; without it the SDK would call us-east-1.
		"AWS_REGION": awscdk.Stack_Of(c).Region(),
	}
	if props.MaxRate != "" {
		env[contract.EnvMaxRate] = jsii.String(props.MaxRate)
	}
	if props.RateSchedule != "" {
		env[contract.EnvRateSchedule] = jsii.String(props.RateSchedule)
	}
	return env
}

// addContainer adds the task's one container: non-root, read-only root,
// no capabilities, the data directory (and for a timetable the board's
// time zone) mounted.
func (d *DownloadTask) addContainer(c constructs.Construct, props Props) awsecs.ContainerDefinition {
	env := environment(c, props)
	container := d.TaskDefinition.AddContainer(jsii.String(contract.ContainerName), &awsecs.ContainerDefinitionOptions{
		ContainerName:          jsii.String(contract.ContainerName),
		Image:                  props.Image,
		Essential:              jsii.Bool(true),
		Cpu:                    jsii.Number(float64(props.CPU)),
		MemoryLimitMiB:         jsii.Number(float64(props.MemoryMiB)),
		User:                   jsii.String(props.User),
		ReadonlyRootFilesystem: jsii.Bool(true),
		Environment:            &env,
		// The task needs no capability: it runs as a non-root user, opens
		// files it owns and talks HTTPS.
		LinuxParameters: awsecs.NewLinuxParameters(c, jsii.String("Linux"), &awsecs.LinuxParametersProps{}),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     d.LogGroup,
			StreamPrefix: jsii.String("edge-drop"),
		}),
		StopTimeout: awscdk.Duration_Seconds(jsii.Number(30)),
	})
	container.LinuxParameters().DropCapabilities(awsecs.Capability_ALL)
	container.AddMountPoints(&awsecs.MountPoint{
		ContainerPath: jsii.String(props.DataDir),
		SourceVolume:  jsii.String(contract.VolumeName),
		ReadOnly:      jsii.Bool(false),
	})
	if props.RateSchedule != "" {
		container.AddMountPoints(&awsecs.MountPoint{
			ContainerPath: jsii.String(localtime), SourceVolume: jsii.String(localtimeVolume), ReadOnly: jsii.Bool(true),
		})
	}
	return container
}

// suppressFindings justifies the cdk-nag findings of the task definition
// and the execution role.
func (d *DownloadTask) suppressFindings(props Props) {
	envReason := "The static variables are the data directory, a timeout, the size limit and AWS_REGION, not secrets; bucket and key arrive as per-run overrides."
	if props.MaxRate != "" || props.RateSchedule != "" {
		envReason = "The static variables are the data directory, a timeout, the size limit, the bandwidth budget and AWS_REGION, not secrets; bucket and key arrive as per-run overrides."
	}
	cdknag.NagSuppressions_AddResourceSuppressions(d.TaskDefinition, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String(envReason),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(d.ExecutionRole, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("ecr:GetAuthorizationToken has no resource-level permissions (AWS docs); image pulls themselves are scoped to the one repository."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
}
