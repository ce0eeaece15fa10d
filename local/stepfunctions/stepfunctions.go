// Package stepfunctions serves the part of the AWS Step Functions API that
// `make sync` needs (StartExecution, DescribeExecution, and of
// GetExecutionHistory the top-level state exits) on 127.0.0.1 for the
// local demo, so that the aws CLI (`aws --endpoint-url`) starts and follows
// executions of the demo's state machines as it does in the cloud.
//
// The protocol is AWS JSON 1.0: POST /, the operation in the X-Amz-Target
// header (AWSStepFunctions.<Operation>), a JSON body, errors as HTTP 400
// with {"__type": <exception name>, "message": ...}. Every request must be
// signed (SigV4, service "states") with the demo's credentials: unsigned
// or wrongly signed ones get 403, as from Step Functions. It sends no CORS
// headers, so no web page can read its answers.
package stepfunctions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/local/endpoint"
	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Executions is what the server drives (a *localrun.Pipeline).
type Executions interface {
	StartExecution(arn, name, input string) (*localrun.Run, error)
	Execution(arn string) (*localrun.Run, bool)
}

// Server is a running endpoint. Create it with Start.
type Server struct {
	ln   net.Listener
	http *http.Server
	done chan struct{}
	keys sigv4.Credentials
}

// Options configures Start.
type Options struct {
	// Listener is served; without it, Addr ("127.0.0.1:0" when empty) is
	// listened on.
	Listener net.Listener
	Addr     string
	// Credentials and Region every request must be signed with (required).
	Credentials sigv4.Credentials
	Region      string
}

// Start serves the API for x, signed requests only.
func Start(x Executions, o Options) (*Server, error) {
	if !o.Credentials.Valid() || o.Region == "" {
		return nil, errors.New("stepfunctions: Credentials and Region are required: every request is checked against them")
	}
	ln := o.Listener
	if ln == nil {
		addr := o.Addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("stepfunctions: listen %s: %w", addr, err)
		}
	}
	v := &sigv4.Verifier{Credentials: o.Credentials, Service: "states", Region: o.Region}
	s := &Server{ln: ln, done: make(chan struct{}), keys: o.Credentials,
		http: &http.Server{Handler: authenticated(v, Handler(x)), ReadHeaderTimeout: 30 * time.Second}}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	return s, nil
}

// URL is the endpoint for `aws --endpoint-url`, e.g. http://127.0.0.1:41235.
func (s *Server) URL() string { return endpoint.URL(s.ln) }

// Close stops the server and waits for it.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	return err
}

// maxBody bounds a request (an execution's input is at most 256 KiB).
const maxBody = 1 << 20

// Handler serves the API for x.
func Handler(x Executions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		if r.Method != http.MethodPost || !ok {
			fail(w, &localrun.APIError{Code: "UnknownOperationException", Message: "want POST with X-Amz-Target: AWSStepFunctions.<Operation>"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			fail(w, &localrun.APIError{Code: "ValidationException", Message: "request body unreadable or over 1 MiB"})
			return
		}
		switch op {
		case "StartExecution":
			var in struct{ StateMachineArn, Name, Input string }
			if err := json.Unmarshal(body, &in); err != nil {
				fail(w, &localrun.APIError{Code: "SerializationException", Message: err.Error()})
				return
			}
			run, err := x.StartExecution(in.StateMachineArn, in.Name, in.Input)
			if err != nil {
				fail(w, err)
				return
			}
			reply(w, map[string]any{"executionArn": run.ARN, "startDate": epoch(run.Start)})
		case "DescribeExecution":
			var in struct{ ExecutionArn string }
			if err := json.Unmarshal(body, &in); err != nil {
				fail(w, &localrun.APIError{Code: "SerializationException", Message: err.Error()})
				return
			}
			run, ok := x.Execution(in.ExecutionArn)
			if !ok {
				fail(w, &localrun.APIError{Code: "ExecutionDoesNotExist", Message: "Execution Does Not Exist: '" + in.ExecutionArn + "'"})
				return
			}
			reply(w, describe(run))
		case "GetExecutionHistory":
			var in struct {
				ExecutionArn string
				ReverseOrder bool
			}
			if err := json.Unmarshal(body, &in); err != nil {
				fail(w, &localrun.APIError{Code: "SerializationException", Message: err.Error()})
				return
			}
			run, ok := x.Execution(in.ExecutionArn)
			if !ok {
				fail(w, &localrun.APIError{Code: "ExecutionDoesNotExist", Message: "Execution Does Not Exist: '" + in.ExecutionArn + "'"})
				return
			}
			reply(w, map[string]any{"events": history(run, in.ReverseOrder)})
		default:
			fail(w, &localrun.APIError{Code: "UnknownOperationException", Message: "the local Step Functions endpoint serves StartExecution, DescribeExecution and GetExecutionHistory, not " + op})
		}
	})
}

// describe is DescribeExecution's answer.
func describe(run *localrun.Run) map[string]any {
	out := map[string]any{
		"executionArn": run.ARN, "stateMachineArn": run.StateMachineARN, "name": run.Name,
		"status": "RUNNING", "startDate": epoch(run.Start), "input": run.Input,
	}
	r, ended := run.Result()
	if !ended {
		return out
	}
	x := r.Execution
	out["status"] = x.Status
	out["stopDate"] = epoch(x.StopTime)
	if x.Status == "SUCCEEDED" {
		b, _ := json.Marshal(x.Output)
		out["output"] = string(b)
	}
	if x.Error != "" {
		out["error"] = x.Error
	}
	if x.Cause != "" {
		out["cause"] = x.Cause
	}
	return out
}

// history is GetExecutionHistory's events, in one page: the state exits
// of the top level only (<Type>StateExited with name and output).
func history(run *localrun.Run, reverse bool) []map[string]any {
	var events []map[string]any
	for i, e := range run.Exited() {
		events = append(events, map[string]any{
			"id": i + 1, "previousEventId": i, "timestamp": epoch(e.At), "type": e.Type + "StateExited",
			"stateExitedEventDetails": map[string]string{"name": e.Name, "output": e.Output},
		})
	}
	if reverse {
		slices.Reverse(events)
	}
	if events == nil {
		events = []map[string]any{}
	}
	return events
}

// epoch is a timestamp as AWS JSON protocols send it: seconds, fractional.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	code, msg := "InternalFailure", err.Error()
	if ae := (*localrun.APIError)(nil); errors.As(err, &ae) {
		code, msg = ae.Code, ae.Message
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
