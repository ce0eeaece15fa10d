package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awspipes"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/contract"
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
	c.DeadLetterQueue = awssqs.NewQueue(in, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: c.Key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(c.DeadLetterQueue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter queue of the coalescing queue; a DLQ for a DLQ adds nothing."),
	}}, jsii.Bool(true))
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
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("ReadTheQueue"),
					Actions:   jsii.Strings("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
					Resources: &[]*string{c.Queue.QueueArn()},
				}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("DecryptTheQueuesMessages"),
					Actions:   jsii.Strings("kms:Decrypt"),
					Resources: &[]*string{c.Key.KeyArn()},
					Conditions: &map[string]any{"StringEquals": map[string]any{
						"kms:ViaService": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("sqs."), awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX()}),
					}},
				}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("StartTheDeliveryStateMachine"),
					Actions:   jsii.Strings("states:StartExecution"),
					Resources: &[]*string{props.StateMachine.StateMachineArn()},
				}),
			},
		})},
	})

	c.Pipe = awspipes.NewCfnPipe(in, jsii.String("Pipe"), &awspipes.CfnPipeProps{
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
	return c
}

// batchEnvironment is what a key-list task learns: the bucket and the
// part's keys ($.bucket, $.keys of the part).
func batchEnvironment() []*awsstepfunctionstasks.TaskEnvironmentVariable {
	return []*awsstepfunctionstasks.TaskEnvironmentVariable{
		{Name: jsii.String(contract.EnvBucket), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket"))},
		{Name: jsii.String(contract.EnvKeys), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.keys"))},
	}
}

// taskEnvironment is the delivery task's per-delivery environment: one
// object's event, or with coalescing a part's key list.
func (p Props) taskEnvironment() []*awsstepfunctionstasks.TaskEnvironmentVariable {
	if p.CoalesceWindow > 0 {
		return batchEnvironment()
	}
	return *objectEnvironment()
}

// ReadBatchExpression is ReadBatch's JSONata: the pipe's SQS records
// ($states.input, each body an EventBridge event of S3) to the batch's
// bucket, its key count and its parts. Per key the newest event wins (the
// greatest sequencer, left-padded; equal ones: the later record), then the
// pattern filters; each part's keys are one JSON list (contract.ListedKey)
// of at most MaxKeyListBytes, MaxKeysPerTask entries.
func ReadBatchExpression(keyPattern string) string {
	seq := func(v string) string { return fmt.Sprintf(`$pad($uppercase(%s.detail.object.sequencer), -64, "0")`, v) }
	return strings.Join([]string{
		`(`,
		`$events := $states.input.$parse(body);`,
		`$sorted := $sort($events, function($a, $b) { $a.detail.object.key > $b.detail.object.key or ($a.detail.object.key = $b.detail.object.key and ` + seq("$a") + ` > ` + seq("$b") + `) });`,
		`$n := $count($sorted);`,
		`$newest := $filter($sorted, function($v, $i) { $i = $n - 1 or $sorted[$i + 1].detail.object.key != $v.detail.object.key });`,
		`$kept := $filter($newest, function($v) { $contains($v.detail.object.key, /` + contract.CompilePattern(keyPattern).Regexp() + `/) });`,
		`$strs := $map($kept, function($v) { $string($v.` + "`detail-type`" + ` = "` + DetailTypeDeleted + `"` +
			` ? {"k": $v.detail.object.key, "q": $v.detail.object.sequencer, "d": true}` +
			` : {"k": $v.detail.object.key, "q": $v.detail.object.sequencer, "e": $v.detail.object.etag, "z": $v.detail.object.size}) });`,
		`$count_ := $count($strs);`,
		`$widest := $count_ = 0 ? 0 : $max($map($strs, function($s) { $length($s) }));`,
		fmt.Sprintf(`$per := $min([%d, $floor(%d / ($widest + 1))]);`, contract.MaxKeysPerTask, contract.MaxKeyListBytes-2),
		`$bucket := $events[0].detail.bucket.name;`,
		`{`,
		`"bucket": $bucket,`,
		`"events": $count($events),`,
		`"count": $count_,`,
		`"parts": $count_ = 0 ? [] : [$map([0 .. $ceil($count_ / $per) - 1], function($i) { (`,
		`  $these := $strs[[$i * $per .. $i * $per + $per - 1]];`,
		`  $first := $parse($these[0]).k;`,
		`  {"part": [{"bucket": $bucket, "keys": "[" & $join($these, ",") & "]", "count": $count($these),`,
		`   "key": "s3://" & $bucket & "/" & $first & ($count($these) > 1 ? " and " & ($count($these) - 1) & " more keys" : "")}]}`,
		`) })]`,
		`}`,
		`)`,
	}, "\n")
}

// batchDefinition is ReadBatch → AnyKeysInBatch → DeliverEachPart (one
// part after another; each part is the target's delivery, oneBoard or the
// fleet fan-out, with the part's key list, inside a Map of one item whose
// Catch lets the later parts run when one fails) → EveryPartDelivered.
func batchDefinition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	read := awsstepfunctions.NewPass(scope, at(contract.StateReadBatch), &awsstepfunctions.PassProps{
		Comment:       at("The batch's keys: the newest event of each, those the pattern matches, in parts of one task's key list"),
		QueryLanguage: awsstepfunctions.QueryLanguage_JSONATA,
		Outputs:       "{% " + ReadBatchExpression(props.KeyPattern) + " %}",
	})
	skipped := awsstepfunctions.NewSucceed(scope, at(contract.StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: at("No key of the batch matches the pattern: nothing to deliver"),
	})

	var deliver awsstepfunctions.IChainable
	if props.Target.Kind == TargetAny {
		deliver = oneBoard(scope, props)
	} else {
		deliver = fleet(scope, props, FanOutProps{
			What:        str("$.key"),
			Carry:       []string{"bucket", "key", "keys", "count"},
			Environment: batchEnvironment(),
		})
	}
	// A Map over the part's one item: its Catch lets the later parts run
	// when this one fails (an inline Map stops at its first failed
	// iteration).
	part := awsstepfunctions.NewMap(scope, at(contract.StateDeliverPart), &awsstepfunctions.MapProps{
		Comment:        at("One part of the batch: one task per board for all of its keys"),
		ItemsPath:      at("$.part"),
		ResultSelector: &map[string]any{"delivered": true},
	})
	part.ItemProcessor(deliver, nil)
	notDelivered := awsstepfunctions.NewPass(scope, at(contract.StatePartNotDelivered), &awsstepfunctions.PassProps{
		Comment: at("The part failed (a key failed on a board, a board was offline): the later parts still run"),
		Parameters: &map[string]any{
			"delivered": false,
			"what":      awsstepfunctions.JsonPath_StringAt(at("$.part[0].key")),
			"error":     awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.error"))),
		},
	})
	part.AddCatch(notDelivered, &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: at("$.error")})

	each := awsstepfunctions.NewMap(scope, at(contract.StateDeliverParts), &awsstepfunctions.MapProps{
		Comment:        at("The parts one after another: a board gets one task at a time"),
		ItemsPath:      at("$.parts"),
		MaxConcurrency: jsii.Number(1),
		ResultPath:     at("$.delivered"),
	})
	each.ItemProcessor(part, nil)

	failed := awsstepfunctions.NewFail(scope, at(contract.StateBatchFailed), &awsstepfunctions.FailProps{
		Comment: at("Some part of the batch was not delivered everywhere; each board's outcome is in its part's history"),
		Error:   at(contract.ErrDeliveryFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at("not every key of the batch ({} keys of {} events) was delivered: {}"),
			str("$.count"), str("$.events"), awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ListAt(at("$.delivered")))),
	})
	verdict := awsstepfunctions.NewChoice(scope, at(contract.StateEveryPart), &awsstepfunctions.ChoiceProps{
		Comment:       at("Every part delivered?"),
		QueryLanguage: awsstepfunctions.QueryLanguage_JSONATA,
	}).
		When(awsstepfunctions.Condition_Jsonata(at("{% $count($states.input.delivered[delivered = false]) = 0 %}")),
			awsstepfunctions.NewSucceed(scope, at(contract.StateBatchDelivered), &awsstepfunctions.SucceedProps{
				Comment: at("Every key of the batch is on every board of the target (or gone)"),
			}), nil).
		Otherwise(failed)

	return read.Next(awsstepfunctions.NewChoice(scope, at(contract.StateAnyKeysInBatch), &awsstepfunctions.ChoiceProps{
		Comment: at("Any key left to deliver?"),
	}).
		When(awsstepfunctions.Condition_NumberGreaterThan(at("$.count"), jsii.Number(0)), each.Next(verdict), nil).
		Otherwise(skipped))
}

// body is the state machine's definition: one event's, or a batch's.
func (p Props) body(scope constructs.Construct) awsstepfunctions.IChainable {
	if p.CoalesceWindow > 0 {
		return batchDefinition(scope, p)
	}
	return definition(scope, p)
}

// timeout is the execution's TimeoutSeconds. A batch runs its parts one
// after another, each as long as one delivery may take; at worst every
// event of the batch is a part of its own (keys too long to share a list).
func (p Props) timeout() time.Duration {
	if p.CoalesceWindow > 0 {
		return p.executionTimeout() * CoalesceBatchSize
	}
	return p.executionTimeout()
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

// CheckCoalesce says whether a batch can end within one STANDARD
// execution's year: its parts run one after another, at worst one part per
// event of the batch (keys long enough that one fills a task's list), each
// as long as one delivery may take (a 24-h task with a 2-h offlineWait to
// a fleet cannot: its batches would outlast the year).
func CheckCoalesce(taskTimeout, offlineWait time.Duration, target TargetKind, deletes bool) error {
	p := Props{TaskTimeout: taskTimeout, OfflineWait: offlineWait, Target: Target{Kind: target}, MirrorDeletes: deletes, CoalesceWindow: time.Second}
	if d := p.timeout(); d > MaxExecutionDuration {
		return fmt.Errorf("coalesceWindow with taskTimeout=%s and offlineWait=%s: a batch of up to %d parts may need %d days, over Step Functions' one year: lower taskTimeout or offlineWait, or set coalesceWindow=off",
			taskTimeout, offlineWait, CoalesceBatchSize, int(d.Hours()/24+0.5))
	}
	return nil
}
