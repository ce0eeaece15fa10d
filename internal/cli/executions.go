package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/spf13/cobra"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/fleetstatus"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

func syncCmd(s *session) *cobra.Command {
	var board string
	var wait bool
	c := &cobra.Command{
		Use:   "sync [--board B] [--wait]",
		Short: "Start the sync state machine for every board of the target (or board B); --wait follows it and prints each board's outcome",
		Args:  exactArgs(0, "no arguments (--board B names a board)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			input := "{}"
			if board != "" {
				if err := checkBoardName(board); err != nil {
					return err
				}
				b, _ := json.Marshal(map[string]string{"board": board})
				input = string(b)
			}
			d, err := s.deployment(cmd.Context())
			if err != nil {
				return err
			}
			arn, err := d.Output(contract.OutputSyncStateMachineArn)
			if err != nil {
				return fault.Setupf("%v (the app has a sync with syncEvery set or mirrorDeletes=true)", err)
			}
			return s.startAndReport(cmd, arn, "sync", input, wait)
		},
	}
	c.Flags().StringVar(&board, "board", "", "sync only this board")
	c.Flags().BoolVar(&wait, "wait", false, "follow the execution to its end and print each board's outcome (exit 1 unless it succeeded)")
	return c
}

func redeliverCmd(s *session) *cobra.Command {
	var board string
	var wait bool
	c := &cobra.Command{
		Use:   "redeliver KEY [--board B] [--wait]",
		Short: "Deliver KEY again (its current version) to its targets, or to board B only: starts the pipeline's state machine",
		Long: `Deliver KEY again: starts the pipeline's state machine with the Object Created event S3 would send
for the object as it is now (source edge-drop.cli), narrowed to board B with --board. Boards that
already hold this version answer up_to_date.`,
		Args: exactArgs(1, "one KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkKey(args[0]); err != nil {
				return err
			}
			if board != "" {
				if err := checkBoardName(board); err != nil {
					return err
				}
			}
			input, err := s.redeliveryInput(cmd.Context(), args[0], board)
			if err != nil {
				return err
			}
			d, _ := s.deployment(cmd.Context())
			arn, err := d.Output(contract.OutputStateMachineArn)
			if err != nil {
				return err
			}
			return s.startAndReport(cmd, arn, "redeliver", input, wait)
		},
	}
	c.Flags().StringVar(&board, "board", "", "deliver to this board only (it must be one of the key's targets)")
	c.Flags().BoolVar(&wait, "wait", false, "follow the execution to its end and print each board's outcome (exit 1 unless it succeeded)")
	return c
}

// redeliveryInput is the Object Created event for key as it is now.
func (s *session) redeliveryInput(ctx context.Context, key, board string) (string, error) {
	f, err := s.fleetWith(ctx, false)
	if err != nil {
		return "", err
	}
	obj, err := f.Head(ctx, key)
	if err != nil {
		return "", err
	}
	if !obj.Exists {
		return "", fault.NotFoundf("unknown key %q: s3://%s has no such object (keys are case-sensitive)", key, f.Bucket)
	}
	if !f.Delivery.Delivered(key) {
		return "", fault.Usagef("key %q does not match the pipeline's keyPattern %q: the state machine would skip it", key, f.Delivery.KeyPattern)
	}
	if board != "" {
		boards, err := f.Boards(ctx)
		if err != nil {
			return "", err
		}
		b, ok := fleetstatus.FindBoard(boards, board)
		if !ok {
			return "", fleetstatus.UnknownBoard(board, boards)
		}
		if f.Delivery.DeliverTo != "any" && !f.Delivery.Targets(key, b.Name, b.Groups) {
			return "", fault.Usagef("board %s is not a target of %q (deliverTo %q%s): the pipeline would not deliver it there", board, key, f.Delivery.DeliverTo, f.Delivery.RoutePrefix)
		}
	}
	sequencer := ""
	if f.Ledger != nil { // the newest event of this version the ledger saw: the board's record is not newer
		if rows, err := f.Ledger.Object(ctx, key); err == nil {
			sequencer = newestSequencer(rows, obj)
		}
	}
	d, _ := s.deployment(ctx)
	smARN, _ := d.Output(contract.OutputStateMachineArn)
	account := ""
	if parts := strings.Split(smARN, ":"); len(parts) > 4 {
		account = parts[4]
	}
	object := map[string]any{"key": contract.EventKey(key), "size": obj.Size, "etag": obj.ETag, "sequencer": sequencer}
	if obj.VersionID != "" {
		object["version-id"] = obj.VersionID
	}
	event := map[string]any{
		"version": "0", "id": uuid(), "detail-type": "Object Created", "source": contract.SourceCLI,
		"account": account, "time": s.env.now().UTC().Format("2006-01-02T15:04:05Z"), "region": d.Region(),
		"resources": []string{"arn:aws:s3:::" + f.Bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]string{"name": f.Bucket}, "object": object,
			"request-id": "edge-drop-redeliver", "requester": account, "source-ip-address": "", "reason": "PutObject",
		},
	}
	if board != "" {
		event[contract.RedeliverField] = map[string]string{contract.RedeliverBoard: board}
	}
	b, _ := json.Marshal(event)
	return string(b), nil
}

// newestSequencer is the largest sequencer among the rows of obj's
// version (S3 sequencers compare as hex numbers: pad, then compare).
func newestSequencer(rows []ledger.Row, obj fleetstatus.Object) string {
	best := ""
	for _, r := range rows {
		if r.Sequencer == "" || r.ETag != obj.ETag {
			continue
		}
		a, b := r.Sequencer, best
		for len(a) < len(b) {
			a = "0" + a
		}
		for len(b) < len(a) {
			b = "0" + b
		}
		if a > b {
			best = r.Sequencer
		}
	}
	return best
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// startAndReport starts an execution and prints it; with wait it follows
// the execution and prints its outcome per board.
func (s *session) startAndReport(cmd *cobra.Command, stateMachine, what, input string, wait bool) error {
	ctx := cmd.Context()
	d, err := s.deployment(ctx)
	if err != nil {
		return err
	}
	client := d.SFN()
	var nb [6]byte
	_, _ = rand.Read(nb[:])
	name := fmt.Sprintf("edge-drop-%s-%s-%s", what, s.env.now().UTC().Format("20060102T150405Z"), hex.EncodeToString(nb[:]))
	out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stateMachine), Name: aws.String(name), Input: aws.String(input)})
	if err != nil {
		var nf *sfntypes.StateMachineDoesNotExist
		if errors.As(err, &nf) {
			return fault.NotFoundf("state machine %s not found: deploy the pipeline stack (make deploy) or check --stack", stateMachine)
		}
		return fault.AWS(err, "Step Functions StartExecution", d.Unreachable)
	}
	arn := aws.ToString(out.ExecutionArn)
	w := cmd.OutOrStdout()
	if !wait {
		if s.json() {
			return writeJSON(w, map[string]any{"executionArn": arn, "startDate": jsonTime(aws.ToTime(out.StartDate)), "input": json.RawMessage(input)})
		}
		fmt.Fprintf(w, "started %s\n  input %s\n", arn, safe(input))
		return nil
	}
	if !s.json() {
		fmt.Fprintf(w, "started %s\n", arn)
	}
	res, err := s.follow(ctx, client, arn)
	if err != nil {
		return err
	}
	if err := printResult(w, s.json(), res); err != nil {
		return err
	}
	if res.Status != string(sfntypes.ExecutionStatusSucceeded) {
		return fault.Failedf("%s %s: %s %s", what, arn, res.Status, strings.TrimSpace(res.Error+" "+oneLine(res.Cause)))
	}
	return nil
}

// result is an ended execution with its boards' outcomes.
type result struct {
	ExecutionArn string             `json:"executionArn"`
	Status       string             `json:"status"`
	Error        string             `json:"error,omitempty"`
	Cause        string             `json:"cause,omitempty"`
	Boards       []contract.Outcome `json:"boards"`
}

// follow polls DescribeExecution until the execution ends, then finds the
// per-board outcomes: the output of a successful fleet execution, else
// TallyOutcomes' output in the history.
func (s *session) follow(ctx context.Context, client *sfn.Client, arn string) (result, error) {
	d, _ := s.deployment(ctx)
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return result{}, fault.AWS(err, "Step Functions DescribeExecution", d.Unreachable)
		}
		if out.Status != sfntypes.ExecutionStatusRunning && out.Status != sfntypes.ExecutionStatusPendingRedrive {
			r := result{ExecutionArn: arn, Status: string(out.Status), Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause), Boards: []contract.Outcome{}}
			if out.Output != nil && json.Unmarshal([]byte(*out.Output), &r.Boards) == nil {
				return r, nil
			}
			r.Boards = []contract.Outcome{}
			h, err := client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true})
			if err == nil {
				for _, e := range h.Events {
					det := e.StateExitedEventDetails
					if det == nil || !strings.HasSuffix(aws.ToString(det.Name), "TallyOutcomes") {
						continue
					}
					var tally struct {
						Fleet struct {
							Outcomes []contract.Outcome `json:"outcomes"`
						} `json:"fleet"`
					}
					if json.Unmarshal([]byte(aws.ToString(det.Output)), &tally) == nil && tally.Fleet.Outcomes != nil {
						r.Boards = tally.Fleet.Outcomes
					}
					break
				}
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(s.poll()):
		}
	}
}

func printResult(w io.Writer, asJSON bool, r result) error {
	if asJSON {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "%s\n", r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "  %s: %s\n", r.Error, safe(r.Cause))
	}
	if len(r.Boards) == 0 {
		return nil
	}
	var rows [][]string
	for _, o := range r.Boards {
		code := ""
		if o.ExitCode != nil {
			code = strconv.Itoa(*o.ExitCode)
		}
		rows = append(rows, []string{o.Board, o.Status, code, o.Cause})
	}
	return table(w, []string{"BOARD", "STATUS", "EXIT", "CAUSE"}, rows)
}
