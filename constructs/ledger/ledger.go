// Package ledger is the delivery ledger's DynamoDB table (contract/ledger.go
// defines its keys, indexes and items): written only by the state
// machines (constructs/pipeline's ledger states), read by the edge-drop CLI
// and the status page.
package ledger

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// DefaultHistoryDays is how long history items live (config ledgerHistoryDays).
const DefaultHistoryDays = 90

// Props configures the table.
type Props struct {
	// TableName is <stackPrefix>-Ledger.
	TableName string
	// HistoryDays is how long history items live before DynamoDB's TTL
	// deletes them (the state machines write expiresAt = at + HistoryDays).
	HistoryDays int
	// RemovalPolicy: "" retains the table (and its data) when the stack
	// is deleted.
	RemovalPolicy awscdk.RemovalPolicy
}

// Ledger exposes the table.
type Ledger struct {
	constructs.Construct
	Table       awsdynamodb.Table
	HistoryDays int
}

// New creates the table: on demand (writes follow uploads, in bursts),
// point-in-time recovery, encrypted with KMS, TTL on expiresAt, and the two
// indexes projecting every attribute (the readers need them all).
//
// The key is DynamoDB's AWS managed KMS key (aws/dynamodb): encryption at
// rest through KMS, each use logged in CloudTrail, and every principal
// the table's IAM policies allow may use it through DynamoDB only. A
// customer managed key would make every reader (the CLI's operators, the
// page) need kms:Decrypt grants and a key to retain, for items that hold
// object keys, board names and outcomes, no secrets.
func New(scope constructs.Construct, id string, props Props) *Ledger {
	c := constructs.NewConstruct(scope, jsii.String(id))
	if props.HistoryDays == 0 {
		props.HistoryDays = DefaultHistoryDays
	}
	if props.RemovalPolicy == "" {
		props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    jsii.String(props.TableName),
		PartitionKey: str(contract.LedgerPK),
		SortKey:      str(contract.LedgerSK),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(contract.LedgerExpiresAt),
		RemovalPolicy:       props.RemovalPolicy,
		DeletionProtection:  jsii.Bool(props.RemovalPolicy == awscdk.RemovalPolicy_RETAIN),
	})
	for _, ix := range []struct{ name, pk, sk string }{
		{contract.IndexByBoard, contract.LedgerGPK, contract.LedgerGSK},
		{contract.IndexByTime, contract.LedgerTPK, contract.LedgerTSK},
	} {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.name),
			PartitionKey:   str(ix.pk),
			SortKey:        str(ix.sk),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return &Ledger{Construct: c, Table: t, HistoryDays: props.HistoryDays}
}
