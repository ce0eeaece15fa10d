package pipeline

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
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

// Flow is what the pipeline and the sync share: which objects (Bucket,
// KeyPattern) reach which boards (Cluster, Target) through which task,
// what is recorded of it, how long a board is waited for, and how the
// state machines' logs are kept. Props and SyncProps embed it.
type Flow struct {
	// Bucket is the drop bucket the objects come from.
	Bucket awss3.IBucket
	// Cluster is the EXTERNAL (ECS Anywhere) cluster the boards are
	// registered in; every ECS call of the state machines is bound to it.
	Cluster awsecs.ICluster
	// Task is the download task run on the boards.
	Task *downloadtask.DownloadTask
	// Target is where each file goes; the zero value is TargetAny. A sync
	// reaches the boards a delivery does.
	Target Target
	// KeyPattern is the StringMatches pattern of the keys delivered (the
	// KeyMatchesPattern Choice); a sync keeps what a delivery would.
	KeyPattern string
	// MirrorDeletes: Object Deleted events remove the delivered file from
	// the boards of the target (every board for "any"), and a sync removes
	// delivered files whose objects are gone.
	MirrorDeletes bool
	// Ledger records each board's outcome (the zero value: nothing). The
	// "any" target records nothing: ECS picks the board, and no state
	// knows its name.
	Ledger Ledger
	// TaskTimeout bounds one run of the task on a board.
	TaskTimeout time.Duration
	// OfflineWait bounds the retries of a busy or offline board (fan-outs
	// only: fleet targets, deletes and syncs).
	OfflineWait time.Duration
	// LogRetention and RemovalPolicy are the state machines' log groups'
	// (RemovalPolicy also the coalescing queue's key's).
	LogRetention  awslogs.RetentionDays
	RemovalPolicy awscdk.RemovalPolicy
}

// withDefaults is f with the zero Target made TargetAny.
func (f Flow) withDefaults() Flow {
	if f.Target.Kind == "" {
		f.Target.Kind = TargetAny
	}
	return f
}

// timing is what bounds f's fan-outs in time and history events.
func (f Flow) timing() FleetTiming {
	return FleetTiming{TaskTimeout: f.TaskTimeout, OfflineWait: f.OfflineWait}
}

// Props configures the pipeline: the Flow, and what only deliveries have.
type Props struct {
	Flow
	// KeyFilter narrows the rule's event pattern on the key.
	KeyFilter KeyFilter
	// MaxObjectBytes is the largest object delivered; larger ones end in
	// TooLarge.
	MaxObjectBytes int64
	// MaxBoards is the largest fleet a delivery must reach; past what one
	// execution serves (FleetTiming.MaxFleet) it runs one child execution
	// per page of BoardsPerChild boards (pages.go). 0: one execution.
	MaxBoards int
	// CoalesceWindow, when set, batches bursts through a queue and a pipe
	// (coalesce.go); 0: one execution per event.
	CoalesceWindow time.Duration
	// child is filled in by the paged delivery's definition: its role
	// may start it.
	child *childMachine
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
	props.Flow = props.Flow.withDefaults()
	p.addStateMachine(props)
	p.DeadLetterQueue = deadLetterQueue(c, nil, "the EventBridge target")
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

// addStateMachine makes the delivery state machine with its log group and
// role and, for a paged delivery, its child.
func (p *Pipeline) addStateMachine(props Props) {
	props.child = &childMachine{}
	p.LogGroup = executionLogGroup(p.Construct, "", props.LogRetention, props.RemovalPolicy)
	p.StateMachine = newStateMachine(p.Construct, stateMachineProps{
		Comment:  "edge-drop: deliver an uploaded S3 object to an ECS Anywhere board",
		Body:     props.body(p.Construct),
		Timeout:  props.timeout(),
		Role:     newRole(p.Construct, props.deliveryNeeds()),
		LogGroup: p.LogGroup,
	})
	p.PageStateMachine = props.child.machine
}

// deadLetterQueue keeps for 14 days what could not be handed on: TLS
// only, encrypted with key (nil: SQS-managed). of says whose dead letters
// it holds.
func deadLetterQueue(scope constructs.Construct, key awskms.IKey, of string) awssqs.Queue {
	props := &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	}
	if key != nil {
		props.Encryption, props.EncryptionMasterKey = awssqs.QueueEncryption_KMS, key
	}
	q := awssqs.NewQueue(scope, jsii.String("DeadLetters"), props)
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter queue of " + of + "; a DLQ for a DLQ adds nothing."),
	}}, jsii.Bool(true))
	return q
}
