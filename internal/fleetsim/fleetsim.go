// Package fleetsim runs a synthesized delivery definition in the local
// interpreter against a fleet that exists only as numbers: ECS answers
// from a stand-in whose n boards acknowledge every task at once (a report
// of "delivered", as a task's SendTaskSuccess would end its state), and
// child executions (startExecution.sync:2) run in-process. It counts what
// the bill and the quotas are made of: state transitions, RunTask calls,
// ledger writes, executions, and each execution's history events as
// FleetTiming counts them. The 10,000-board proof and cmd/costmodel use it.
package fleetsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// Resources the stand-in answers.
const (
	resList     = "arn:aws:states:::aws-sdk:ecs:listContainerInstances"
	resDescribe = "arn:aws:states:::aws-sdk:ecs:describeContainerInstances"
	resRunTask  = "arn:aws:states:::ecs:runTask.sync"
	resRunAny   = "arn:aws:states:::ecs:runTask"
)

// Cluster is the stand-in cluster's ARN.
const Cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/edge-drop"

// Stats is one delivery in numbers.
type Stats struct {
	Output     any
	Status     string
	Executions int
	// Transitions are states entered (what Step Functions bills), across
	// every execution; RunTasks and LedgerWrites count those calls.
	Transitions, RunTasks, LedgerWrites int
	// History is each execution's history events ("parent" for the
	// first), TasksPerBoard how many RunTasks each board got.
	History       map[string]int
	TasksPerBoard map[string]int
	Took          time.Duration
}

// Fleet is n boards, b1…bn, every one in every group the query names.
type Fleet struct {
	Boards int
	// Report is what each task reports (default: delivered).
	Report map[string]any

	mu    sync.Mutex
	stats *Stats
}

// Run executes parent on input; children maps the state machine ARNs the
// parent's startExecution.sync:2 names (as the definition spells them) to
// their definitions.
func (f *Fleet) Run(ctx context.Context, parent *asl.Machine, children map[string]*asl.Machine, input any) *Stats {
	f.stats = &Stats{History: map[string]int{}, TasksPerBoard: map[string]int{}}
	noWait := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	opts := func(name string) asl.Options { return asl.Options{Observer: f.observer(name), Sleep: noWait} }
	handler := asl.Children(children, opts, f.handle)
	began := time.Now()
	o := opts("parent")
	o.Task, o.Name = handler, "parent"
	x := parent.Execute(ctx, input, o)
	f.stats.Took = time.Since(began)
	f.stats.Output, f.stats.Status = x.Output, x.Status
	if x.Status != asl.StatusSucceeded {
		f.stats.Output = map[string]any{"error": x.Error, "cause": x.Cause}
	}
	f.stats.Executions = len(f.stats.History)
	return f.stats
}

func (f *Fleet) handle(_ context.Context, resource string, params any) (any, error) {
	p, _ := params.(map[string]any)
	switch {
	case resource == resList:
		size, _ := strconv.Atoi(fmt.Sprint(p["MaxResults"]))
		start := 0
		if tok, ok := p["NextToken"].(string); ok {
			start, _ = strconv.Atoi(tok)
		}
		first, n := f.matching(fmt.Sprint(p["Filter"]))
		end := min(start+size, n)
		arns := []any{}
		for i := start; i < end; i++ {
			arns = append(arns, fmt.Sprintf("%s/%032x", strings.Replace(Cluster, ":cluster/", ":container-instance/", 1), first+i))
		}
		out := map[string]any{"ContainerInstanceArns": arns}
		if end < n {
			out["NextToken"] = strconv.Itoa(end)
		}
		return out, nil
	case resource == resDescribe:
		var described []any
		for _, a := range p["ContainerInstances"].([]any) {
			arn := a.(string)
			i, _ := strconv.ParseInt(arn[strings.LastIndex(arn, "/")+1:], 16, 64)
			described = append(described, map[string]any{
				"ContainerInstanceArn": arn, "Ec2InstanceId": fmt.Sprintf("mi-%017x", i), "Status": "ACTIVE",
				"Attributes": []any{map[string]any{"Name": contract.AttrBoard, "Value": fmt.Sprintf("b%d", i)}},
			})
		}
		return map[string]any{"ContainerInstances": described}, nil
	case resource == resRunTask || resource == resRunAny:
		board := "any"
		if pc, ok := p["PlacementConstraints"].([]any); ok && len(pc) > 0 {
			expr, _ := pc[0].(map[string]any)["Expression"].(string)
			i, err := strconv.ParseInt(strings.TrimPrefix(expr, "ec2InstanceId == mi-"), 16, 64)
			if err != nil {
				return nil, &asl.Error{Name: "ECS.InvalidParameterException", Cause: expr}
			}
			board = fmt.Sprintf("b%d", i)
		}
		f.mu.Lock()
		f.stats.RunTasks++
		f.stats.TasksPerBoard[board]++
		f.mu.Unlock()
		if f.Report != nil {
			return f.Report, nil
		}
		return map[string]any{"status": contract.OutcomeDelivered, "exitCode": 0, "summary": "delivered"}, nil
	case strings.HasPrefix(resource, "arn:aws:states:::dynamodb:"):
		f.mu.Lock()
		f.stats.LedgerWrites++
		f.mu.Unlock()
		return map[string]any{}, nil
	}
	return nil, &asl.Error{Name: "States.TaskFailed", Cause: "the stand-in fleet does not answer " + resource}
}

// matching is the boards a cluster query selects, first and how many: for
// a name query, board N if the name is bN (none past the fleet), board 1
// for any other name (a configured board such as shop-1); every board
// otherwise (every board is in every group).
func (f *Fleet) matching(filter string) (first, n int) {
	prefix := "attribute:" + contract.AttrBoard + " == "
	name, ok := strings.CutPrefix(filter, prefix)
	if !ok || strings.Contains(name, " or ") {
		return 1, f.Boards
	}
	name, _, _ = strings.Cut(name, " ") // "bN and (the target's query)": a redelivery
	digits, isB := strings.CutPrefix(name, "b")
	i, err := strconv.Atoi(digits)
	switch {
	case !isB || err != nil:
		return 1, min(1, f.Boards)
	case i < 1 || i > f.Boards:
		return 1, 0
	}
	return i, 1
}

// observer counts one execution's transitions and history events: each
// state entered and exited; a Task's attempts (scheduled, started, ended)
// and a .sync task's submission; a Map's start and end and each
// iteration's.
func (f *Fleet) observer(exec string) func(asl.Event) {
	synced := map[string]bool{"DeliverToBoard": true, "RetryDeliverToBoard": true, "DeliverToPage": true, "DownloadToBoard": true}
	return func(e asl.Event) {
		n := 0
		switch e.Kind {
		case asl.EventExecutionStarted, asl.EventExecutionEnded, asl.EventStateFailed,
			asl.EventMapIterationStarted, asl.EventMapIterationSucceeded, asl.EventMapIterationFailed:
			n = 1
		case asl.EventStateEntered:
			n = 1
			if e.Type == "Map" {
				n += 2 // MapStateStarted, MapStateSucceeded
			}
		case asl.EventStateExited:
			n = 1
			if e.Type == "Task" && e.Error == "" {
				n += 3 // the attempt that succeeded: scheduled, started, succeeded
				if synced[e.State] {
					n++ // submitted
				}
			}
		case asl.EventRetryScheduled:
			n = 2 // the failed attempt's scheduled and started
		}
		f.mu.Lock()
		f.stats.History[exec] += n
		if e.Kind == asl.EventStateEntered {
			f.stats.Transitions++
		}
		f.mu.Unlock()
	}
}

// UploadEvent is the EventBridge event of an upload of key, as the rule
// hands it to the state machine.
func UploadEvent(key string) map[string]any {
	return map[string]any{"detail": map[string]any{
		"bucket": map[string]any{"name": "drop"},
		"object": map[string]any{"key": key, "size": 48, "etag": "e", "sequencer": "01"},
	}}
}

// UploadBatch is a pipe's batch of SQS records (coalesceWindow), one per
// key, each body an Object Created event as UploadEvent's.
func UploadBatch(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		body, _ := json.Marshal(map[string]any{"detail-type": "Object Created", "source": "aws.s3", "detail": map[string]any{
			"bucket": map[string]any{"name": "drop"},
			"object": map[string]any{"key": k, "size": 48, "etag": "e", "sequencer": fmt.Sprintf("%018X", i+1)},
		}})
		out[i] = map[string]any{"messageId": strconv.Itoa(i), "body": string(body), "eventSource": "aws:sqs"}
	}
	return out
}
