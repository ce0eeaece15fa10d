// Package sfnapi serves the part of the AWS Step Functions API that
// the local pipeline's users need on 127.0.0.1: what `make sync` calls
// (StartExecution, DescribeExecution, and of GetExecutionHistory the
// top-level state exits), so that the aws CLI (`aws --endpoint-url`) starts
// and follows executions of the demo's state machines as it does in the
// cloud; and what a task calls with its task token (SendTaskSuccess,
// SendTaskFailure, SendTaskHeartbeat), so that edge-drop-task reports its
// outcome as the output of the state that ran it, with the SDK pointed
// here by AWS_ENDPOINT_URL_SFN.
//
// The protocol is AWS JSON 1.0: POST /, the operation in the X-Amz-Target
// header (AWSStepFunctions.<Operation>), a JSON body, errors as HTTP 400
// with {"__type": <exception name>, "message": ...}. Every request must be
// signed (SigV4, service "states") with the demo's credentials: unsigned
// or wrongly signed ones get 403, as from Step Functions. It sends no CORS
// headers, so no web page can read its answers.
package sfnapi

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

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/endpoint"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Backend is what the server drives (the local pipeline). Its errors are
// *APIError or *asl.TokenError, answered with their codes; any
// other error is an InternalFailure.
type Backend interface {
	StartExecution(arn, name, input string) (Execution, error)
	DescribeExecution(arn string) (Execution, bool)
	SendTaskSuccess(token, output string) error
	SendTaskFailure(token, errName, cause string) error
	SendTaskHeartbeat(token string) error
}

// Execution is what the API shows of one execution.
type Execution struct {
	ARN, StateMachineARN, Name, Input string
	Start                             time.Time
	// Ended, then the rest: Status is SUCCEEDED, FAILED, TIMED_OUT or
	// ABORTED; Output (JSON) only for SUCCEEDED.
	Ended                        bool
	Status, Output, Error, Cause string
	Stop                         time.Time
	// Exited are the top-level states that finished so far, in order.
	Exited []StateExit
}

// StateExit is a top-level state that finished, with its output (JSON).
type StateExit struct {
	Name, Type string // Type: Pass, Task, Choice, ...
	At         time.Time
	Output     string
}

// APIError is a Step Functions API error: Code is the exception name the
// AWS API answers with (e.g. StateMachineDoesNotExist).
type APIError struct{ Code, Message string }

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Server is a running endpoint. Create it with Start.
type Server struct{ *endpoint.Server }

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
func Start(x Backend, o Options) (*Server, error) {
	if !o.Credentials.Valid() || o.Region == "" {
		return nil, errors.New("sfnapi: Credentials and Region are required: every request is checked against them")
	}
	v := &sigv4.Verifier{Credentials: o.Credentials, Service: "states", Region: o.Region}
	s, err := endpoint.Serve(o.Listener, o.Addr, sigv4.RequireJSON(v, Handler(x)))
	if err != nil {
		return nil, fmt.Errorf("sfnapi: %w", err)
	}
	return &Server{s}, nil
}

// maxBody bounds a request (an execution's input is at most 256 KiB).
const maxBody = sigv4.MaxJSONBody

// Handler serves the API for x.
func Handler(x Backend) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		if r.Method != http.MethodPost || !ok {
			fail(w, &APIError{Code: "UnknownOperationException", Message: "want POST with X-Amz-Target: AWSStepFunctions.<Operation>"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			fail(w, &APIError{Code: "ValidationException", Message: "request body unreadable or over 1 MiB"})
			return
		}
		decode := func(v any) bool {
			if err := json.Unmarshal(body, v); err != nil {
				fail(w, &APIError{Code: "SerializationException", Message: err.Error()})
				return false
			}
			return true
		}
		switch op {
		case "StartExecution":
			var in struct{ StateMachineArn, Name, Input string }
			if !decode(&in) {
				return
			}
			e, err := x.StartExecution(in.StateMachineArn, in.Name, in.Input)
			if err != nil {
				fail(w, err)
				return
			}
			reply(w, map[string]any{"executionArn": e.ARN, "startDate": epoch(e.Start)})
		case "DescribeExecution", "GetExecutionHistory":
			var in struct {
				ExecutionArn string
				ReverseOrder bool
			}
			if !decode(&in) {
				return
			}
			e, found := x.DescribeExecution(in.ExecutionArn)
			if !found {
				fail(w, &APIError{Code: "ExecutionDoesNotExist", Message: "Execution Does Not Exist: '" + in.ExecutionArn + "'"})
				return
			}
			if op == "DescribeExecution" {
				reply(w, describe(e))
			} else {
				reply(w, map[string]any{"events": history(e, in.ReverseOrder)})
			}
		case "SendTaskSuccess":
			var in struct{ TaskToken, Output string }
			if decode(&in) {
				answer(w, x.SendTaskSuccess(in.TaskToken, in.Output))
			}
		case "SendTaskFailure":
			var in struct{ TaskToken, Error, Cause string }
			if decode(&in) {
				answer(w, x.SendTaskFailure(in.TaskToken, in.Error, in.Cause))
			}
		case "SendTaskHeartbeat":
			var in struct{ TaskToken string }
			if decode(&in) {
				answer(w, x.SendTaskHeartbeat(in.TaskToken))
			}
		default:
			fail(w, &APIError{Code: "UnknownOperationException", Message: "the local Step Functions endpoint serves StartExecution, DescribeExecution, GetExecutionHistory and SendTaskSuccess/Failure/Heartbeat, not " + op})
		}
	})
}

// describe is DescribeExecution's answer.
func describe(e Execution) map[string]any {
	out := map[string]any{
		"executionArn": e.ARN, "stateMachineArn": e.StateMachineARN, "name": e.Name,
		"status": "RUNNING", "startDate": epoch(e.Start), "input": e.Input,
	}
	if !e.Ended {
		return out
	}
	out["status"] = e.Status
	out["stopDate"] = epoch(e.Stop)
	if e.Status == "SUCCEEDED" {
		out["output"] = e.Output
	}
	if e.Error != "" {
		out["error"] = e.Error
	}
	if e.Cause != "" {
		out["cause"] = e.Cause
	}
	return out
}

// history is GetExecutionHistory's events, in one page: the state exits
// of the top level only (<Type>StateExited with name and output).
func history(e Execution, reverse bool) []map[string]any {
	events := []map[string]any{}
	for i, x := range e.Exited {
		events = append(events, map[string]any{
			"id": i + 1, "previousEventId": i, "timestamp": epoch(x.At), "type": x.Type + "StateExited",
			"stateExitedEventDetails": map[string]string{"name": x.Name, "output": x.Output},
		})
	}
	if reverse {
		slices.Reverse(events)
	}
	return events
}

// epoch is a timestamp as AWS JSON protocols send it: seconds, fractional.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

// answer is a SendTask* call's answer: {} or its error.
func answer(w http.ResponseWriter, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, map[string]any{})
}

func fail(w http.ResponseWriter, err error) {
	code, msg := "InternalFailure", err.Error()
	if ae := (*APIError)(nil); errors.As(err, &ae) {
		code, msg = ae.Code, ae.Message
	}
	if te := (*asl.TokenError)(nil); errors.As(err, &te) {
		code, msg = te.Code, te.Message
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
