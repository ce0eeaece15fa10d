package ledger_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/constructs/ledger"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var like = assertions.Match_ObjectLike

func TestLedgerTable(t *testing.T) {
	// GIVEN the defaults WHEN the ledger is made
	stack := cdktest.Stack(t)
	l := ledger.New(stack, "Ledger", ledger.Props{TableName: "edge-drop-Ledger"})
	tpl := cdktest.Template(t, stack)

	if l.HistoryDays != 90 {
		t.Errorf("HistoryDays = %d, want the default 90", l.HistoryDays)
	}
	index := func(name, pk, sk string) map[string]any {
		return map[string]any{
			"IndexName": name,
			"KeySchema": []any{
				map[string]any{"AttributeName": pk, "KeyType": "HASH"},
				map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		}
	}
	// THEN one table, keyed and indexed as contract/ledger.go says, on
	// demand, recoverable, KMS-encrypted, history expiring, retained
	cdktest.Check(t, "the table", func() {
		tpl.ResourceCountIs(strp("AWS::DynamoDB::Table"), num(1))
		tpl.HasResource(strp("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"TableName":   "edge-drop-Ledger",
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": contract.LedgerPK, "KeyType": "HASH"},
					map[string]any{"AttributeName": contract.LedgerSK, "KeyType": "RANGE"},
				},
				"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
					map[string]any{"AttributeName": contract.LedgerPK, "AttributeType": "S"},
					map[string]any{"AttributeName": contract.LedgerSK, "AttributeType": "S"},
					map[string]any{"AttributeName": contract.LedgerGPK, "AttributeType": "S"},
					map[string]any{"AttributeName": contract.LedgerGSK, "AttributeType": "S"},
					map[string]any{"AttributeName": contract.LedgerTPK, "AttributeType": "S"},
					map[string]any{"AttributeName": contract.LedgerTSK, "AttributeType": "S"},
				}),
				"GlobalSecondaryIndexes": []any{
					index(contract.IndexByBoard, contract.LedgerGPK, contract.LedgerGSK),
					index(contract.IndexByTime, contract.LedgerTPK, contract.LedgerTSK),
				},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true}, // KMS, the AWS managed key (aws/dynamodb)
				"TimeToLiveSpecification":          map[string]any{"AttributeName": contract.LedgerExpiresAt, "Enabled": true},
				"DeletionProtectionEnabled":        true,
			},
		})
	})
	cdktest.NagClean(t, stack)
}

func TestLedgerDestroyedWhenAsked(t *testing.T) {
	// GIVEN removalPolicy=destroy WHEN the ledger is made
	stack := cdktest.Stack(t)
	l := ledger.New(stack, "Ledger", ledger.Props{TableName: "x-Ledger", HistoryDays: 7, RemovalPolicy: awscdk.RemovalPolicy_DESTROY})
	tpl := cdktest.Template(t, stack)
	// THEN the table goes with the stack, without deletion protection
	if l.HistoryDays != 7 {
		t.Errorf("HistoryDays = %d, want 7", l.HistoryDays)
	}
	cdktest.Check(t, "a destroyable table", func() {
		tpl.HasResource(strp("AWS::DynamoDB::Table"), like(&map[string]any{
			"DeletionPolicy": "Delete",
			"Properties":     like(&map[string]any{"DeletionProtectionEnabled": false}),
		}))
	})
}

func strp(s string) *string  { return &s }
func num(n float64) *float64 { return &n }
