package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/edge-drop/edge-drop/contract"
)

func TestLine(t *testing.T) {
	var b bytes.Buffer
	r := contract.Report{Mode: contract.ModeSync, Status: contract.OutcomeSynced, Summary: "synced (1 new, 0 updated, 0 deleted)",
		Sync: &contract.SyncCounts{Listed: 1, New: 1}}
	if err := Line(&b, "v1", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), r); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, `{"time":"2026-12-01T00:00:00Z","level":"INFO","msg":"report","version":"v1","mode":"sync",`) {
		t.Fatalf("line %q", line)
	}
	var back contract.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Summary != r.Summary || back.Sync.New != 1 {
		t.Fatalf("%+v, %v", back, err)
	}
}

type hang struct{ calls int }

func (h *hang) SendTaskSuccess(ctx context.Context, _ *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	h.calls++
	<-ctx.Done()
	return nil, ctx.Err()
}

// Sending never outlasts its budget: what the overall timeout leaves, but
// at least MinSendBudget.
func TestSendBounded(t *testing.T) {
	start := time.Now()
	err := Send(&hang{}, "tok", contract.Report{}, time.Now().Add(-time.Minute)) // the run's timeout has passed
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if took := time.Since(start); took < MinSendBudget || took > MinSendBudget+time.Second {
		t.Fatalf("took %v, want about %v", took, MinSendBudget)
	}
}

func TestTaskARN(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok/task":
			w.Write([]byte(`{"TaskARN":"arn:aws:ecs:eu-west-1:1:task/c/abc"}`))
		case "/slow/task":
			time.Sleep(time.Second)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvTaskMetadata {
				return v
			}
			return ""
		}
	}
	if arn, err := TaskARN(env(srv.URL+"/ok"), time.Second); err != nil || arn != "arn:aws:ecs:eu-west-1:1:task/c/abc" {
		t.Fatalf("%q, %v", arn, err)
	}
	if arn, err := TaskARN(env(""), time.Second); err != nil || arn != "" {
		t.Fatalf("not under ECS: %q, %v", arn, err)
	}
	if _, err := TaskARN(env(srv.URL+"/slow"), 100*time.Millisecond); err == nil {
		t.Fatal("no timeout")
	}
	if _, err := TaskARN(env(srv.URL+"/missing"), time.Second); err == nil {
		t.Fatal("404 accepted")
	}
}
