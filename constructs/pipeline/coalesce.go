package pipeline

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awspipes"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/trust"
)

// Bursts coalesce (Props.CoalesceWindow): the rule sends each event to an
// encrypted SQS queue; an EventBridge Pipe reads it in batches (up to
// CoalesceBatchSize events, or the window) and starts one execution per
// batch (FIRE_AND_FORGET: the only invocation a STANDARD state machine
// allows a pipe). The execution reads the batch's keys, keeps the newest
// event of each, drops keys the pattern does not match, and delivers the
// rest in parts of at most contract.MaxKeyListBytes (RunTask's overrides
// allow 8,192 characters): each board gets one task per part, which
// delivers every key of it (contract.EnvKeys).

// CoalesceBatchSize is the pipe's BatchSize. Pipes hands a Step Functions
// target the batch as one JSON array, its input, which may not pass
// 262,144 bytes: an SQS record carrying an S3 event is 2-3 KB (the event,
// escaped, and the record's receipt handle and attributes), up to ~6 KB
// with a 1,024-byte key that URL-encoding triples. 40 records stay inside
// the quota at worst and make 1,000 uploads 25 executions.
const CoalesceBatchSize = 40

// coalesceMaxReceives is how often the pipe may fail to start an execution
// for a batch before its events go to the dead-letter queue.
const coalesceMaxReceives = 5

// Coalescer is the queue and the pipe in front of the state machine.
type Coalescer struct {
	constructs.Construct
	Key             awskms.Key
	Queue           awssqs.Queue
	DeadLetterQueue awssqs.Queue
	Role            awsiam.Role
	Pipe            awspipes.CfnPipe
}

// CoalescerProps configures the queue and the pipe.
type CoalescerProps struct {
	StateMachine  awsstepfunctions.IStateMachine
	Window        time.Duration
	RemovalPolicy awscdk.RemovalPolicy
}

// NewCoalescer makes the KMS-encrypted, TLS-only queue with its
// dead-letter queue, and the pipe that starts the state machine with
// batches of it. The pipe's role may only read and delete the queue's
// messages, decrypt them and start the one state machine.
func NewCoalescer(scope constructs.Construct, id string, props CoalescerProps) *Coalescer {
	in := constructs.NewConstruct(scope, jsii.String(id))
	c := &Coalescer{Construct: in}
	c.Key = awskms.NewKey(in, jsii.String("QueueKey"), &awskms.KeyProps{
		Description:       jsii.String("edge-drop: the coalescing queue of upload events and its dead-letter queue"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     props.RemovalPolicy,
	})
	c.DeadLetterQueue = deadLetterQueue(in, c.Key, "the coalescing queue")
	c.Queue = awssqs.NewQueue(in, jsii.String("Events"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: c.Key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(4)),
		// The pipe holds a batch invisible while it starts the execution.
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(2)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: c.DeadLetterQueue, MaxReceiveCount: jsii.Number(coalesceMaxReceives)},
	})
	c.Role = awsiam.NewRole(in, jsii.String("PipeRole"), &awsiam.RoleProps{
		AssumedBy:   trust.Pipes.PrincipalIn(in),
		Description: jsii.String("edge-drop pipe: read batches of upload events and start the delivery state machine"),
		// Inline: the pipe checks its source's permissions when it is
		// created, before a separate policy resource would be attached.
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Pipe": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: c.pipeStatements(props.StateMachine),
		})},
	})
	c.Pipe = c.newPipe(props)
	return c
}

// pipeStatements: read and delete the queue's messages, decrypt them
// (through SQS only), start the one state machine.
func (c *Coalescer) pipeStatements(machine awsstepfunctions.IStateMachine) *[]awsiam.PolicyStatement {
	viaSQS := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("sqs."), awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX()})
	return &[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadTheQueue"),
			Actions:   jsii.Strings("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
			Resources: &[]*string{c.Queue.QueueArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DecryptTheQueuesMessages"),
			Actions:    jsii.Strings("kms:Decrypt"),
			Resources:  &[]*string{c.Key.KeyArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": viaSQS}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StartTheDeliveryStateMachine"),
			Actions:   jsii.Strings("states:StartExecution"),
			Resources: &[]*string{machine.StateMachineArn()},
		}),
	}
}

// newPipe reads the queue in batches (CoalesceBatchSize events, or the
// window) and starts one execution per batch.
func (c *Coalescer) newPipe(props CoalescerProps) awspipes.CfnPipe {
	return awspipes.NewCfnPipe(c.Construct, jsii.String("Pipe"), &awspipes.CfnPipeProps{
		Description: jsii.String("edge-drop: batches of upload events start one delivery each"),
		RoleArn:     c.Role.RoleArn(),
		Source:      c.Queue.QueueArn(),
		SourceParameters: &awspipes.CfnPipe_PipeSourceParametersProperty{
			SqsQueueParameters: &awspipes.CfnPipe_PipeSourceSqsQueueParametersProperty{
				BatchSize:                      jsii.Number(CoalesceBatchSize),
				MaximumBatchingWindowInSeconds: jsii.Number(props.Window.Seconds()),
			},
		},
		Target: props.StateMachine.StateMachineArn(),
		TargetParameters: &awspipes.CfnPipe_PipeTargetParametersProperty{
			StepFunctionStateMachineParameters: &awspipes.CfnPipe_PipeTargetStateMachineParametersProperty{
				InvocationType: jsii.String("FIRE_AND_FORGET"),
			},
		},
		DesiredState: jsii.String("RUNNING"),
	})
}

// coalesce points the rule at the queue (its failures to the pipeline's
// dead-letter queue, as the state machine target's) and makes the pipe.
func coalesce(c constructs.Construct, p *Pipeline, props Props) *Coalescer {
	co := NewCoalescer(c, "Coalesce", CoalescerProps{
		StateMachine:  p.StateMachine,
		Window:        props.CoalesceWindow,
		RemovalPolicy: props.RemovalPolicy,
	})
	p.Rule.AddTarget(awseventstargets.NewSqsQueue(co.Queue, &awseventstargets.SqsQueueProps{
		DeadLetterQueue: p.DeadLetterQueue,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventAgeHours)),
	}))
	return co
}
