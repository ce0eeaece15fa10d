// Package pipeline wires the data flow from the bucket to the board:
// EventBridge rule → Step Functions state machine → ECS task on the EXTERNAL
// (ECS Anywhere) cluster.
package pipeline

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/constructs/trust"
)

// KeyFilter narrows the rule's event pattern on the object key; at most one
// field is set. Keys in S3 events are URL-encoded, so filters match the
// encoded form (a space is '+').
type KeyFilter struct {
	Prefix, Suffix, Wildcard string
}

// Props configures the pipeline.
type Props struct {
	Bucket  awss3.IBucket
	Cluster awsecs.ICluster
	Task    *downloadtask.DownloadTask
	// KeyPattern is the Choice state's StringMatches pattern.
	KeyPattern  string
	KeyFilter   KeyFilter
	TaskTimeout time.Duration
	// MaxObjectBytes is the largest object delivered; larger ones end in
	// TooLarge.
	MaxObjectBytes int64
	// Target is where each file goes; the zero value is TargetAny.
	Target Target
	// OfflineWait bounds the retries of a busy or offline board (fleet
	// targets only).
	OfflineWait time.Duration
	// MaxBoards is the largest fleet a delivery must reach; past what one
	// execution serves (FleetTiming.MaxFleet) it runs one child execution
	// per page of BoardsPerChild boards (pages.go). 0: one execution.
	MaxBoards int
	// child is filled in by the paged delivery's definition: its role
	// may start it.
	child *childMachine
	// MirrorDeletes: Object Deleted events remove the delivered file from
	// the boards of the target (every board for "any").
	MirrorDeletes bool
	// CoalesceWindow, when set, batches bursts through a queue and a pipe
	// (coalesce.go); 0: one execution per event.
	CoalesceWindow time.Duration
	// Ledger records each board's outcome (the zero value: nothing). The
	// "any" target records nothing: ECS picks the board, and no state
	// knows its name.
	Ledger Ledger

	LogRetention  awslogs.RetentionDays
	RemovalPolicy awscdk.RemovalPolicy
}

// Pipeline exposes what it made.
type Pipeline struct {
	constructs.Construct
	Rule            awsevents.Rule
	TargetRole      awsiam.Role
	DeadLetterQueue awssqs.Queue
	StateMachine    awsstepfunctions.StateMachine
	// PageStateMachine is the child of a paged delivery (Props.MaxBoards
	// past one execution's bounds), nil otherwise.
	PageStateMachine awsstepfunctions.StateMachine
	LogGroup         awslogs.LogGroup
	// Coalescer is the queue and pipe of coalesced bursts, nil without
	// Props.CoalesceWindow.
	Coalescer *Coalescer
}

// New creates the rule and the state machine.
func New(scope constructs.Construct, id string, props Props) *Pipeline {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &Pipeline{Construct: c}
	if props.Target.Kind == "" {
		props.Target.Kind = TargetAny
	}

	props.child = &childMachine{}
	p.LogGroup = executionLogGroup(c, "", props.LogRetention, props.RemovalPolicy)
	p.StateMachine = newStateMachine(c, stateMachineProps{
		Comment:  "edge-drop: deliver an uploaded S3 object to an ECS Anywhere board",
		Body:     props.body(c),
		Timeout:  props.timeout(),
		Role:     deliveryRole(c, props),
		LogGroup: p.LogGroup,
	})

	p.PageStateMachine = props.child.machine

	p.DeadLetterQueue = awssqs.NewQueue(c, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(p.DeadLetterQueue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter queue of the EventBridge target; a DLQ for a DLQ adds nothing."),
	}}, jsii.Bool(true))

	if props.CoalesceWindow == 0 { // the pipe starts the executions of batches
		p.TargetRole = awsiam.NewRole(c, jsii.String("TargetRole"), &awsiam.RoleProps{
			AssumedBy:   trust.EventBridge.PrincipalIn(c),
			Description: jsii.String("edge-drop rule target: start executions of the one state machine"),
		})
	}
	p.Rule = awsevents.NewRule(c, jsii.String("ObjectCreated"), &awsevents.RuleProps{
		Description:  jsii.String(ruleDescription(props.MirrorDeletes)),
		EventPattern: EventPattern(props.Bucket.BucketName(), props.KeyFilter, props.MirrorDeletes),
	})
	if props.CoalesceWindow > 0 {
		p.Coalescer = coalesce(c, p, props)
		return p
	}
	p.Rule.AddTarget(awseventstargets.NewSfnStateMachine(p.StateMachine, &awseventstargets.SfnStateMachineProps{
		Role:            p.TargetRole,
		DeadLetterQueue: p.DeadLetterQueue,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventAgeHours)),
	}))
	return p
}

// executionLogGroup is a state machine's log group. Under /aws/vendedlogs/
// CloudWatch Logs needs no per-log-group entry in the account's log
// resource policy, whose 5,120-character limit otherwise fails state
// machine creation in busy accounts. The stack's GUID ends the name: a
// group retained by an earlier stack of the same name does not block a new
// deploy. infix tells the stack's state machines apart ("" for the
// pipeline's).
func executionLogGroup(c constructs.Construct, infix string, retention awslogs.RetentionDays, removal awscdk.RemovalPolicy) awslogs.LogGroup {
	stackGUID := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), awscdk.Aws_STACK_ID(), nil))
	return awslogs.NewLogGroup(c, jsii.String("ExecutionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(ExecutionLogGroupPrefix + *awscdk.Stack_Of(c).StackName() + "-" + infix), stackGUID}),
		Retention:     retention,
		RemovalPolicy: removal,
	})
}

// stateMachineProps is what differs between the stack's state machines.
type stateMachineProps struct {
	Name, Comment string
	Body          awsstepfunctions.IChainable
	Timeout       time.Duration
	Role          awsiam.Role
	LogGroup      awslogs.LogGroup
}

// newStateMachine is a STANDARD state machine (.sync needs it), traced,
// logging everything to its group.
func newStateMachine(c constructs.Construct, props stateMachineProps) awsstepfunctions.StateMachine {
	var name *string
	if props.Name != "" {
		name = jsii.String(props.Name)
	}
	return awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName: name,
		Comment:          jsii.String(props.Comment),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(props.Body),
		Timeout:          awscdk.Duration_Seconds(jsii.Number(props.Timeout.Seconds())),
		TracingEnabled:   jsii.Bool(true),
		// The role's policy is written in full by stateMachineRole; CDK's
		// own grants (unconditioned RunTask, StopTask on *) do not reach it.
		Role: props.Role.WithoutPolicyUpdates(nil),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          props.LogGroup,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
	})
}

// Target delivery: EventBridge retries a failed StartExecution with backoff
// for up to this long before the event goes to the dead-letter queue.
const (
	targetRetryAttempts    = 185
	targetMaxEventAgeHours = 24
)

// ExecutionLogGroupPrefix starts the name of the state machine's log group
// (the stack name and the stack's GUID follow).
const ExecutionLogGroupPrefix = "/aws/vendedlogs/states/"

func ruleDescription(deletes bool) string {
	if deletes {
		return "edge-drop: S3 Object Created in the drop bucket starts a delivery, Object Deleted a delete"
	}
	return "edge-drop: S3 Object Created in the drop bucket starts a delivery"
}

// EventPattern matches "Object Created" events of the bucket (and "Object
// Deleted" ones, of either deletion-type, when deletes are mirrored),
// narrowed by the key filter when one is set.
func EventPattern(bucketName *string, f KeyFilter, deletes bool) *awsevents.EventPattern {
	detail := map[string]any{"bucket": map[string]any{"name": []any{bucketName}}}
	var key map[string]any
	switch {
	case f.Prefix != "":
		key = map[string]any{"prefix": f.Prefix}
	case f.Suffix != "":
		key = map[string]any{"suffix": f.Suffix}
	case f.Wildcard != "":
		key = map[string]any{"wildcard": f.Wildcard}
	}
	if key != nil {
		detail["object"] = map[string]any{"key": []any{key}}
	}
	detailTypes := []string{DetailTypeCreated}
	if deletes {
		detailTypes = append(detailTypes, DetailTypeDeleted)
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.s3"),
		DetailType: jsii.Strings(detailTypes...),
		Detail:     &detail,
	}
}
