package ledgerdb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edge-drop/edge-drop/contract"
)

// The ledger table as the contract defines it, in a real dynalite: a
// board's item is found through the byBoard index, requests are counted,
// and the data survives a restart on the same directory.
func TestLedgerTableInDynalite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	createLedger(t, s)
	c := s.Client()
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("EdgeDrop-Ledger"), Item: map[string]types.AttributeValue{
		contract.LedgerPK:     &types.AttributeValueMemberS{Value: contract.ObjectPK("demo1.txt")},
		contract.LedgerSK:     &types.AttributeValueMemberS{Value: contract.SKBoardPrefix + "a"},
		contract.LedgerGPK:    &types.AttributeValueMemberS{Value: contract.BoardPK("a")},
		contract.LedgerGSK:    &types.AttributeValueMemberS{Value: contract.ObjectPK("demo1.txt")},
		contract.LedgerStatus: &types.AttributeValueMemberS{Value: contract.OutcomeDelivered},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("EdgeDrop-Ledger"), IndexName: aws.String(contract.IndexByBoard),
		KeyConditionExpression:    aws.String("gpk = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberS{Value: contract.BoardPK("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || out.Items[0][contract.LedgerStatus].(*types.AttributeValueMemberS).Value != contract.OutcomeDelivered {
		t.Fatalf("byBoard: %v", out.Items)
	}
	if s.Requests("Query") != 1 || s.Requests("") != 1 {
		t.Errorf("counted %d queries, %d requests; want 1 and 1", s.Requests("Query"), s.Requests(""))
	}
	s.Close()

	s, err = Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Client().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("EdgeDrop-Ledger")})
	if err != nil || got.Table.ItemCount == nil {
		t.Fatalf("after a restart: %v", err)
	}
}

func TestMissingDynaliteIsOneLine(t *testing.T) {
	_, err := Start(context.Background(), Options{NodeModules: t.TempDir()})
	if err == nil {
		t.Fatal("started without dynalite")
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "npm ci") {
		t.Errorf("want one line naming npm ci, got %q", msg)
	}
}
