package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
)

// The ledger in the app (issue 20): the table and the outputs the CLI
// finds its resources by; the fan-outs' writes (direct DynamoDB
// integration, JSONata, one retry rule, caught into LedgerNotWritten);
// the role's one ledger statement; the metric filter and its alarm; a
// redelivery narrowed to its board.
func TestLedgerInThePipelineStack(t *testing.T) {
	tpl := fleetPipeline(t, "fleet-group", fleetConfigs["fleet-group"])
	tableID, props := only(t, tpl, "AWS::DynamoDB::Table")
	like(t, "the table", props, map[string]any{
		"TableName": "EdgeDrop-Ledger", "BillingMode": "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": contract.LedgerExpiresAt, "Enabled": true},
	})
	tpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain"})
	outputs := tpl.ToJSON()
	for _, o := range []string{contract.OutputLedgerTable, contract.OutputClusterName, contract.OutputDelivery, contract.OutputBucketName, contract.OutputStateMachineArn} {
		if _, ok := (*outputs)["Outputs"].(map[string]any)[o]; !ok {
			t.Errorf("no stack output %s", o)
		}
	}
	delivery := (*outputs)["Outputs"].(map[string]any)[contract.OutputDelivery].(map[string]any)["Value"].(string)
	if d, err := contract.ParseDelivery(delivery); err != nil || d.DeliverTo != "group:site1" {
		t.Errorf("output %s = %s: %v", contract.OutputDelivery, delivery, err)
	}

	def := asl(t, tpl)
	inner := get(t, def, "States", contract.StateDeliverEach, "ItemProcessor", "States").(map[string]any)
	retry := []any{map[string]any{"ErrorEquals": toAny(pipeline.LedgerRetryErrors), "MaxAttempts": 1, "IntervalSeconds": 2, "BackoffRate": 2, "JitterStrategy": "FULL"}}
	like(t, "RecordBoardOutcome", inner[contract.StateRecordOutcome], map[string]any{
		"Type": "Task", "QueryLanguage": "JSONata", "Resource": pipeline.ResourceUpdateItem, "Next": contract.StateRecordHistory, "Retry": retry,
	})
	like(t, "RecordBoardHistory", inner[contract.StateRecordHistory], map[string]any{
		"Type": "Task", "QueryLanguage": "JSONata", "Resource": pipeline.ResourcePutItem, "End": true, "Retry": retry,
		"Output": "{% $states.input.outcome %}",
	})
	catches := get(t, inner, contract.StateRecordOutcome, "Catch").([]any)
	if len(catches) != 3 || get(t, catches, 1, "Next") != contract.StateRecordHistory || get(t, catches, 1, "ErrorEquals", 0) != pipeline.ErrConditionalCheckFailed ||
		get(t, catches, 2, "Next") != contract.StateLedgerNotWritten || get(t, catches, 2, "ErrorEquals", 0) != "States.ALL" {
		t.Errorf("RecordBoardOutcome's catchers: %v", catches)
	}
	args := get(t, inner, contract.StateRecordOutcome, "Arguments").(string)
	for _, want := range []string{"'TableName': 'EdgeDrop-Ledger'", "attribute_not_exists(#sequencer) OR #sequencer <= :sequencer", "$decodeUrlComponent", "'gpk'", "'mode': {'S': 'download'}"} {
		if !strings.Contains(args, want) {
			t.Errorf("RecordBoardOutcome's Arguments lack %q", want)
		}
	}
	if h := get(t, inner, contract.StateRecordHistory, "Arguments").(string); !strings.Contains(h, "86400") || !strings.Contains(h, "'tpk'") || !strings.Contains(h, "'hist#'") {
		t.Errorf("RecordBoardHistory's Arguments: %s", h)
	}
	like(t, "LedgerNotWritten", inner[contract.StateLedgerNotWritten], map[string]any{"Type": "Pass", "OutputPath": "$.outcome", "End": true})
	like(t, "ChooseRedeliveryBoard", get(t, def, "States", contract.StateRedeliverOne), map[string]any{
		"Parameters": map[string]any{"filter.$": "States.Format('attribute:edge-drop.board == {} and (attribute:edge-drop.group.site1 exists)', $$.Execution.Input.edgeDrop.board)"},
		"Next":       contract.StateListBoards,
	})

	got := reduce(t, statementsOf(t, tpl, "PipelineStateMachineRole"))["RecordOutcomesInTheLedger"]
	if strings.Join(got.Actions, ",") != "dynamodb:PutItem,dynamodb:UpdateItem" || len(got.Resources) != 1 || got.Resources[0] != "${"+tableID+".Arn}" ||
		got.Conditions != `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":"[obj#*, board#*]"}}` {
		t.Errorf("the ledger statement: %+v", got)
	}
	tpl.HasResourceProperties(jsii.String("AWS::Logs::MetricFilter"), map[string]any{
		"FilterPattern": assertions.Match_StringLikeRegexp(jsii.String(`PassStateEntered.*LedgerNotWritten`)),
		"MetricTransformations": []any{map[string]any{
			"MetricName": pipeline.LedgerMetricName, "MetricNamespace": pipeline.LedgerMetricNamespace + "EdgeDrop-Pipeline", "MetricValue": "1",
		}},
	})
	tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"AlarmName": "EdgeDrop-Pipeline-" + alarms.LedgerNotWritten, "MetricName": pipeline.LedgerMetricName,
	})
}

// deliverTo=any records nothing (no board name is known) and may write
// nothing; the sync records each board's sync.
func TestLedgerWritersPerConfig(t *testing.T) {
	tpl := templateOf(synthCached(t, "default", nil).Pipeline.Stack)
	if _, ok := reduce(t, statementsOf(t, tpl, "PipelineStateMachineRole"))["RecordOutcomesInTheLedger"]; ok {
		t.Error("deliverTo=any: the pipeline's role may write the ledger, which it never does")
	}
	sync := aslOf(t, tpl, "Sync")
	inner := get(t, sync, "States", contract.StateDeliverEach, "ItemProcessor", "States").(map[string]any)
	like(t, "RecordBoardSync", inner[contract.StateRecordSync], map[string]any{"Resource": pipeline.ResourceUpdateItem, "Next": contract.StateRecordSyncHistory})
	args := get(t, inner, contract.StateRecordSync, "Arguments").(string)
	for _, want := range []string{"'lastOkStart': $o.status = 'synced'", "attribute_not_exists(#start) OR #start <= :start", "'sk': {'S': 'sync'}"} {
		if !strings.Contains(args, want) {
			t.Errorf("RecordBoardSync's Arguments lack %q", want)
		}
	}
	if _, ok := reduce(t, statementsOf(t, tpl, "SyncStateMachineRole"))["RecordOutcomesInTheLedger"]; !ok {
		t.Error("the sync's role may not write the ledger")
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// The ledger's states leave no CDK warning (their graph-only catcher's
// is acknowledged).
func TestLedgerStatesLeaveNoWarning(t *testing.T) {
	stack := synthCached(t, "fleet-group", fleetConfigs["fleet-group"]).Pipeline.Stack
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("multipleCatchSources")))
	if len(*warnings) != 0 {
		t.Errorf("%d warnings: %v", len(*warnings), (*warnings)[0].Entry.Data)
	}
}
