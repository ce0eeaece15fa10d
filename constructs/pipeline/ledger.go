package pipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// Ledger says where the fan-outs record each board's outcome
// (contract/ledger.go). The zero value records nothing.
type Ledger struct {
	// Table is the ledger's table name (constructs/ledger).
	Table *string
	// TableArn scopes the state machine role's writes.
	TableArn *string
	// HistoryDays is how long history items live (expiresAt).
	HistoryDays int
}

func (l Ledger) enabled() bool { return l.Table != nil }

// ledgerKind is what a fan-out records: an object's outcome on a board
// (deliveries and deletes, in mode) or a board's sync.
type ledgerKind struct {
	sync bool
	mode string // contract.ModeDownload or contract.ModeDelete (objects)
}

// LedgerRetryErrors are the DynamoDB errors a ledger write retries once
// (one Retry rule): throttling and service faults. A failed condition is
// no error to retry (an older event), and anything else (no table, no
// permission) would fail again.
var LedgerRetryErrors = []string{
	"DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.ThrottlingException",
	"DynamoDB.RequestLimitExceeded", "DynamoDB.InternalServerErrorException",
	"DynamoDB.AmazonDynamoDBException", "States.Timeout",
}

// graphOnlyError is raised by nothing: see recordOutcome.
const graphOnlyError = "EdgeDrop.LedgerGraphOnly"

// ErrConditionalCheckFailed is the error of a write whose condition did
// not hold: a newer outcome is already recorded.
const ErrConditionalCheckFailed = "DynamoDB.ConditionalCheckFailedException"

// The Step Functions DynamoDB integrations the ledger uses.
const (
	ResourceUpdateItem = "arn:aws:states:::dynamodb:updateItem"
	ResourcePutItem    = "arn:aws:states:::dynamodb:putItem"
)

// recordOutcome is what follows every board's Outcome in a fan-out's
// iteration: two JSONata Task states, the current item (UpdateItem, only
// if no newer outcome is recorded) and the history item (PutItem), then
// the iteration ends with the Outcome as it was. Two state transitions
// per board; a write that still fails after its retry goes to
// LedgerNotWritten (counted, alarmed) and the delivery goes on.
//
// JSONata, not JSONPath: the key is stored decoded (events encode it),
// expiresAt is epoch seconds computed from the time, and absent values
// (no exit code, no task) are removed rather than written as null; none
// of that is JSONPath. The object is read from the execution's input
// (the S3 event, or the CLI's redelivery event): the Outcome has
// replaced the iteration's state.
func recordOutcome(scope constructs.Construct, prefix string, l Ledger, kind ledgerKind) awsstepfunctions.IChainable {
	currentName, historyName, failedName := contract.StateRecordOutcome, contract.StateRecordHistory, contract.StateLedgerNotWritten
	current, history := objectCurrent(*l.Table, kind.mode), objectHistory(*l.Table, kind.mode, l.HistoryDays)
	if kind.sync {
		currentName, historyName, failedName = contract.StateRecordSync, contract.StateRecordSyncHistory, contract.StateSyncLedgerFailed
		current, history = syncCurrent(*l.Table), syncHistory(*l.Table, l.HistoryDays)
	}
	failed := awsstepfunctions.NewPass(scope, jsii.String(prefix+failedName), &awsstepfunctions.PassProps{
		Comment:    jsii.String("The ledger write failed after its retry: counted (metric filter on this state's entries, alarm LedgerNotWritten); the delivery goes on"),
		OutputPath: jsii.String("$.outcome"),
	})
	withAt := "{% {'outcome': $states.input, 'at': $states.context.State.EnteredTime} %}"
	failedOut := func(outcome string) string {
		return "{% {'outcome': " + outcome + ", 'error': $states.errorOutput} %}"
	}
	catch := func(errors, next, output string) map[string]any {
		return map[string]any{"ErrorEquals": []string{errors}, "Next": prefix + next, "Output": output}
	}
	// CDK warns of a CustomState with catchers from both sources (see
	// ledgerWrite). An acknowledgement covers the scope's children only
	// (CDK looks for it on the ancestors of the warning's construct), so
	// it is made here, on the scope, for this one warning.
	awscdk.Annotations_Of(scope).AcknowledgeWarning(jsii.String("@aws-cdk/aws-stepfunctions:multipleCatchSources"),
		jsii.String("the ledger states' graph-only catcher comes first and matches nothing"))
	hist := ledgerWrite(scope, prefix+historyName, "The history item of this outcome (expires after ledgerHistoryDays); the iteration's output stays the Outcome",
		ResourcePutItem, history, "{% $states.input.outcome %}", failed,
		catch("States.ALL", failedName, failedOut("$states.input.outcome")))
	cur := ledgerWrite(scope, prefix+currentName, "The board's current item, unless a newer outcome is recorded already (the condition)",
		ResourceUpdateItem, current, withAt, failed,
		// Older than what is recorded: the current item stays, the
		// history still gets this outcome.
		catch(ErrConditionalCheckFailed, historyName, withAt),
		catch("States.ALL", failedName, failedOut("$states.input")))
	cur.Next(hist)
	return cur
}

// ledgerWrite is one JSONata Task state of the ledger: a DynamoDB call
// (resource) with its JSONata arguments and output, retried once, its
// catchers in catches. CDK renders a CustomState's addCatch without a
// JSONata Output (it does not know the state is JSONata), so the catchers
// are in StateJson; the one AddCatch, for an error nothing raises, only
// shows CDK the edge to failed (it renders the states it can reach).
func ledgerWrite(scope constructs.Construct, id, comment, resource, args, output string, failed awsstepfunctions.IChainable, catches ...map[string]any) awsstepfunctions.CustomState {
	s := awsstepfunctions.NewCustomState(scope, jsii.String(id), &awsstepfunctions.CustomStateProps{
		StateJson: &map[string]any{
			"Type": "Task", "QueryLanguage": "JSONata", "Comment": comment,
			"Resource": resource, "Arguments": args, "Output": output,
			"Retry": []any{map[string]any{
				"ErrorEquals": LedgerRetryErrors, "MaxAttempts": 1, "IntervalSeconds": 2, "BackoffRate": 2, "JitterStrategy": "FULL",
			}},
			"Catch": catches,
		},
	})
	s.AddCatch(failed, &awsstepfunctions.CatchProps{Errors: jsii.Strings(graphOnlyError)})
	return s
}

// LedgerFailures counts the ledger writes that failed after their retry
// in a state machine's execution log: the entries of its LedgerNotWritten
// states (Step Functions logs each state entered, LogLevel ALL). One
// filter per log group, one metric for the stack.
func LedgerFailures(scope constructs.Construct, id string, logs awslogs.ILogGroup) awslogs.MetricFilter {
	names := []string{contract.StateLedgerNotWritten, contract.DeletePrefix + contract.StateLedgerNotWritten, contract.StateSyncLedgerFailed}
	var which []string
	for _, n := range names {
		which = append(which, fmt.Sprintf(`($.details.name = %q)`, n))
	}
	return awslogs.NewMetricFilter(scope, jsii.String(id), &awslogs.MetricFilterProps{
		LogGroup:        logs,
		FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(`{ ($.type = "PassStateEntered") && (` + strings.Join(which, " || ") + `) }`)),
		MetricNamespace: jsii.String(LedgerMetricNamespace + *awscdk.Stack_Of(scope).StackName()),
		MetricName:      jsii.String(LedgerMetricName),
		MetricValue:     jsii.String("1"),
	})
}

// The metric of LedgerFailures: namespace edge-drop/<stack>.
const (
	LedgerMetricNamespace = "edge-drop/"
	LedgerMetricName      = "LedgerWritesFailed"
)
