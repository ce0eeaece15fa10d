package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cli"
	"github.com/edge-drop/edge-drop/internal/fleettest"
)

// stepFunctions records StartExecution calls (AWS JSON 1.0) and answers
// DescribeExecution with a failed fleet execution whose TallyOutcomes
// output holds the outcomes.
type stepFunctions struct {
	mu     sync.Mutex
	starts []map[string]string
}

func (s *stepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]string
	json.NewDecoder(r.Body).Decode(&in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch r.Header.Get("X-Amz-Target") {
	case "AWSStepFunctions.StartExecution":
		s.mu.Lock()
		s.starts = append(s.starts, in)
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"executionArn": strings.Replace(in["stateMachineArn"], ":stateMachine:", ":execution:", 1) + ":" + in["name"], "startDate": 1796601600.0})
	case "AWSStepFunctions.DescribeExecution":
		json.NewEncoder(w).Encode(map[string]any{"executionArn": in["executionArn"], "status": "FAILED", "startDate": 1796601600.0,
			"error": contract.ErrSomeBoardsFailed, "cause": "s3://b/demo1.txt was not delivered to 1 of the 2 boards of all: offline [\"b\"], failed []"})
	case "AWSStepFunctions.GetExecutionHistory":
		out, _ := json.Marshal(map[string]any{"fleet": map[string]any{"outcomes": []map[string]any{
			{"board": "a", "instance": "mi-1", "status": "delivered", "exitCode": 0, "taskArn": "arn:t1", "cause": ""},
			{"board": "b", "instance": "mi-2", "status": "offline", "exitCode": nil, "taskArn": nil, "cause": "AmazonECS.Unknown: AGENT"}}}})
		json.NewEncoder(w).Encode(map[string]any{"events": []map[string]any{
			{"id": 9, "timestamp": 1796601601.0, "type": "PassStateExited", "stateExitedEventDetails": map[string]string{"name": "TallyOutcomes", "output": string(out)}}}})
	default:
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": r.Header.Get("X-Amz-Target")})
	}
}

// redeliver starts the pipeline with the Object Created event of the
// object as it is now, from edge-drop.cli, narrowed to the board, with
// the sequencer the ledger last saw for this version.
func TestRedeliverStartsThePipelineWithTheEvent(t *testing.T) {
	sfn := &stepFunctions{}
	srv := httptest.NewServer(sfn)
	defer srv.Close()
	e := fleettest.Start(t, fleetAB, toAll, srv.URL)
	etag, _ := e.Put("demo 1.txt", "hello")
	e.Record(fleettest.Outcome{Key: "demo 1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag, Sequencer: "0A1B2C3D4E5F607182"})
	e.Put("notes/readme.md", "x")

	out, errOut, code := run(t, e, "redeliver", "demo 1.txt", "--board", "b", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var started struct{ ExecutionArn string }
	json.Unmarshal([]byte(out), &started)
	if !strings.HasPrefix(started.ExecutionArn, "arn:aws:states:eu-west-1:000000000000:execution:EdgeDrop-Pipeline:edge-drop-redeliver-") {
		t.Errorf("printed %s", out)
	}
	if len(sfn.starts) != 1 || sfn.starts[0]["stateMachineArn"] != fleettest.PipeARN {
		t.Fatalf("StartExecution calls: %v", sfn.starts)
	}
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Account    string
		Region     string
		Resources  []string
		Detail     struct {
			Bucket struct{ Name string }
			Object struct {
				Key, ETag, Sequencer string
				Size                 int
			}
			Reason string
		}
		EdgeDrop map[string]string `json:"edgeDrop"`
	}
	if err := json.Unmarshal([]byte(sfn.starts[0]["input"]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Source != contract.SourceCLI || ev.DetailType != "Object Created" || ev.Account != "000000000000" || ev.Region != "eu-west-1" ||
		ev.Detail.Bucket.Name != fleettest.Bucket || ev.Detail.Object.Key != "demo+1.txt" || ev.Detail.Object.ETag != etag ||
		ev.Detail.Object.Size != 5 || ev.Detail.Object.Sequencer != "0A1B2C3D4E5F607182" || ev.Detail.Reason != "PutObject" ||
		ev.EdgeDrop[contract.RedeliverBoard] != "b" || len(ev.Resources) != 1 {
		t.Errorf("input: %s", sfn.starts[0]["input"])
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"redeliver", "demo9.txt"}, cli.ExitNotFound, `unknown key "demo9.txt"`},
		{[]string{"redeliver", "notes/readme.md"}, cli.ExitUsage, "does not match the pipeline's keyPattern"},
		{[]string{"redeliver", "demo 1.txt", "--board", "c"}, cli.ExitNotFound, `unknown board "c"`},
	} {
		_, errOut, code := run(t, e, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d with %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	if len(sfn.starts) != 1 {
		t.Errorf("a refused redelivery started an execution: %v", sfn.starts[1:])
	}
}

// sync --wait prints each board's outcome in words and exits 1 when the
// sync did not succeed.
func TestSyncWaitPrintsOutcomesAndFails(t *testing.T) {
	sfn := &stepFunctions{}
	srv := httptest.NewServer(sfn)
	defer srv.Close()
	e := fleettest.Start(t, fleetAB, toAll, srv.URL)
	out, errOut, code := run(t, e, "sync", "--wait")
	if code != cli.ExitFailed || !strings.Contains(errOut, "FAILED "+contract.ErrSomeBoardsFailed) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"FAILED", "a      delivered  0     -", "b      offline    -     AmazonECS.Unknown: AGENT"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if sfn.starts[0]["stateMachineArn"] != fleettest.SyncARN || sfn.starts[0]["input"] != "{}" {
		t.Errorf("started %v", sfn.starts)
	}
	run(t, e, "sync", "--board", "b")
	if sfn.starts[1]["input"] != `{"board":"b"}` {
		t.Errorf("sync --board b started %v", sfn.starts[1])
	}
	out, _, code = run(t, e, "sync", "--wait", "-o", "json")
	var r struct {
		Status string
		Boards []contract.Outcome
	}
	if json.Unmarshal([]byte(out), &r) != nil || code != cli.ExitFailed || r.Status != "FAILED" || len(r.Boards) != 2 || r.Boards[1].Status != "offline" {
		t.Errorf("json: exit %d\n%s", code, out)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// watch prints outcomes as they are recorded, one line (or JSON object)
// each, until it is stopped.
func TestWatchPrintsOutcomesAsTheyArrive(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	e.Record(fleettest.Outcome{Key: "demo0.txt", Board: "a", Status: contract.OutcomeDelivered, At: time.Now().UTC().Add(-2 * time.Hour)})
	for _, asJSON := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		args := []string{"--local=" + e.StateDir, "watch"}
		if asJSON {
			args = append(args, "-o", "json")
		}
		done := make(chan int)
		go func() {
			done <- cli.Run(ctx, cli.Env{Stdout: &out, Stderr: &errOut, Dir: t.TempDir(), Poll: 20 * time.Millisecond}, args)
		}()
		time.Sleep(100 * time.Millisecond)
		e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "b", Status: contract.OutcomeFailed, Cause: "failed (exit 4 not_found: object not found)", ExitCode: fleettest.Code(4)})
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "demo1.txt") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("watch ended with %d: %s", code, errOut.String())
		}
		text := out.String()
		if strings.Contains(text, "demo0.txt") {
			t.Errorf("watch printed an outcome from before it started:\n%s", text)
		}
		if asJSON {
			var o map[string]any
			lines := strings.Split(strings.TrimSpace(text), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil || o["board"] != "b" || o["status"] != "failed" || o["key"] != "demo1.txt" {
				t.Errorf("json line: %v %v\n%s", o, err, text)
			}
		} else if !strings.Contains(text, "b             failed      demo1.txt: failed (exit 4 not_found: object not found)") {
			t.Errorf("watch printed:\n%s", text)
		}
	}
	_, errOut, code := run(t, e, "watch", "--since", "-1h")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--since") {
		t.Errorf("--since -1h: exit %d %q", code, errOut)
	}
}

// An outcome that appears after a newer one (boards record in parallel)
// is printed too, once, and nothing is printed twice.
func TestWatchPrintsAnOutcomeRecordedLateOnce(t *testing.T) {
	e := fleettest.Start(t, fleetAB, toAll, "")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- cli.Run(ctx, cli.Env{Stdout: &out, Stderr: &errOut, Dir: t.TempDir(), Poll: 20 * time.Millisecond},
			[]string{"--local=" + e.StateDir, "watch", "-o", "json"})
	}()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if strings.Contains(out.String(), what) {
				return
			}
		}
		t.Fatalf("watch did not print %s:\n%s", what, out.String())
	}
	time.Sleep(100 * time.Millisecond)
	entered := time.Now().UTC()
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "b", Status: contract.OutcomeDelivered, At: entered.Add(time.Second)})
	waitFor(`"board":"b"`)
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, At: entered})
	waitFor(`"board":"a"`)
	time.Sleep(100 * time.Millisecond) // more polls: nothing again
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("watch ended with %d: %s", code, errOut.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 {
		t.Errorf("watch printed %d lines, want 2:\n%s", len(lines), out.String())
	}
}
