// Package report delivers the task's Report (contract.Report), what the
// state machine and the ledger read of a run: as the last line of the
// task's log (JSON, "msg":"report", the Report's fields at the top level)
// and, when the state that started the task passed its task token
// (contract.EnvTaskToken), as that state's output (states:SendTaskSuccess).
// Sending is bounded and best effort: a report that cannot be sent is a
// warning, and the state machine falls back to the exit code.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/edge-drop/edge-drop/contract"
)

// Sending bounds: at most Attempts requests (the SDK's retryer, with
// backoff) within SendBudget, or within what the run's overall timeout
// leaves, but never less than MinSendBudget (a run that ended by its
// timeout must still be able to say so).
const (
	SendBudget    = 10 * time.Second
	MinSendBudget = 2 * time.Second
	Attempts      = 3
)

// MaxReason bounds Report.Reason in bytes (an error's text can be long;
// the report travels once per board in a 256 KiB state payload).
const MaxReason = 1024

// Line writes r as one JSON log line, in the shape of the task's other
// lines: {"time":…,"level":"INFO","msg":"report","version":…, <r's fields>}.
func Line(w io.Writer, version string, now time.Time, r contract.Report) error {
	head, err := json.Marshal(struct {
		Time    time.Time `json:"time"`
		Level   string    `json:"level"`
		Msg     string    `json:"msg"`
		Version string    `json:"version"`
	}{now, "INFO", "report", version})
	if err != nil {
		return err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	line := append(head[:len(head)-1], ',')
	line = append(line, body[1:]...)
	_, err = w.Write(append(line, '\n'))
	return err
}

// SFN is the call Send makes (*sfn.Client).
type SFN interface {
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Client is the Step Functions client of the task's AWS configuration
// (endpoint from AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL, as the SDK
// reads them), with Attempts attempts.
func Client(cfg aws.Config) *sfn.Client {
	return sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = Attempts
			so.MaxBackoff = time.Second
		})
	})
}

// Send sends r as the output of the state whose task token is token.
// deadline is the run's overall deadline (zero: none).
func Send(api SFN, token string, r contract.Report, deadline time.Time) error {
	budget := SendBudget
	if !deadline.IsZero() {
		budget = min(budget, max(time.Until(deadline), MinSendBudget))
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(b))})
	return err
}

// EnvTaskMetadata is set by the ECS agent in every container: the task
// metadata endpoint (version 4).
const EnvTaskMetadata = "ECS_CONTAINER_METADATA_URI_V4"

// TaskARN asks the task metadata endpoint for the task's own ARN ("" when
// not under ECS, or when it does not answer within timeout).
func TaskARN(getenv func(string) string, timeout time.Duration) (string, error) {
	base := getenv(EnvTaskMetadata)
	if base == "" {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/task", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("task metadata: %s", resp.Status)
	}
	var meta struct {
		TaskARN string `json:"TaskARN"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta); err != nil {
		return "", fmt.Errorf("task metadata: %w", err)
	}
	return meta.TaskARN, nil
}
