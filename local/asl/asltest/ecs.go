package asltest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// The ECS resources of the pipeline's definitions (their partition
// resolved, as in the golden copies).
const (
	ResList     = "arn:aws:states:::aws-sdk:ecs:listContainerInstances"
	ResDescribe = "arn:aws:states:::aws-sdk:ecs:describeContainerInstances"
	ResRunTask  = "arn:aws:states:::ecs:runTask.sync"
)

// TaskARN is the task ARN of StoppedTask.
const TaskARN = "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/0123456789abcdef"

// StoppedTask is what runTask.sync returns for a task whose container
// exited with exit (on a failure, the cause of States.TaskFailed, as JSON).
func StoppedTask(exit int, reason string) map[string]any {
	return map[string]any{
		"Containers":    []any{map[string]any{"Name": "task", "ExitCode": exit, "LastStatus": "STOPPED"}},
		"StoppedReason": reason,
		"LastStatus":    "STOPPED",
		"TaskArn":       TaskARN,
	}
}

// ContainerInstanceARN is the ARN of the container instance id.
func ContainerInstanceARN(id string) string {
	return "arn:aws:ecs:eu-west-1:123456789012:container-instance/edge-drop/" + id
}

// TaskEnv is a RunTask's container environment, by name.
func TaskEnv(params map[string]any) map[string]string {
	env := map[string]string{}
	o := params["Overrides"].(map[string]any)["ContainerOverrides"].([]any)[0].(map[string]any)
	for _, e := range o["Environment"].([]any) {
		env[e.(map[string]any)["Name"].(string)] = e.(map[string]any)["Value"].(string)
	}
	return env
}

// Board is one container instance of the scripted cluster.
type Board struct {
	// Name is its edge-drop.board attribute ("": none).
	Name     string
	Instance string
	// Attempts scripts its RunTasks in order, the last repeating: "ok"
	// (exit 0, no report), "offline" (a RunTask failure AGENT), "exit N"
	// (the task ran and exited N, no report) or "report {...}" (the task
	// sent that report with its task token, then exited with the
	// report's exitCode).
	Attempts []string
	// BackAt, if set, makes every attempt "offline" until the waits add
	// up to it (ECS.Clock).
	BackAt time.Duration
}

// SiteBoards is one board per attempts list: shop-1 on mi-00000000000000001,
// shop-2 on mi-00000000000000002, and so on.
func SiteBoards(attempts ...[]string) []Board {
	var out []Board
	for i, a := range attempts {
		out = append(out, Board{Name: fmt.Sprintf("shop-%d", i+1), Instance: fmt.Sprintf("mi-%017d", i+1), Attempts: a})
	}
	return out
}

// IDs is the boards' container instance ids.
func IDs(boards []Board) []string {
	var out []string
	for _, b := range boards {
		out = append(out, b.Instance)
	}
	return out
}

// ECS answers the ECS calls of the pipeline's definitions: container
// instances listed by cluster query (paged), described, and RunTask pinned
// to one of them (or, unpinned, on the first board). A query not in Matches is an
// Ecs.InvalidParameterException, so a test pins the exact query.
type ECS struct {
	Boards  []Board
	Matches map[string][]string // query → instance ids
	// PageSize is how many instances a list call returns (0: all).
	PageSize int
	// Throttled is how many calls (list or describe) answer
	// Ecs.ThrottlingException first.
	Throttled int
	// Tokens completes the reports ("report ..." attempts): the
	// execution's asl.Options.Tokens. Clock is the time waited so far
	// (Board.BackAt).
	Tokens *asl.TaskTokens
	Clock  *Sleeps

	mu    sync.Mutex
	calls map[string][]map[string]any
	tries map[string]int
}

// Handle is the asl.TaskHandler.
func (f *ECS) Handle(_ context.Context, resource string, params any) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := params.(map[string]any)
	if f.calls == nil {
		f.calls, f.tries = map[string][]map[string]any{}, map[string]int{}
	}
	f.calls[resource] = append(f.calls[resource], p)
	if f.Throttled > 0 && resource != ResRunTask {
		f.Throttled--
		return nil, &asl.Error{Name: "Ecs.ThrottlingException", Cause: "Rate exceeded"}
	}
	switch resource {
	case ResList:
		return f.list(p)
	case ResDescribe:
		return f.describe(p)
	case ResRunTask:
		return f.runTask(p)
	}
	return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "unexpected resource " + resource}
}

func (f *ECS) list(p map[string]any) (any, error) {
	query, _ := p["Filter"].(string)
	ids, ok := f.Matches[query]
	if !ok {
		return nil, &asl.Error{Name: "Ecs.InvalidParameterException", Cause: "unexpected query " + query}
	}
	start := 0
	if tok, ok := p["NextToken"].(string); ok {
		fmt.Sscanf(tok, "page-%d", &start)
	}
	end := len(ids)
	if f.PageSize > 0 {
		end = min(start+f.PageSize, end)
	}
	arns := []any{}
	for _, id := range ids[start:end] {
		arns = append(arns, ContainerInstanceARN(id))
	}
	out := map[string]any{"ContainerInstanceArns": arns}
	if end < len(ids) {
		out["NextToken"] = fmt.Sprintf("page-%d", end)
	}
	return out, nil
}

func (f *ECS) describe(p map[string]any) (any, error) {
	var instances []any
	for _, arn := range p["ContainerInstances"].([]any) {
		b, err := f.board(arn.(string)[strings.LastIndex(arn.(string), "/")+1:])
		if err != nil {
			return nil, err
		}
		attrs := []any{map[string]any{"Name": "ecs.os-type", "Value": "linux"}}
		if b.Name != "" {
			attrs = append(attrs, map[string]any{"Name": contract.AttrBoard, "Value": b.Name})
		}
		instances = append(instances, map[string]any{
			"ContainerInstanceArn": arn, "Ec2InstanceId": b.Instance, "AgentConnected": true,
			"Status": "ACTIVE", "Attributes": attrs,
		})
	}
	return map[string]any{"ContainerInstances": instances, "Failures": []any{}}, nil
}

func (f *ECS) runTask(p map[string]any) (any, error) {
	b, err := f.placed(p)
	if err != nil {
		return nil, err
	}
	id := b.Instance
	if len(b.Attempts) == 0 {
		return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "no attempts scripted for " + id}
	}
	a := b.Attempts[min(f.tries[id], len(b.Attempts)-1)]
	f.tries[id]++
	if b.BackAt > 0 && f.Clock.Total() < b.BackAt {
		a = "offline"
	}
	switch {
	case strings.HasPrefix(a, "report "):
		return f.report(p, strings.TrimPrefix(a, "report "))
	case a == "ok":
		return StoppedTask(0, "Essential container in task exited"), nil
	case a == "offline":
		return nil, &asl.Error{Name: contract.ErrPlacement, Cause: `{"Failures":[{"Arn":"` + ContainerInstanceARN(id) + `","Reason":"AGENT"}]}`}
	default:
		var code int
		if _, err := fmt.Sscanf(a, "exit %d", &code); err != nil {
			return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "bad attempt " + a}
		}
		stopped := StoppedTask(code, "Essential container in task exited")
		stopped["TaskArn"] = "arn:aws:ecs:eu-west-1:123456789012:task/edge-drop/" + id
		cause, _ := json.Marshal(stopped)
		return nil, &asl.Error{Name: asl.ErrTaskFailed, Cause: string(cause)}
	}
}

// report sends the task's report with its token, then ends as the task
// would: exited with the report's exit code (the report came first).
func (f *ECS) report(p map[string]any, report string) (any, error) {
	if f.Tokens == nil {
		return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "a report needs ECS.Tokens, the execution's Options.Tokens"}
	}
	var r struct{ ExitCode int }
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		return nil, &asl.Error{Name: asl.ErrRuntime, Cause: "bad report: " + err.Error()}
	}
	if err := f.Tokens.SendTaskSuccess(TaskEnv(p)[contract.EnvTaskToken], report); err != nil {
		return nil, err
	}
	stopped := StoppedTask(r.ExitCode, "Essential container in task exited")
	if r.ExitCode != 0 {
		cause, _ := json.Marshal(stopped)
		return nil, &asl.Error{Name: asl.ErrTaskFailed, Cause: string(cause)}
	}
	return stopped, nil
}

func (f *ECS) board(instance string) (Board, error) {
	for _, b := range f.Boards {
		if b.Instance == instance {
			return b, nil
		}
	}
	return Board{}, &asl.Error{Name: "Ecs.InvalidParameterException", Cause: "no container instance " + instance}
}

// placed is the board a RunTask runs on: the one its placement constraint
// names ("ec2InstanceId == mi-…"), or without one (deliverTo any) the
// first, as ECS would pick one.
func (f *ECS) placed(p map[string]any) (Board, error) {
	pcs, _ := p["PlacementConstraints"].([]any)
	if len(pcs) == 0 {
		if len(f.Boards) == 0 {
			return Board{}, &asl.Error{Name: contract.ErrPlacement, Cause: "no container instance in the cluster"}
		}
		return f.Boards[0], nil
	}
	expr, _ := pcs[0].(map[string]any)["Expression"].(string)
	return f.board(strings.TrimPrefix(expr, "ec2InstanceId == "))
}

// Calls is the parameters of every call of resource, in order.
func (f *ECS) Calls(resource string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.calls[resource]...)
}

// CallKinds is how many different resources were called.
func (f *ECS) CallKinds() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// Tries is how many RunTasks the instance got.
func (f *ECS) Tries(instance string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries[instance]
}

// Queries is the cluster query of every list call, in order.
func (f *ECS) Queries() []string {
	var out []string
	for _, p := range f.Calls(ResList) {
		q, _ := p["Filter"].(string)
		out = append(out, q)
	}
	return out
}

// Placements is the placement of every RunTask, in call order:
// "ec2InstanceId == mi-… (memberOf)".
func (f *ECS) Placements() []string {
	var out []string
	for _, p := range f.Calls(ResRunTask) {
		pc := p["PlacementConstraints"].([]any)[0].(map[string]any)
		out = append(out, pc["Expression"].(string)+" ("+pc["Type"].(string)+")")
	}
	return out
}

// Runs is the task environment of each board's last RunTask, by board
// name (the instance id for a board without one).
func (f *ECS) Runs() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, p := range f.Calls(ResRunTask) {
		if b, err := f.placed(p); err == nil {
			name := b.Name
			if name == "" {
				name = b.Instance
			}
			out[name] = TaskEnv(p)
		}
	}
	return out
}
