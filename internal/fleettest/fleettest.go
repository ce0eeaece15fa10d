// Package fleettest starts, for tests of the CLI and the status page, what
// a running demo offers them: the ledger in a real DynamoDB (dynalite,
// local/ledgerdb), the bucket (local/bucket's S3 server), the cluster's
// boards (local/ecstask's fleet behind local/ecsapi), and the endpoints
// file that points at them. Tests write ledger items exactly as
// contract/ledger.go defines them, as the state machines will.
package fleettest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/bucket"
	"github.com/edge-drop/edge-drop/local/ecsapi"
	"github.com/edge-drop/edge-drop/local/ecstask"
	"github.com/edge-drop/edge-drop/local/endpoints"
	"github.com/edge-drop/edge-drop/local/ledgerdb"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Names of the test deployment.
const (
	Bucket     = "edge-drop-test-bucket"
	Table      = "EdgeDrop-Ledger"
	Cluster    = "edge-drop"
	ClusterARN = "arn:aws:ecs:eu-west-1:000000000000:cluster/" + Cluster
	Region     = "eu-west-1"
	AccessKey  = "edge-drop-demo"
	SecretKey  = "edge-drop-demo-secret"
	SyncARN    = "arn:aws:states:eu-west-1:000000000000:stateMachine:EdgeDrop-Sync"
	PipeARN    = "arn:aws:states:eu-west-1:000000000000:stateMachine:EdgeDrop-Pipeline"
)

// Env is a running test deployment.
type Env struct {
	t        testing.TB
	StateDir string // holds endpoints.json: --local StateDir
	DB       *ledgerdb.Server
	S3       *s3.Client
	Fleet    *ecstask.Runner
	Delivery contract.Delivery
	bucket   *bucket.Server
}

// Start runs the deployment with these boards and delivery config; stepFunctions
// is written into the endpoints file ("" for none).
func Start(t testing.TB, boards []ecstask.Board, d contract.Delivery, stepFunctions string) *Env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := ledgerdb.Start(ctx, ledgerdb.Options{Dir: filepath.Join(dir, "ledger"), Region: Region, AccessKey: AccessKey, SecretKey: SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateTable(ctx, ledgerdb.LedgerTable(Table)); err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithCancel(ctx)
	srv, err := bucket.Start(bctx, bucket.Options{Dir: filepath.Join(dir, "s3"), Buckets: []string{Bucket}, Region: Region, Credentials: sigv4.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		for range srv.Events() { // nobody routes them here
		}
	}()
	t.Cleanup(func() { srv.Close(); cancel() })
	fleet, err := ecstask.NewFleetRunner(nil, "", nil, boards)
	if err != nil {
		t.Fatal(err)
	}
	fleet.Clusters = []string{ClusterARN}
	api, err := ecsapi.Start(fleet, ecsapi.Options{Credentials: sigv4.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}, Region: Region})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	state := filepath.Join(dir, "state")
	e := &Env{t: t, StateDir: state, DB: db, Fleet: fleet, Delivery: d, bucket: srv,
		S3: s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(srv.URL()), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")})}
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := endpoints.Write(state, endpoints.Endpoints{
		S3: srv.URL(), StepFunctions: stepFunctions, ECS: api.URL(), DynamoDB: db.URL,
		Region: Region, AccessKeyID: AccessKey, SecretAccessKey: SecretKey,
		Outputs: map[string]string{
			contract.OutputBucketName: Bucket, contract.OutputClusterName: Cluster, contract.OutputLedgerTable: Table,
			contract.OutputStateMachineArn: PipeARN, contract.OutputSyncStateMachineArn: SyncARN,
			contract.OutputDelivery: d.JSON(),
		},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// Put uploads an object and returns its ETag and LastModified.
func (e *Env) Put(key, body string) (string, time.Time) {
	e.t.Helper()
	ctx := context.Background()
	out, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		e.t.Fatal(err)
	}
	head, err := e.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), aws.ToTime(head.LastModified)
}

// Outcome is one board's outcome of one object version, as a state
// machine records it.
type Outcome struct {
	Key, Board, Status, ETag, Cause string
	ExitCode                        *int
	At                              time.Time
	Execution, Sequencer            string
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// Record writes an outcome as the state machines do: the current item of
// the object × board (pk obj#KEY, sk board#B, in byBoard) and a history
// item (sk hist#..., in byTime).
func (e *Env) Record(o Outcome) {
	e.t.Helper()
	current, hist := e.items(o)
	e.put(current)
	e.put(hist)
}

// items are an outcome's current and history items.
func (e *Env) items(o Outcome) (current, hist map[string]types.AttributeValue) {
	if o.At.IsZero() {
		o.At = time.Now().UTC()
	}
	if o.Execution == "" {
		o.Execution = "exec-" + strconv.FormatInt(o.At.UnixNano(), 36)
	}
	at := o.At.UTC().Format(contract.LedgerTimeLayout)
	attrs := map[string]types.AttributeValue{
		contract.LedgerKey: s(o.Key), contract.LedgerBoard: s(o.Board), contract.LedgerStatus: s(o.Status),
		contract.LedgerMode: s("download"), contract.LedgerETag: s(o.ETag), contract.LedgerCause: s(o.Cause),
		contract.LedgerAt: s(at), contract.LedgerExecution: s(o.Execution),
		contract.LedgerTaskArn: s("arn:aws:ecs:eu-west-1:000000000000:task/edge-drop/0123456789abcdef"),
	}
	if o.Sequencer != "" {
		attrs[contract.LedgerSequencer] = s(o.Sequencer)
	}
	if o.ExitCode != nil {
		attrs[contract.LedgerExitCode] = &types.AttributeValueMemberN{Value: strconv.Itoa(*o.ExitCode)}
	} else {
		attrs[contract.LedgerExitCode] = &types.AttributeValueMemberNULL{Value: true}
	}
	current = clone(attrs)
	current[contract.LedgerPK] = s(contract.ObjectPK(o.Key))
	current[contract.LedgerSK] = s(contract.SKBoardPrefix + o.Board)
	current[contract.LedgerGPK] = s(contract.BoardPK(o.Board))
	current[contract.LedgerGSK] = s(contract.ObjectPK(o.Key))
	current[contract.LedgerKind] = s(contract.KindObject)
	hist = clone(attrs)
	hist[contract.LedgerPK] = s(contract.ObjectPK(o.Key))
	hist[contract.LedgerSK] = s(contract.SKHistoryPrefix + at + "#" + o.Board + "#" + o.Execution)
	hist[contract.LedgerTPK] = s(contract.DayPK(o.At.UTC().Format(time.DateOnly)))
	hist[contract.LedgerTSK] = s(at + "#" + o.Board + "#" + o.Key)
	hist[contract.LedgerKind] = s(contract.KindHistory)
	hist[contract.LedgerExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(o.At.Add(90*24*time.Hour).Unix(), 10)}
	return current, hist
}

// Sync writes a board's last sync item; lastOK zero: none succeeded yet.
func (e *Env) Sync(board, status string, start, end, lastOK time.Time) {
	e.t.Helper()
	item := map[string]types.AttributeValue{
		contract.LedgerPK: s(contract.BoardPK(board)), contract.LedgerSK: s(contract.SKSync),
		contract.LedgerKind: s(contract.KindSync), contract.LedgerBoard: s(board), contract.LedgerStatus: s(status),
		contract.LedgerStart: s(start.UTC().Format(contract.LedgerTimeLayout)), contract.LedgerEnd: s(end.UTC().Format(contract.LedgerTimeLayout)),
		contract.LedgerCounts: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"listed": &types.AttributeValueMemberN{Value: "1"}, "new": &types.AttributeValueMemberN{Value: "0"}}},
	}
	if !lastOK.IsZero() {
		item[contract.LedgerLastOKStart] = s(lastOK.UTC().Format(contract.LedgerTimeLayout))
	}
	e.put(item)
}

func (e *Env) put(item map[string]types.AttributeValue) {
	e.t.Helper()
	if _, err := e.DB.Client().PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(Table), Item: item}); err != nil {
		e.t.Fatal(err)
	}
}

func clone(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Code is an exit code for Outcome.ExitCode.
func Code(n int) *int { return &n }

// Output runs f with buffers and returns what it wrote.
func Output(f func(stdout, stderr io.Writer) int) (string, string, int) {
	var out, errb bytes.Buffer
	code := f(&out, &errb)
	return out.String(), errb.String(), code
}

// SetOutput changes one output in the endpoints file.
func (e *Env) SetOutput(name, value string) {
	e.t.Helper()
	ep, err := endpoints.Read(e.StateDir)
	if err != nil {
		e.t.Fatal(err)
	}
	ep.Outputs[name] = value
	if err := endpoints.Write(e.StateDir, ep); err != nil {
		e.t.Fatal(err)
	}
}

// RecordMany writes many outcomes, 25 items a request (BatchWriteItem).
func (e *Env) RecordMany(outcomes []Outcome) {
	e.t.Helper()
	var batch []types.WriteRequest
	flush := func() {
		req := map[string][]types.WriteRequest{Table: batch}
		for len(req) > 0 {
			out, err := e.DB.Client().BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				e.t.Fatal(err)
			}
			req = out.UnprocessedItems
		}
		batch = nil
	}
	for _, o := range outcomes {
		current, hist := e.items(o)
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: current}}, types.WriteRequest{PutRequest: &types.PutRequest{Item: hist}})
		if len(batch) >= 24 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}
