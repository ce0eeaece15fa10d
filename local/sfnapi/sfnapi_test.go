package sfnapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/sfnapi"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Server is the pipeline's endpoint with the credentials it checks.
type Server struct {
	*sfnapi.Server
	keys sigv4.Credentials
}

const (
	echoARN   = "arn:aws:states:" + localrun.Region + ":" + localrun.Account + ":stateMachine:echo-Echo"
	gateARN   = "arn:aws:states:" + localrun.Region + ":" + localrun.Account + ":stateMachine:echo-Gate"
	brokenARN = "arn:aws:states:" + localrun.Region + ":" + localrun.Account + ":stateMachine:echo-Broken"
	tallyARN  = "arn:aws:states:" + localrun.Region + ":" + localrun.Account + ":stateMachine:echo-Tally"
)

// start runs a pipeline of hand-written state machines (no tasks) and the
// endpoint for it. The Gate machine's Wait state waits until gate closes.
func start(t *testing.T) (*Server, *localrun.Pipeline, chan struct{}) {
	t.Helper()
	gate := make(chan struct{})
	p, err := localrun.Start(context.Background(), localrun.Options{AssemblyDir: "testdata/asm", TaskBinary: "/nonexistent",
		Sleep: func(ctx context.Context, _ time.Duration) error {
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // nobody else reads the results here
		for range p.Results() {
		}
	}()
	// The pipeline runs the endpoint (its tasks report there), signed
	// requests only.
	t.Cleanup(func() { _ = p.Close() })
	return &Server{p.StepFunctions, p.Credentials}, p, gate
}

// call sends op signed with keys (the pipeline's, as the demo prints them).
func call(t *testing.T, s *Server, op string, body any) (int, map[string]any) {
	t.Helper()
	return callAs(t, s, s.keys, op, body)
}

func callAs(t *testing.T, s *Server, keys sigv4.Credentials, op string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if keys.Valid() {
		sign(t, req, keys, b)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: undecodable answer: %v", op, err)
	}
	return resp.StatusCode, out
}

func startExecution(t *testing.T, s *Server, p *localrun.Pipeline, arn, input string) (string, *localrun.Run) {
	t.Helper()
	code, out := call(t, s, "StartExecution", map[string]string{"stateMachineArn": arn, "input": input})
	execARN, _ := out["executionArn"].(string)
	if code != 200 || !strings.HasPrefix(execARN, "arn:aws:states:") || out["startDate"] == nil {
		t.Fatalf("StartExecution: %d %v", code, out)
	}
	run, ok := p.Execution(execARN)
	if !ok {
		t.Fatalf("%s is not known to the pipeline", execARN)
	}
	return execARN, run
}

func TestStartAndDescribe(t *testing.T) {
	s, p, gate := start(t)

	arn, run := startExecution(t, s, p, echoARN, `{"board":"b"}`)
	<-run.Done()
	code, out := call(t, s, "DescribeExecution", map[string]string{"executionArn": arn})
	if code != 200 || out["status"] != "SUCCEEDED" || out["output"] != `{"got":{"board":"b"}}` || out["input"] != `{"board":"b"}` ||
		out["stateMachineArn"] != echoARN || out["stopDate"] == nil || out["error"] != nil {
		t.Fatalf("DescribeExecution: %d %v", code, out)
	}

	arn, run = startExecution(t, s, p, gateARN, "")
	if _, out := call(t, s, "DescribeExecution", map[string]string{"executionArn": arn}); out["status"] != "RUNNING" || out["stopDate"] != nil || out["input"] != "{}" {
		t.Fatalf("a waiting execution: %v", out)
	}
	close(gate)
	<-run.Done()
	if _, out := call(t, s, "DescribeExecution", map[string]string{"executionArn": arn}); out["status"] != "FAILED" || out["error"] != "Gate.Closed" || out["cause"] != "the gate stays closed" || out["output"] != nil {
		t.Fatalf("a failed execution: %v", out)
	}
}

func TestHistoryHasTheTopLevelStateExits(t *testing.T) {
	s, p, _ := start(t)
	arn, run := startExecution(t, s, p, tallyARN, `{"x":1}`)
	<-run.Done()
	type event struct {
		ID, PreviousEventID     int
		Type                    string
		StateExitedEventDetails struct{ Name, Output string }
	}
	for _, reverse := range []bool{false, true} {
		code, out := call(t, s, "GetExecutionHistory", map[string]any{"executionArn": arn, "reverseOrder": reverse})
		b, _ := json.Marshal(out["events"])
		var events []event
		if err := json.Unmarshal(b, &events); code != 200 || err != nil || len(events) != 2 {
			t.Fatalf("GetExecutionHistory: %d %s %v", code, b, err)
		}
		first, second := events[0], events[1]
		if reverse {
			first, second = second, first
		}
		if first.ID != 1 || first.Type != "PassStateExited" || first.StateExitedEventDetails.Name != "Prepare" || first.StateExitedEventDetails.Output != `{"x":1}` ||
			second.ID != 2 || second.PreviousEventID != 1 || second.StateExitedEventDetails.Name != "TallyOutcomes" || second.StateExitedEventDetails.Output != `{"offline":["b"]}` {
			t.Errorf("reverse %v: events %s", reverse, b)
		}
	}
	if code, out := call(t, s, "GetExecutionHistory", map[string]any{"executionArn": arn + "-nope"}); code != 400 || out["__type"] != "ExecutionDoesNotExist" {
		t.Errorf("unknown execution: %d %v", code, out)
	}
}

func TestErrorsAreAWSExceptions(t *testing.T) {
	s, _, _ := start(t)
	for _, c := range []struct {
		op   string
		body any
		want string
	}{
		{"StartExecution", map[string]string{"stateMachineArn": echoARN + "-nope"}, "StateMachineDoesNotExist"},
		{"StartExecution", map[string]string{"stateMachineArn": echoARN, "input": "[1,"}, "InvalidExecutionInput"},
		{"StartExecution", "not an object", "SerializationException"},
		{"DescribeExecution", map[string]string{"executionArn": "arn:aws:states:eu-west-1:0:execution:x:y"}, "ExecutionDoesNotExist"},
		{"StopExecution", map[string]string{}, "UnknownOperationException"},
		{"GetExecutionHistory", "[]", "SerializationException"},
	} {
		code, out := call(t, s, c.op, c.body)
		if msg, _ := out["message"].(string); code != 400 || out["__type"] != c.want || msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("%s %v: %d %v, want 400 %s", c.op, c.body, code, out, c.want)
		}
	}
	req, _ := http.NewRequest("GET", s.URL()+"/", nil)
	sign(t, req, s.keys, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
}

// TestAWSCLI drives the endpoint with the real aws CLI, as make sync does.
// Skipped when the aws CLI is not installed.
func TestAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	s, p, _ := start(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID="+p.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+p.Credentials.SecretAccessKey,
		"AWS_REGION="+localrun.Region, "AWS_DEFAULT_REGION="+localrun.Region, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	aws := func(args ...string) (string, error) {
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", s.URL(), "--output", "text"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	arn, err := aws("stepfunctions", "start-execution", "--state-machine-arn", brokenARN, "--input", `{"board":"a"}`, "--query", "executionArn")
	if err != nil || !strings.HasPrefix(arn, "arn:aws:states:") {
		t.Fatalf("start-execution: %v %s", err, arn)
	}
	run, ok := p.Execution(arn)
	if !ok {
		t.Fatalf("unknown execution %s", arn)
	}
	<-run.Done()
	out, err := aws("stepfunctions", "describe-execution", "--execution-arn", arn, "--query", "[status,error,cause]")
	if err != nil || out != "FAILED\tEdge.Broken\talways fails" {
		t.Fatalf("describe-execution: %v %q", err, out)
	}
	// scripts/sync.sh's query for a failed sync's outcomes.
	arn, err = aws("stepfunctions", "start-execution", "--state-machine-arn", tallyARN, "--query", "executionArn")
	if err != nil {
		t.Fatal(err)
	}
	if run, ok := p.Execution(arn); ok {
		<-run.Done()
	}
	out, err = aws("stepfunctions", "get-execution-history", "--execution-arn", arn, "--reverse-order",
		"--query", "events[?type=='PassStateExited' && stateExitedEventDetails.name=='TallyOutcomes'] | [0].stateExitedEventDetails.output")
	if err != nil || out != `{"offline":["b"]}` {
		t.Fatalf("get-execution-history: %v %q", err, out)
	}
	if out, err := aws("stepfunctions", "start-execution", "--state-machine-arn", echoARN+"-nope"); err == nil || !strings.Contains(out, "StateMachineDoesNotExist") {
		t.Fatalf("an unknown state machine: %v %s", err, out)
	}
}

func sign(t *testing.T, req *http.Request, keys sigv4.Credentials, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "states", localrun.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// Only requests signed with the demo's credentials get in: unsigned or
// wrongly signed ones get 403 and start nothing; no answer carries CORS
// headers.
func TestUnsignedAndWronglySignedRequestsAreRefused(t *testing.T) {
	s, p, _ := start(t)
	start := map[string]string{"stateMachineArn": echoARN, "input": "{}"}
	for _, tc := range []struct {
		name string
		keys sigv4.Credentials
		want string
	}{
		{"unsigned", sigv4.Credentials{}, "MissingAuthenticationTokenException"},
		{"another secret", sigv4.Credentials{AccessKeyID: p.Credentials.AccessKeyID, SecretAccessKey: "guess"}, "InvalidSignatureException"},
		{"another access key", sigv4.NewCredentials(), "UnrecognizedClientException"},
	} {
		code, out := callAs(t, s, tc.keys, "StartExecution", start)
		if code != 403 || out["__type"] != tc.want {
			t.Errorf("%s: %d %v, want 403 %s", tc.name, code, out, tc.want)
		}
	}
	// Signed, then the body changed: the signature covers it.
	b, _ := json.Marshal(start)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.StartExecution")
	sign(t, req, s.keys, []byte(`{"stateMachineArn":"`+echoARN+`"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a body other than the one signed: %d", resp.StatusCode)
	}
	if n := len(p.StateMachines()); n == 0 {
		t.Fatal("no state machines")
	}
	// A browser's preflight from any origin: no CORS headers.
	req, _ = http.NewRequest("OPTIONS", s.URL()+"/", nil)
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
