// Package ledger reads the delivery ledger (contract/ledger.go): an
// object's current outcome per board, a board's current items, boards'
// last syncs and a day's history. It never writes: only the state
// machines do.
package ledger

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
)

// Row is one outcome of one object on one board: a current item or a
// history item.
type Row struct {
	Kind         string
	Key          string
	Board        string
	Status       string // one of contract.Outcomes
	Mode         string
	ETag         string
	VersionID    string
	Sequencer    string
	ExitCode     *int
	Cause        string
	At           time.Time
	Execution    string
	TaskArn      string
	ConflictCopy string
	// TSK is the byTime sort key of a history item (where a watch goes on
	// from).
	TSK string
}

// Confirmed says whether the board holds the row's version: delivered,
// up to date, or delivered with the old bytes kept as a conflict copy.
func (r Row) Confirmed() bool {
	switch r.Status {
	case contract.OutcomeDelivered, contract.OutcomeUpToDate, contract.OutcomeConflict:
		return true
	}
	return false
}

// Version is the row's object version: the version ID in a versioned
// bucket, else the ETag.
func (r Row) Version() string {
	if r.VersionID != "" {
		return r.VersionID
	}
	return r.ETag
}

// Sync is a board's last sync.
type Sync struct {
	Board  string
	Status string
	Cause  string
	Start  time.Time
	End    time.Time
	// LastOKStart is the start of the last sync that ended synced: every
	// object older than it is on the board. Zero: none yet.
	LastOKStart time.Time
	Counts      map[string]int
}

// Reader reads one ledger table.
type Reader struct {
	DB    *dynamodb.Client
	Table string
	// Unreachable says how to reach the table's endpoint when it does not
	// answer (for error messages).
	Unreachable string
}

func (r *Reader) fail(err error, what string) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fault.NotFoundf("ledger table %s not found: deploy the pipeline stack with the ledger (make deploy), or check --stack, --region and --profile", r.Table)
	}
	return fault.AWS(err, "DynamoDB "+what+" on "+r.Table, r.Unreachable)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// Object is every board's current outcome for key: one Query (pk =
// ObjectPK(key), sk begins_with the board prefix), more pages only past
// 1 MB of items (thousands of boards).
func (r *Reader) Object(ctx context.Context, key string) ([]Row, error) {
	return r.queryLimit(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(r.Table),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :board)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.LedgerPK, "#sk": contract.LedgerSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(contract.ObjectPK(key)), ":board": s(contract.SKBoardPrefix)},
	}, 0)
}

// Board is every current object item of board (index byBoard).
func (r *Reader) Board(ctx context.Context, board string) ([]Row, error) {
	return r.queryLimit(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(r.Table),
		IndexName:                 aws.String(contract.IndexByBoard),
		KeyConditionExpression:    aws.String("#gpk = :b"),
		ExpressionAttributeNames:  map[string]string{"#gpk": contract.LedgerGPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": s(contract.BoardPK(board))},
	}, 0)
}

// Day is the history of day ("2026-12-06", UTC) after the byTime sort
// key after ("" from the start), oldest first, at most limit rows (0: all).
func (r *Reader) Day(ctx context.Context, day, after string, limit int) ([]Row, error) {
	in := r.dayQuery(day)
	if after != "" {
		in.KeyConditionExpression = aws.String("#tpk = :d AND #tsk > :after")
		in.ExpressionAttributeNames["#tsk"] = contract.LedgerTSK
		in.ExpressionAttributeValues[":after"] = s(after)
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit))
	}
	return r.queryLimit(ctx, in, 0)
}

// Recent is the newest history of day, newest first, at most limit rows.
func (r *Reader) Recent(ctx context.Context, day string, limit int) ([]Row, error) {
	in := r.dayQuery(day)
	in.ScanIndexForward = aws.Bool(false)
	return r.queryLimit(ctx, in, limit)
}

// dayQuery is the history of day (index byTime), oldest first.
func (r *Reader) dayQuery(day string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(r.Table),
		IndexName:                 aws.String(contract.IndexByTime),
		KeyConditionExpression:    aws.String("#tpk = :d"),
		ExpressionAttributeNames:  map[string]string{"#tpk": contract.LedgerTPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": s(contract.DayPK(day))},
	}
}

func (r *Reader) queryLimit(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]Row, error) {
	var rows []Row
	p := dynamodb.NewQueryPaginator(r.DB, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, r.fail(err, "Query")
		}
		for _, item := range out.Items {
			if row, ok := parseRow(item); ok {
				rows = append(rows, row)
			}
		}
		if limit > 0 && len(rows) >= limit {
			return rows[:limit], nil
		}
	}
	return rows, nil
}

// Syncs is the last sync of each board that has one (BatchGetItem, 100
// keys a request).
func (r *Reader) Syncs(ctx context.Context, boards []string) (map[string]Sync, error) {
	out := map[string]Sync{}
	for start := 0; start < len(boards); start += 100 {
		var keys []map[string]types.AttributeValue
		for _, b := range boards[start:min(start+100, len(boards))] {
			keys = append(keys, map[string]types.AttributeValue{contract.LedgerPK: s(contract.BoardPK(b)), contract.LedgerSK: s(contract.SKSync)})
		}
		req := map[string]types.KeysAndAttributes{r.Table: {Keys: keys}}
		for len(req) > 0 {
			got, err := r.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, r.fail(err, "BatchGetItem")
			}
			for _, item := range got.Responses[r.Table] {
				sy := parseSync(item)
				out[sy.Board] = sy
			}
			req = got.UnprocessedKeys
		}
	}
	return out, nil
}

// Check makes sure the table exists (DescribeTable).
func (r *Reader) Check(ctx context.Context) error {
	_, err := r.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Table)})
	if err != nil {
		return r.fail(err, "DescribeTable")
	}
	return nil
}

func str(item map[string]types.AttributeValue, name string) string {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func num(item map[string]types.AttributeValue, name string) *int {
	n, err := strconv.Atoi(str(item, name))
	if err != nil {
		return nil
	}
	return &n
}

func when(item map[string]types.AttributeValue, name string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(item, name))
	return t
}

// parseRow reads an object item (current or history); other kinds are
// not rows.
func parseRow(item map[string]types.AttributeValue) (Row, bool) {
	kind := str(item, contract.LedgerKind)
	if kind == contract.KindSync {
		return Row{}, false
	}
	r := Row{
		Kind: kind, Key: str(item, contract.LedgerKey), Board: str(item, contract.LedgerBoard),
		Status: str(item, contract.LedgerStatus), Mode: str(item, contract.LedgerMode),
		ETag: strings.Trim(str(item, contract.LedgerETag), `"`), VersionID: str(item, contract.LedgerVersionID),
		Sequencer: str(item, contract.LedgerSequencer), ExitCode: num(item, contract.LedgerExitCode),
		Cause: str(item, contract.LedgerCause), At: when(item, contract.LedgerAt),
		Execution: str(item, contract.LedgerExecution), TaskArn: str(item, contract.LedgerTaskArn),
		ConflictCopy: str(item, contract.LedgerConflictCopy), TSK: str(item, contract.LedgerTSK),
	}
	if r.Board == "" {
		r.Board = strings.TrimPrefix(str(item, contract.LedgerSK), contract.SKBoardPrefix)
	}
	if r.Key == "" {
		r.Key = strings.TrimPrefix(str(item, contract.LedgerPK), contract.PKObjectPrefix)
	}
	return r, true
}

func parseSync(item map[string]types.AttributeValue) Sync {
	sy := Sync{
		Board:  str(item, contract.LedgerBoard),
		Status: str(item, contract.LedgerStatus), Cause: str(item, contract.LedgerCause),
		Start: when(item, contract.LedgerStart), End: when(item, contract.LedgerEnd),
		LastOKStart: when(item, contract.LedgerLastOKStart),
	}
	if sy.Board == "" {
		sy.Board = strings.TrimPrefix(str(item, contract.LedgerPK), contract.PKBoardPrefix)
	}
	if m, ok := item[contract.LedgerCounts].(*types.AttributeValueMemberM); ok {
		sy.Counts = map[string]int{}
		for k := range m.Value {
			if n := num(m.Value, k); n != nil {
				sy.Counts[k] = *n
			}
		}
	}
	return sy
}

// Lateness is how long after its time an outcome may still appear in the
// byTime index: boards record in parallel (a Map's iterations, each
// writing its history item after its current item, with a retry), and
// DynamoDB's indexes are eventually consistent, so an outcome can appear
// after a newer one was read. Readers that follow a day read this much
// again on every poll (Tail).
const Lateness = 2 * time.Minute

// Tail follows one day's history as it grows, outcomes that appear late
// included: After is the sort key to read after, New keeps what a read
// brought that was not seen yet.
type Tail struct {
	newest string          // the newest sort key seen
	seen   map[string]bool // the sort keys seen after After
}

// After is the byTime sort key a poll reads after: Lateness before the
// newest outcome seen, cut to the second ("" reads from the day's start).
func (t *Tail) After() string {
	at, _, _ := strings.Cut(t.newest, "#")
	seen, err := time.Parse(contract.LedgerTimeLayout, at)
	if err != nil {
		return ""
	}
	after := seen.Add(-Lateness).UTC()
	if after.Format(time.DateOnly) != seen.UTC().Format(time.DateOnly) {
		return ""
	}
	return after.Format("2006-01-02T15:04:05") // a prefix: every time in that second sorts after it
}

// New is rows (one poll's, read after After) less those seen before, in
// their order; it remembers them and forgets what no poll reads again.
func (t *Tail) New(rows []Row) []Row {
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	var fresh []Row
	for _, r := range rows {
		if !t.seen[r.TSK] {
			t.seen[r.TSK] = true
			fresh = append(fresh, r)
		}
		t.newest = max(t.newest, r.TSK)
	}
	after := t.After()
	for k := range t.seen {
		if k <= after {
			delete(t.seen, k)
		}
	}
	return fresh
}

// Seen marks rows as seen (a whole reread of the day) without returning them.
func (t *Tail) Seen(rows []Row) { t.New(rows) }
