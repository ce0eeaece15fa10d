package asl_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// A Task state whose job gets $$.Task.Token, like ecs:runTask.sync with the
// token in the container's environment.
const tokenMachine = `{"StartAt":"Run","States":{
	"Run":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync",
		"Parameters":{"token.$":"$$.Task.Token","key.$":"$.key"},
		"ResultPath":"$.task",
		"Retry":[{"ErrorEquals":["Busy"],"IntervalSeconds":1,"MaxAttempts":2}],
		"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Caught"}],
		"End":true},
	"Caught":{"Type":"Pass","End":true}}}`

// job is a Task handler that hands its token to the test and waits to be
// released (or its context to end), then answers with result/err.
type job struct {
	tokens  chan string
	release chan struct{}
	result  any
	err     error
	mu      sync.Mutex
	ended   bool
}

func newJob(result any, err error) *job {
	return &job{tokens: make(chan string, 8), release: make(chan struct{}), result: result, err: err}
}

func (j *job) handler(ctx context.Context, _ string, params any) (any, error) {
	j.tokens <- params.(map[string]any)["token"].(string)
	select {
	case <-j.release:
	case <-ctx.Done():
	}
	j.mu.Lock()
	j.ended = true
	j.mu.Unlock()
	return j.result, j.err
}

func (j *job) hasEnded() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ended
}

func execute(m *Machine, tokens *TaskTokens, h TaskHandler) <-chan *Execution {
	out := make(chan *Execution, 1)
	go func() {
		out <- m.Execute(context.Background(), map[string]any{"key": "k"}, Options{Task: h, Tokens: tokens})
	}()
	return out
}

func TestSendTaskSuccessEndsAPendingTaskStateBeforeItsJob(t *testing.T) {
	m := asltest.MustParse(t, tokenMachine)
	tokens := NewTaskTokens()
	j := newJob(map[string]any{"TaskArn": "arn:task"}, nil)
	done := execute(m, tokens, j.handler)
	tok := <-j.tokens
	if err := tokens.SendTaskHeartbeat(tok); err != nil {
		t.Fatalf("heartbeat of a pending task: %v", err)
	}
	if err := tokens.SendTaskSuccess(tok, `{"status":"delivered","exitCode":0,"n":12345678901234567890}`); err != nil {
		t.Fatal(err)
	}
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	// The report is the result, numbers exact; the job has not ended.
	asltest.AssertJSON(t, e.Output, `{"key":"k","task":{"status":"delivered","exitCode":0,"n":12345678901234567890}}`)
	if j.hasEnded() {
		t.Error("the job was ended by the state's end; ECS lets it run to its own end")
	}
	close(j.release)

	// A token is good once: then TaskTimedOut, as for a closed task.
	var te *TokenError
	if err := tokens.SendTaskSuccess(tok, `{}`); !errors.As(err, &te) || te.Code != CodeTaskTimedOut {
		t.Errorf("a used token: %v, want TaskTimedOut", err)
	}
	if err := tokens.SendTaskHeartbeat(tok); !errors.As(err, &te) || te.Code != CodeTaskTimedOut {
		t.Errorf("heartbeat with a used token: %v, want TaskTimedOut", err)
	}
}

// A task that reports and then exits non-zero: the report came first and
// is the state's result, not the job's failure.
func TestAReportBeforeTheJobFailedWins(t *testing.T) {
	m := asltest.MustParse(t, tokenMachine)
	tokens := NewTaskTokens()
	j := newJob(nil, &Error{Name: ErrTaskFailed, Cause: `{"Containers":[{"ExitCode":6}]}`})
	done := execute(m, tokens, j.handler)
	tok := <-j.tokens
	if err := tokens.SendTaskSuccess(tok, `{"status":"failed","exitCode":6}`); err != nil {
		t.Fatal(err)
	}
	close(j.release)
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.AssertJSON(t, e.Output, `{"key":"k","task":{"status":"failed","exitCode":6}}`)
}

// Without a token the job's own result stands (the fallback: a task that
// did not report).
func TestWithoutAReportTheJobDecides(t *testing.T) {
	m := asltest.MustParse(t, tokenMachine)
	j := newJob(map[string]any{"TaskArn": "arn:task"}, nil)
	close(j.release)
	e := <-execute(m, nil, j.handler)
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.AssertJSON(t, e.Output, `{"key":"k","task":{"TaskArn":"arn:task"}}`)
}

func TestSendTaskFailureFailsTheStateForRetryAndCatch(t *testing.T) {
	m := asltest.MustParse(t, tokenMachine)
	tokens := NewTaskTokens()
	j := newJob(nil, nil)
	done := make(chan *Execution, 1)
	go func() {
		done <- m.Execute(context.Background(), map[string]any{"key": "k"}, Options{Task: j.handler, Tokens: tokens,
			Sleep: func(context.Context, time.Duration) error { return nil }})
	}()
	// Each attempt has its own token.
	first := <-j.tokens
	if err := tokens.SendTaskFailure(first, "Busy", "try again"); err != nil {
		t.Fatal(err)
	}
	second := <-j.tokens
	if first == second {
		t.Fatal("a retry reused its attempt's token")
	}
	if err := tokens.SendTaskFailure(second, "EdgeDrop.Broken", "the disk is full"); err != nil {
		t.Fatal(err)
	}
	close(j.release)
	e := <-done
	asltest.Equal(t, "status", e.Status, StatusSucceeded)
	asltest.Equal(t, "path", asltest.PathNames(e), "Run,Caught")
	asltest.AssertJSON(t, e.Output, `{"key":"k","error":{"Error":"EdgeDrop.Broken","Cause":"the disk is full"}}`)
}

func TestSendTaskCallsAnswerLikeAWSForBadTokens(t *testing.T) {
	tokens, other := NewTaskTokens(), NewTaskTokens()
	foreign, _ := IssueToken(other)
	pending, closePending := IssueToken(tokens)
	defer closePending()
	for _, tc := range []struct {
		name, token, output, code string
	}{
		{"empty", "", `{}`, CodeInvalidToken},
		{"too long", strings.Repeat("a", MaxTaskTokenLength+1), `{}`, CodeInvalidToken},
		{"not ours at all", "AQCwAAAAKgAAAAMAAAAAAAAAAZ83J8zGdl7Qgs8ce6YotnXrivuZegnBk22stlpw", `{}`, CodeInvalidToken},
		{"issued elsewhere", foreign, `{}`, CodeTaskDoesNotExist},
		{"output not JSON", pending, `{"status":`, CodeInvalidOutput},
		{"output too large", pending, `"` + strings.Repeat("x", MaxTaskOutputBytes) + `"`, CodeInvalidOutput},
	} {
		var te *TokenError
		err := tokens.SendTaskSuccess(tc.token, tc.output)
		if !errors.As(err, &te) || te.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// A refused output leaves the task pending.
	if err := tokens.SendTaskHeartbeat(pending); err != nil {
		t.Errorf("after a refused output the task must still be pending: %v", err)
	}
	var te *TokenError
	if err := tokens.SendTaskFailure(pending, strings.Repeat("E", 257), ""); !errors.As(err, &te) || te.Code != CodeValidationError {
		t.Errorf("a 257-character error: %v, want ValidationException", err)
	}
}

// The state ended by its job (no report): its token is closed.
func TestATokenClosesWithItsState(t *testing.T) {
	m := asltest.MustParse(t, tokenMachine)
	tokens := NewTaskTokens()
	j := newJob(map[string]any{}, nil)
	done := execute(m, tokens, j.handler)
	tok := <-j.tokens
	close(j.release)
	<-done
	var te *TokenError
	if err := tokens.SendTaskSuccess(tok, `{}`); !errors.As(err, &te) || te.Code != CodeTaskTimedOut {
		t.Errorf("token of an ended state: %v, want TaskTimedOut", err)
	}
}

// $$.Task is there in Task states only (AWS: null elsewhere).
func TestTaskTokenOnlyInTaskStates(t *testing.T) {
	m := asltest.MustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"t.$":"$$.Task.Token"},"End":true}}}`)
	e := m.Execute(context.Background(), map[string]any{}, Options{})
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, ErrRuntime)
}

// A job whose state ended by its token outlives the Map that ran it: the
// Map's end does not stop it (ECS would not), the execution's abort does.
func TestAReportedJobOutlivesItsMap(t *testing.T) {
	m := asltest.MustParse(t, `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","End":true,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Run","States":{
			"Run":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","Parameters":{"token.$":"$$.Task.Token"},"End":true}}}}}}`)
	tokens := NewTaskTokens()
	j := newJob(map[string]any{}, nil)
	ctx, abort := context.WithCancel(context.Background())
	done := make(chan *Execution, 1)
	go func() {
		done <- m.Execute(ctx, map[string]any{"items": []any{1}}, Options{Task: j.handler, Tokens: tokens})
	}()
	if err := tokens.SendTaskSuccess(<-j.tokens, `{"status":"synced"}`); err != nil {
		t.Fatal(err)
	}
	e := <-done
	asltest.AssertJSON(t, e.Output, `[{"status":"synced"}]`)
	time.Sleep(20 * time.Millisecond)
	if j.hasEnded() {
		t.Fatal("the Map's end stopped a job whose state had ended by its token")
	}
	abort()
	deadline := time.Now().Add(5 * time.Second)
	for !j.hasEnded() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !j.hasEnded() {
		t.Error("the execution's context ended, the job did not")
	}
}

// $$.Task exists in Task states only: a Fail state right after a Task
// state saw the Task state's (closed) token, as $$.Task.Token.
func TestTaskTokenIsNotInTheContextAfterTheTaskState(t *testing.T) {
	m := asltest.MustParse(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"r","Next":"F"},
		"F":{"Type":"Fail","Error":"E","CausePath":"$$.Task.Token"}}}`)
	e := m.Execute(t.Context(), map[string]any{}, Options{Task: func(context.Context, string, any) (any, error) { return map[string]any{}, nil }})
	if e.Status != StatusFailed || e.Error != ErrRuntime || !strings.Contains(e.Cause, "Invalid path '$$.Task.Token' in field CausePath") {
		t.Errorf("Fail state with CausePath $$.Task.Token after a Task state: %s %s %q, want States.Runtime (no $$.Task outside Task states)", e.Status, e.Error, e.Cause)
	}
}
