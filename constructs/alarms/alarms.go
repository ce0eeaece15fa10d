// Package alarms makes sure a failed delivery is never silent: one CloudWatch
// alarm per way a delivery can fail (the execution failed, timed out or was
// stopped; EventBridge could not start it at all), each telling the operator
// what to do, all notifying one encrypted, TLS-only SNS topic.
package alarms

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props says what to watch and whom to tell.
type Props struct {
	StateMachine    awsstepfunctions.IStateMachine
	DeadLetterQueue awssqs.IQueue
	// BatchDeadLetterQueue is the coalescing queue's dead-letter queue
	// (nil: no coalescing).
	BatchDeadLetterQueue awssqs.IQueue
	// Sync is the sync state machine (nil: none).
	Sync awsstepfunctions.IStateMachine
	// LedgerFailures counts ledger writes that failed after their retry
	// (nil: no ledger).
	LedgerFailures awscloudwatch.IMetric
	// Email subscribes one address to the topic ("" = none; subscribe
	// later, e.g. a chat or paging integration). SNS mails a confirmation
	// link first.
	Email string
	// RemovalPolicy applies to the topic's KMS key; "" retains it.
	RemovalPolicy awscdk.RemovalPolicy
}

// Alarm names, after the stack name: "<stack>-<name>".
const (
	DeliveryFailed    = "DeliveryFailed"
	DeliveryTimedOut  = "DeliveryTimedOut"
	DeliveryAborted   = "DeliveryAborted"
	EventsUndelivered = "EventsUndelivered"
	// BatchesUndelivered: coalescing only (the pipe's dead letters).
	BatchesUndelivered = "BatchesUndelivered"
	SyncFailed         = "SyncFailed"
	SyncTimedOut       = "SyncTimedOut"
	LedgerNotWritten   = "LedgerNotWritten"
)

// Alarms exposes what it made.
type Alarms struct {
	constructs.Construct
	Topic awssns.Topic
	Key   awskms.Key
	// ByName holds the alarms by the names above.
	ByName map[string]awscloudwatch.Alarm
	// arns are the ARNs of the alarms, in the order they were added: the
	// alarms that may publish to the topic.
	arns []*string
}

// alarmArns produces the topic policy's list of alarms when the stack is
// synthesized, after every alarm was added.
type alarmArns struct{ a *Alarms }

func (p *alarmArns) Produce() *[]*string { return &p.a.arns }

// period is the evaluation window. Every failure is a real event, so one
// datapoint of at least 1 in one period alarms: the operator hears within
// about five minutes, and a burst of failures in the same window is one
// notification, not one per object. A function, not a package variable: a
// CDK value at package level would start the jsii runtime (Node) in every
// program that imports this package, before main, even the demo's -h.
func period() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

// New creates the key, the topic and the alarms.
func New(scope constructs.Construct, id string, props Props) *Alarms {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Alarms{Construct: c, ByName: map[string]awscloudwatch.Alarm{}}
	stack := awscdk.Stack_Of(c)
	a.Key = newTopicKey(c, stack, props.RemovalPolicy)
	a.Topic = a.newTopic(stack, props.Email)
	for _, w := range watched(props) {
		a.add(stack, w.name, w.metric, w.description)
	}
	return a
}

// newTopicKey is the topic's key. A customer managed key: the AWS managed
// alias/aws/sns key's policy cannot be changed, and CloudWatch may only
// publish to an encrypted topic whose key policy lets it use the key.
func newTopicKey(c constructs.Construct, stack awscdk.Stack, removal awscdk.RemovalPolicy) awskms.Key {
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	key := awskms.NewKey(c, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String(fmt.Sprintf("edge-drop %s: encrypts the delivery alarm topic", *stack.StackName())),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	// No source conditions here: the key encrypts this one topic, and who
	// may publish is decided by the topic policy. A condition key the KMS
	// request does not carry would drop every alarm without an error.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsEncryptForTheTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy: this key
	}), nil)
	return key
}

// newTopic is the encrypted, TLS-only topic the alarms of a notify, with
// email subscribed ("" = none).
func (a *Alarms) newTopic(stack awscdk.Stack, email string) awssns.Topic {
	topic := awssns.NewTopic(a.Construct, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("edge-drop delivery alarms"),
		MasterKey:   a.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	// The topic policy replaces SNS's default one, so CloudWatch needs an
	// explicit grant: the alarms of this construct, of this account only.
	// The list is read at synth time from the alarms add made, whichever
	// exist: an alarm that notifies the topic is always allowed to.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyTheseAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": awscdk.Lazy_List(&alarmArns{a}, nil)},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic
}

// A watch is one way a delivery can fail: the alarm's name, the metric that
// counts it and what the operator should do.
type watch struct {
	name        string
	metric      awscloudwatch.IMetric
	description string
}

// watched lists the alarms props calls for, in the order they are made.
func watched(props Props) []watch {
	w := deliveryWatches(props.StateMachine)
	if props.Sync != nil {
		w = append(w, syncWatches(props.Sync)...)
	}
	if props.LedgerFailures != nil {
		w = append(w, watch{LedgerNotWritten, props.LedgerFailures,
			"The delivery ledger missed an outcome: a state machine could not write the table even after a retry (throttled, the table deleted, " +
				"its role changed). Deliveries went on; only edge-drop status, boards and the page lack that outcome. Find the execution's LedgerNotWritten " +
				"state in the execution log (its input holds the error), fix the cause, then edge-drop redeliver KEY --board B records it again."})
	}
	w = append(w, watch{EventsUndelivered, queued(props.DeadLetterQueue),
		"EventBridge could not start the state machine for an upload, even after 24 hours of retries, so no delivery was attempted. " +
			"Read the messages in the dead-letter queue (output DeadLetterQueueUrl): their ERROR_CODE and ERROR_MESSAGE attributes say why " +
			"(throttling, permissions, a deleted state machine). Fix it, upload the objects again, then purge the queue."})
	if props.BatchDeadLetterQueue != nil {
		w = append(w, watch{BatchesUndelivered, queued(props.BatchDeadLetterQueue),
			"The pipe could not start the state machine for a batch of uploads, 5 times over (coalesceWindow), so their delivery was not attempted. " +
				"Read the messages in the coalescing dead-letter queue (the pipe's logs and the state machine's StartExecution errors say why: " +
				"throttling, permissions, a deleted state machine). Fix it, upload the objects again (or redrive the messages), then purge the queue."})
	}
	return w
}

// executions counts the executions of a state machine in a period.
func executions() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: period(), Statistic: awscloudwatch.Stats_SUM()}
}

// queued is a dead-letter queue's depth. Maximum: the queue holds
// undelivered events until someone acts, so the alarm stays in ALARM (one
// notification) until it is drained.
func queued(q awssqs.IQueue) awscloudwatch.IMetric {
	return q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: period(), Statistic: awscloudwatch.Stats_MAXIMUM()})
}

// deliveryWatches are the single delivery's ends other than success.
func deliveryWatches(sm awsstepfunctions.IStateMachine) []watch {
	return []watch{
		{DeliveryFailed, sm.MetricFailed(executions()),
			"An object was not delivered to the board: the task exited non-zero or could not be started. " +
				"Open the failed execution of the state machine (stack output StateMachineArn): the DeliveryFailed cause names the object, " +
				"the error and the task's exit code (meanings in docs/task.md). Fix the cause, then upload the object again."},
		{DeliveryTimedOut, sm.MetricTimedOut(executions()),
			"A delivery ran longer than the execution allows (taskTimeout plus time for placement retries): the board is offline, full or too slow for the object. " +
				"Check the board in the ECS console (container instance connected, agent running) and the task log group (output TaskLogGroup); " +
				"raise taskTimeout for large objects, then upload the object again."},
		{DeliveryAborted, sm.MetricAborted(executions()),
			"A delivery was stopped before it finished (StopExecution by a person or a script), so its object was not delivered. " +
				"If that was not intended, find the aborted execution of the state machine (output StateMachineArn) and upload the object again."},
	}
}

// syncWatches are a sync's ends other than success.
func syncWatches(sync awsstepfunctions.IStateMachine) []watch {
	return []watch{
		{SyncFailed, sync.MetricFailed(executions()),
			"A sync did not bring every board up to date: some boards were offline for all of offlineWait, a task failed (exit 11: some objects failed, " +
				"the rest are on the board), or no board matched the target. Open the failed execution of the sync state machine (output SyncStateMachineArn): " +
				"TallyOutcomes lists each board's outcome. Offline boards are synced by the next scheduled run; fix a failing board, then run make sync BOARD=<name>."},
		{SyncTimedOut, sync.MetricTimedOut(executions()),
			"A sync ran longer than its execution allows: a board is too slow for the prefix or stuck. Check the boards' task logs (output TaskLogGroup); " +
				"what a sync delivered stays delivered, and the next one carries on from there."},
	}
}

// add creates one alarm on metric that notifies the topic.
func (a *Alarms) add(stack awscdk.Stack, name string, metric awscloudwatch.IMetric, description string) {
	alarm := awscloudwatch.NewAlarm(a.Construct, jsii.String(name), &awscloudwatch.AlarmProps{
		AlarmName:          alarmName(stack, name),
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		// No executions (or an empty queue) publish no datapoints: that is
		// the healthy state, not an unknown one.
		TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.Topic))
	a.ByName[name] = alarm
	a.arns = append(a.arns, stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
		ResourceName: alarmName(stack, name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	}))
}

// alarmName is "<stack>-<name>": readable in the notification's subject and
// unique when several pipeline stacks share an account.
func alarmName(stack awscdk.Stack, name string) *string {
	return jsii.String(*stack.StackName() + "-" + name)
}
