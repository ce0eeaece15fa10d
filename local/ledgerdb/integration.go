package ledgerdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/edge-drop/edge-drop/local/asl"
)

// Step Functions' optimized DynamoDB integrations: the state's Arguments
// (or Parameters) are the API request as DynamoDB's JSON protocol has it,
// the result its response, and a DynamoDB error is the state's error
// "DynamoDB.<exception>" (DynamoDB.ConditionalCheckFailedException for a
// condition that did not hold).
var integrations = map[string]string{
	"arn:aws:states:::dynamodb:updateItem": "UpdateItem",
	"arn:aws:states:::dynamodb:putItem":    "PutItem",
	"arn:aws:states:::dynamodb:getItem":    "GetItem",
	"arn:aws:states:::dynamodb:deleteItem": "DeleteItem",
}

// Serves reports whether resource is one of the DynamoDB integrations.
func Serves(resource string) bool { _, ok := integrations[resource]; return ok }

// Integration runs a DynamoDB integration's Task state against the server.
func (s *Server) Integration(ctx context.Context, resource string, params any) (any, error) {
	op, ok := integrations[resource]
	if !ok {
		return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "not a DynamoDB integration: " + resource}
	}
	var out any
	if err := s.Do(ctx, op, params, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Do sends one request of DynamoDB's JSON protocol (operation op, body as
// JSON), signed, and decodes the response into out. A DynamoDB error is an
// *asl.Error named DynamoDB.<exception>.
func (s *Server) Do(ctx context.Context, op string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return &asl.Error{Name: "DynamoDB.ValidationException", Cause: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	sum := sha256.Sum256(raw)
	creds := aws.Credentials{AccessKeyID: s.opts.AccessKey, SecretAccessKey: s.opts.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", s.opts.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &asl.Error{Name: "DynamoDB.InternalServerErrorException", Cause: err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &asl.Error{Name: "DynamoDB.InternalServerErrorException", Cause: err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			Message2 string `json:"Message"`
		}
		_ = json.Unmarshal(b, &e)
		name := e.Type[strings.LastIndex(e.Type, "#")+1:]
		if name == "" {
			name = "AmazonDynamoDBException"
		}
		return &asl.Error{Name: "DynamoDB." + name, Cause: strings.TrimSpace(e.Message + e.Message2)}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

// CreateTableFrom creates a table from the Properties of a template's
// AWS::DynamoDB::Table (CloudFormation names them as CreateTable does),
// with what dynalite keeps: name, keys, indexes, billing mode. PITR,
// encryption, TTL and deletion protection are the cloud's; dynalite has
// none of them (items do not expire here). It returns the table's name.
func (s *Server) CreateTableFrom(ctx context.Context, props map[string]any) (string, error) {
	in := map[string]any{}
	for _, k := range []string{"TableName", "KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode"} {
		if v, ok := props[k]; ok {
			in[k] = v
		}
	}
	name, ok := in["TableName"].(string)
	if !ok || name == "" {
		return "", fmt.Errorf("ledgerdb: the template's table has no literal TableName")
	}
	if err := s.Do(ctx, "CreateTable", in, nil); err != nil {
		return "", fmt.Errorf("ledgerdb: create table %s from the template: %w", name, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var d struct{ Table struct{ TableStatus string } }
		if err := s.Do(ctx, "DescribeTable", map[string]any{"TableName": name}, &d); err != nil {
			return "", fmt.Errorf("ledgerdb: describe table %s: %w", name, err)
		}
		if d.Table.TableStatus == "ACTIVE" {
			return name, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("ledgerdb: table %s not active after 30 s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
