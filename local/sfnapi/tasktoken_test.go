package sfnapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/sfnapi"
)

// tokenBackend records the SendTask* calls and answers with err.
type tokenBackend struct {
	sfnapi.Backend // the execution calls are not used here
	calls          []string
	err            error
}

func (b *tokenBackend) SendTaskSuccess(token, output string) error {
	b.calls = append(b.calls, "success "+token+" "+output)
	return b.err
}

func (b *tokenBackend) SendTaskFailure(token, errName, cause string) error {
	b.calls = append(b.calls, "failure "+token+" "+errName+" "+cause)
	return b.err
}

func (b *tokenBackend) SendTaskHeartbeat(token string) error {
	b.calls = append(b.calls, "heartbeat "+token)
	return b.err
}

// The task's own client: the SDK, pointed at the endpoint by
// AWS_ENDPOINT_URL_SFN as the local ECS stand-in points it.
func sdkClient(t *testing.T, url string) *sfn.Client {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_SFN", url)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("k", "s", "")))
	if err != nil {
		t.Fatal(err)
	}
	return sfn.NewFromConfig(cfg)
}

func TestTheSDKSendsTaskResultsToTheEndpoint(t *testing.T) {
	b := &tokenBackend{}
	srv := httptest.NewServer(sfnapi.Handler(b))
	defer srv.Close()
	c := sdkClient(t, srv.URL)
	ctx := context.Background()
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("tok-1"), Output: aws.String(`{"status":"delivered"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("tok-2"), Error: aws.String("E"), Cause: aws.String("why")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("tok-3")}); err != nil {
		t.Fatal(err)
	}
	assertCalls(t, b.calls, []string{`success tok-1 {"status":"delivered"}`, "failure tok-2 E why", "heartbeat tok-3"})
}

// The SDK's typed errors come from the endpoint's exception names.
func TestTokenErrorsReachTheSDKTyped(t *testing.T) {
	b := &tokenBackend{}
	srv := httptest.NewServer(sfnapi.Handler(b))
	defer srv.Close()
	c := sdkClient(t, srv.URL)
	send := func() error {
		_, err := c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String("t"), Output: aws.String("{}")})
		return err
	}
	b.err = &asl.TokenError{Code: asl.CodeTaskTimedOut, Message: "Task Timed Out"}
	if err := send(); !errors.As(err, new(*types.TaskTimedOut)) {
		t.Errorf("TaskTimedOut: got %v", err)
	}
	b.err = &asl.TokenError{Code: asl.CodeInvalidToken, Message: "Invalid Token"}
	if err := send(); !errors.As(err, new(*types.InvalidToken)) {
		t.Errorf("InvalidToken: got %v", err)
	}
	b.err = &asl.TokenError{Code: asl.CodeTaskDoesNotExist, Message: "no such task"}
	if err := send(); !errors.As(err, new(*types.TaskDoesNotExist)) {
		t.Errorf("TaskDoesNotExist: got %v", err)
	}
	b.err = &asl.TokenError{Code: asl.CodeInvalidOutput, Message: "not JSON"}
	if err := send(); !errors.As(err, new(*types.InvalidOutput)) {
		t.Errorf("InvalidOutput: got %v", err)
	}
}

// Against the interpreter's tokens: a real pending token, then the same
// token again.
func TestTheEndpointCompletesInterpreterTokens(t *testing.T) {
	tokens := asl.NewTaskTokens()
	srv := httptest.NewServer(sfnapi.Handler(tokenAPI{tokens}))
	defer srv.Close()
	c := sdkClient(t, srv.URL)
	m, err := asl.Parse([]byte(`{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync",
		"Parameters":{"token.$":"$$.Task.Token"},"End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	release := make(chan struct{})
	defer close(release)
	e := m.Execute(context.Background(), map[string]any{}, asl.Options{Tokens: tokens,
		Task: func(ctx context.Context, _ string, params any) (any, error) {
			tok := params.(map[string]any)["token"].(string)
			if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &tok, Output: aws.String(`{"status":"up_to_date"}`)}); err != nil {
				return nil, err
			}
			got <- tok
			<-release
			return map[string]any{}, nil
		}})
	if e.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s %s", e.Status, e.Error, e.Cause)
	}
	if out, _ := e.Output.(map[string]any); out["status"] != "up_to_date" {
		t.Errorf("output %v, want the report", e.Output)
	}
	tok := <-got
	_, err = c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: &tok, Output: aws.String("{}")})
	if !errors.As(err, new(*types.TaskTimedOut)) {
		t.Errorf("the token again: %v, want TaskTimedOut", err)
	}
}

type tokenAPI struct{ *asl.TaskTokens }

func (tokenAPI) StartExecution(string, string, string) (sfnapi.Execution, error) {
	return sfnapi.Execution{}, &sfnapi.APIError{Code: "StateMachineDoesNotExist", Message: "none here"}
}

func (tokenAPI) DescribeExecution(string) (sfnapi.Execution, bool) {
	return sfnapi.Execution{}, false
}

func assertCalls(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("call %d: %q, want %q", i, got[i], want[i])
		}
	}
}
