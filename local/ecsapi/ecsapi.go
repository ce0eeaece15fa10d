// Package ecsapi serves the read-only ECS calls the edge-drop CLI and the
// status page make (ListContainerInstances, DescribeContainerInstances)
// for the local demo, over ECS's own protocol, from the local ECS
// stand-in's fleet (local/ecstask): the same answers the state machines'
// SDK integration gets, so what the CLI says about a board is what the
// pipeline sees.
//
// The protocol is AWS JSON 1.1: POST /, the operation in X-Amz-Target
// (AmazonEC2ContainerServiceV20141113.<Operation>), camelCase members,
// errors as HTTP 400 {"__type": <exception>, "message": ...}. It listens on
// loopback only and, like the demo's other endpoints, answers only requests
// signed (SigV4, service "ecs") with the demo's credentials; nothing it
// serves changes the fleet.
package ecsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/ecstask"
	"github.com/edge-drop/edge-drop/local/endpoint"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// Fleet answers ECS calls the way the state machines' aws-sdk integration
// makes them (*ecstask.Runner): PascalCase parameters, an integration
// resource ARN per call.
type Fleet interface {
	Handle(ctx context.Context, resource string, parameters any) (any, error)
}

// targetPrefix starts every X-Amz-Target of the ECS API.
const targetPrefix = "AmazonEC2ContainerServiceV20141113."

// operations maps the operations served to the integration's resources.
// Only reads: RunTask and the like are the state machines' business.
var operations = map[string]string{
	"ListContainerInstances":     ecstask.ResourceListContainerInstances,
	"DescribeContainerInstances": ecstask.ResourceDescribeContainerInstances,
}

// Server is a running endpoint.
type Server struct{ *endpoint.Server }

// Options configures Start.
type Options struct {
	Addr string // "127.0.0.1:0" when empty
	// Credentials and Region every request must be signed with (required).
	Credentials sigv4.Credentials
	Region      string
}

// Start listens on o.Addr and serves f to signed requests.
func Start(f Fleet, o Options) (*Server, error) {
	if !o.Credentials.Valid() || o.Region == "" {
		return nil, errors.New("ecsapi: Credentials and Region are required: every request is checked against them")
	}
	v := &sigv4.Verifier{Credentials: o.Credentials, Service: "ecs", Region: o.Region}
	s, err := endpoint.Serve(nil, o.Addr, sigv4.RequireJSON(v, Handler(f)))
	if err != nil {
		return nil, fmt.Errorf("ecsapi: %w", err)
	}
	return &Server{s}, nil
}

const maxBody = 1 << 20

// Handler serves the API for f.
func Handler(f Fleet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
		resource, known := operations[op]
		switch {
		case r.Method != http.MethodPost || !ok:
			fail(w, "UnknownOperationException", "want POST with X-Amz-Target: "+targetPrefix+"<Operation>")
			return
		case !known:
			fail(w, "UnknownOperationException", "the local ECS endpoint serves ListContainerInstances and DescribeContainerInstances, not "+op)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			fail(w, "InvalidParameterException", "request body unreadable or over 1 MiB")
			return
		}
		var in map[string]any
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				fail(w, "SerializationException", err.Error())
				return
			}
		}
		out, err := f.Handle(r.Context(), resource, recase(in, unicode.ToUpper))
		if err != nil {
			name, msg := "ServerException", err.Error()
			if se := (*asl.Error)(nil); errors.As(err, &se) {
				name = strings.TrimPrefix(se.Name, "Ecs.")
				msg = strings.TrimSuffix(se.Cause, " (Service: Ecs, Status Code: 400)")
			}
			fail(w, name, msg)
			return
		}
		raw, err := json.Marshal(out)
		if err != nil {
			fail(w, "ServerException", err.Error())
			return
		}
		var generic any
		_ = json.Unmarshal(raw, &generic)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(recase(generic, unicode.ToLower))
	})
}

// recase changes the first letter of every object member's name: the
// wire's camelCase to the integration's PascalCase and back. Values stay.
func recase(v any, to func(rune) rune) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			r, n := utf8.DecodeRuneInString(k)
			out[string(to(r))+k[n:]] = recase(val, to)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = recase(val, to)
		}
		return out
	}
	return v
}

func fail(w http.ResponseWriter, exception, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": exception, "message": message})
}
