package localrun

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
)

// The fleet through the real pieces (S3, rule, interpreter, ECS stand-in,
// task binary) with a hand-written definition of the fleet design's shape
// (FLEET.md): list the boards a filter selects, page by page (two per page,
// so three boards take two pages), describe them, run the task on each
// (memberOf ec2InstanceId), collect one outcome per board, fail when no
// board matched or one was not delivered.

// fleetDefinition is that definition for filter, with the cluster and task
// definition of the synthesized assembly.
func fleetDefinition(cluster, taskDef, filter string) string {
	list := func(next string) map[string]any {
		p := map[string]any{"Cluster": cluster, "Filter": filter, "Status": "ACTIVE", "MaxResults": 2}
		if next != "" {
			p["NextToken.$"] = next
		}
		return map[string]any{"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ecs:listContainerInstances",
			"Parameters": p, "ResultPath": "$.page", "Next": "AnyOnPage"}
	}
	outcome := func(status, cause string) map[string]any {
		p := map[string]any{"board.$": "States.ArrayGetItem($.board, 0)", "status": status}
		if cause != "" {
			p["cause.$"] = cause
		} else {
			p["taskArn.$"] = "$.task.taskArn"
			p["exitCode.$"] = "$.task.exitCode"
		}
		return map[string]any{"Type": "Pass", "Parameters": p, "End": true}
	}
	def := map[string]any{
		"StartAt": "Extract",
		"States": map[string]any{
			"Extract": map[string]any{"Type": "Pass", "Parameters": map[string]any{
				"bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key", "acc": map[string]any{"v": []any{}},
			}, "Next": "ListBoards"},
			"ListBoards":     list(""),
			"ListMoreBoards": list("$.page.NextToken"),
			"AnyOnPage": map[string]any{"Type": "Choice", "Choices": []any{
				map[string]any{"Variable": "$.page.ContainerInstanceArns[0]", "IsPresent": true, "Next": "DescribeBoards"},
			}, "Default": "MorePages"},
			"DescribeBoards": map[string]any{"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ecs:describeContainerInstances",
				"Parameters":     map[string]any{"Cluster": cluster, "ContainerInstances.$": "$.page.ContainerInstanceArns"},
				"ResultSelector": map[string]any{"boards.$": "$.ContainerInstances"}, "ResultPath": "$.described", "Next": "DeliverToEachBoard"},
			"DeliverToEachBoard": map[string]any{"Type": "Map", "ItemsPath": "$.described.boards", "MaxConcurrency": 10,
				"ItemSelector": map[string]any{
					"board.$":  "$$.Map.Item.Value.Attributes[?(@.Name == '" + contract.AttrBoard + "')].Value",
					"ec2.$":    "$$.Map.Item.Value.Ec2InstanceId",
					"bucket.$": "$.bucket", "key.$": "$.key",
				},
				"ItemProcessor": map[string]any{"StartAt": "RunOnBoard", "States": map[string]any{
					"RunOnBoard": map[string]any{"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync",
						"Parameters": map[string]any{
							"Cluster": cluster, "TaskDefinition": taskDef, "LaunchType": "EXTERNAL",
							"PlacementConstraints": []any{map[string]any{"Type": "memberOf", "Expression.$": "States.Format('ec2InstanceId == {}', $.ec2)"}},
							"Overrides": map[string]any{"ContainerOverrides": []any{map[string]any{"Name": contract.ContainerName, "Environment": []any{
								map[string]any{"Name": contract.EnvBucket, "Value.$": "$.bucket"},
								map[string]any{"Name": contract.EnvKey, "Value.$": "$.key"},
							}}}},
						},
						"ResultSelector": map[string]any{"exitCode.$": "$.Containers[0].ExitCode", "taskArn.$": "$.TaskArn"},
						"ResultPath":     "$.task",
						"Retry":          []any{map[string]any{"ErrorEquals": []any{contract.ErrPlacement}, "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 1}},
						"Catch":          []any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": "$.error", "Next": "Undelivered"}},
						"Next":           "Delivered",
					},
					"Delivered": outcome(contract.OutcomeDelivered, ""),
					"Undelivered": map[string]any{"Type": "Choice", "Choices": []any{
						map[string]any{"Variable": "$.error.Error", "StringEquals": contract.ErrPlacement, "Next": "Offline"},
					}, "Default": "Failed"},
					"Offline": outcome(contract.OutcomeOffline, "$.error.Cause"),
					"Failed":  outcome(contract.OutcomeFailed, "$.error.Cause"),
				}},
				"ResultPath": "$.pageOutcomes", "Next": "Accumulate"},
			// ASL has no array concatenation: nest both lists, then flatten
			// with an indefinite path.
			"Accumulate": map[string]any{"Type": "Pass", "Parameters": map[string]any{"lists.$": "States.Array($.acc.v, $.pageOutcomes)"},
				"ResultPath": "$.acc", "Next": "Flatten"},
			"Flatten": map[string]any{"Type": "Pass", "Parameters": map[string]any{"v.$": "$.acc.lists[*][*]"},
				"ResultPath": "$.acc", "Next": "MorePages"},
			"MorePages": map[string]any{"Type": "Choice", "Choices": []any{
				map[string]any{"Variable": "$.page.NextToken", "IsPresent": true, "Next": "ListMoreBoards"},
			}, "Default": "AnyBoards"},
			"AnyBoards": map[string]any{"Type": "Choice", "Choices": []any{
				map[string]any{"Variable": "$.acc.v[0]", "IsPresent": false, "Next": "NoBoards"},
			}, "Default": "Check"},
			"NoBoards": map[string]any{"Type": "Fail", "Error": contract.ErrNoBoards, "Cause": "no board matches " + filter},
			"Check": map[string]any{"Type": "Pass", "Parameters": map[string]any{
				"undelivered.$": "$.acc.v[?(@.status != '" + contract.OutcomeDelivered + "')]", "all.$": "$.acc.v"}, "Next": "AllDelivered"},
			"AllDelivered": map[string]any{"Type": "Choice", "Choices": []any{
				map[string]any{"Variable": "$.undelivered[0]", "IsPresent": true, "Next": "SomeBoardsFailed"},
			}, "Default": "Done"},
			"SomeBoardsFailed": map[string]any{"Type": "Fail", "Error": contract.ErrSomeBoardsFailed, "CausePath": "States.JsonToString($.undelivered)"},
			"Done":             map[string]any{"Type": "Succeed", "OutputPath": "$.all"},
		},
	}
	b, _ := json.Marshal(def)
	return string(b)
}

// fleetAssembly copies the default assembly with its state machine
// replaced by fleetDefinition(filter).
// pipelineMachine is the state machine the app's event pattern rule
// starts (the sync one is started by its schedule). It has no
// StateMachineName, so its name is its logical ID.
func pipelineMachine(t *testing.T, asm *assembly.Assembly) assembly.StateMachine {
	t.Helper()
	rules, err := asm.Rules()
	if err != nil {
		t.Fatal(err)
	}
	machines, err := asm.StateMachines()
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules %v, state machines: %v %v", rules, machines, err)
	}
	m, ok := machines[rules[0].StateMachineARN]
	if !ok {
		t.Fatalf("the rule targets %s, not in %v", rules[0].StateMachineARN, machines)
	}
	return m
}

func fleetAssembly(t *testing.T, filter string) string {
	t.Helper()
	asm, err := assembly.Load(defaultAsm, Region, Account)
	if err != nil {
		t.Fatal(err)
	}
	m := pipelineMachine(t, asm)
	var cluster, taskDef string
	{
		var d struct {
			States map[string]struct {
				Resource   string
				Parameters struct{ Cluster, TaskDefinition string }
			}
		}
		if err := json.Unmarshal(m.Definition, &d); err != nil {
			t.Fatal(err)
		}
		for _, s := range d.States {
			if strings.HasSuffix(s.Resource, ":ecs:runTask.sync") {
				cluster, taskDef = s.Parameters.Cluster, s.Parameters.TaskDefinition
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "fleet.out")
	if err := os.CopyFS(dir, os.DirFS(defaultAsm)); err != nil {
		t.Fatal(err)
	}
	templates, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	replaced := 0
	for _, p := range templates {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tpl map[string]any
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatal(err)
		}
		resources, _ := tpl["Resources"].(map[string]any)
		for id, r := range resources {
			r := r.(map[string]any)
			if r["Type"] != "AWS::StepFunctions::StateMachine" || id != m.Name {
				continue // the sync state machine keeps its own definition
			}
			props := r["Properties"].(map[string]any)
			props["DefinitionString"] = fleetDefinition(cluster, taskDef, filter)
			delete(props, "DefinitionSubstitutions")
			replaced++
		}
		out, _ := json.Marshal(tpl)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if replaced != 1 || cluster == "" {
		t.Fatalf("replaced %d state machines (cluster %q)", replaced, cluster)
	}
	return dir
}

var threeBoards = []Board{{Name: "a"}, {Name: "b", Groups: []string{"site1"}}, {Name: "c", Groups: []string{"site1", "eu"}}}

// noWait runs Retry intervals at once (no timed waits); each wait is
// counted and may act (take a board back online).
func noWait(waits *atomic.Int32, during func(n int32)) func(context.Context, time.Duration) error {
	return func(ctx context.Context, _ time.Duration) error {
		n := waits.Add(1)
		if during != nil {
			during(n)
		}
		return ctx.Err()
	}
}

func outcomes(t *testing.T, r Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, _ := r.Execution.Output.([]any)
	for _, o := range list {
		m := o.(map[string]any)
		out[m["board"].(string)] = m["status"].(string)
	}
	return out
}

func TestFleetDeliversToEveryMatchingBoard(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"attribute:" + contract.AttrBoard + " exists", []string{"a", "b", "c"}},
		{"attribute:" + contract.GroupAttr("site1") + " exists", []string{"b", "c"}},
		{"attribute:" + contract.AttrBoard + " == a", []string{"a"}},
		{"attribute:" + contract.AttrBoard + " == eu or attribute:" + contract.GroupAttr("eu") + " exists", []string{"c"}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			h := start(t, fleetAssembly(t, tc.filter), Options{Boards: threeBoards})
			body := randomBytes(1<<20 + 3)
			h.put("demo-fleet.txt", body)
			r := h.results(1)["demo-fleet.txt"]
			if r.Execution.Status != asl.StatusSucceeded {
				t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
			}
			got := outcomes(t, r)
			for _, b := range []string{"a", "b", "c"} {
				file, err := os.ReadFile(filepath.Join(h.data, b, "demo-fleet.txt"))
				if slices.Contains(tc.want, b) {
					if err != nil || string(file) != string(body) || got[b] != contract.OutcomeDelivered {
						t.Errorf("board %s: outcome %q, file %d bytes, %v", b, got[b], len(file), err)
					}
				} else if err == nil || got[b] != "" {
					t.Errorf("board %s is not targeted but got the file (outcome %q)", b, got[b])
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes %v, want one per board of %v", got, tc.want)
			}
		})
	}
}

func TestFleetNoMatchingBoardFailsNoBoards(t *testing.T) {
	h := start(t, fleetAssembly(t, "attribute:"+contract.GroupAttr("nowhere")+" exists"), Options{Boards: threeBoards})
	h.put("demo-none.txt", []byte("x"))
	r := h.results(1)["demo-none.txt"]
	if r.Execution.Status != asl.StatusFailed || r.Execution.Error != contract.ErrNoBoards {
		t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
	}
	for _, b := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(h.data, b, "demo-none.txt")); err == nil {
			t.Errorf("board %s got a file", b)
		}
	}
}

func TestFleetBoardOfflineThenBack(t *testing.T) {
	var waits atomic.Int32
	var h *harness
	h = start(t, fleetAssembly(t, "attribute:"+contract.AttrBoard+" exists"), Options{Boards: threeBoards,
		Sleep: noWait(&waits, func(n int32) {
			if n == 1 { // the first retry wait: the board comes back
				if err := h.p.SetConnected("b", true); err != nil {
					t.Error(err)
				}
			}
		})})
	if err := h.p.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}
	h.put("demo-back.txt", []byte("back in time"))
	r := h.results(1)["demo-back.txt"]
	if r.Execution.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
	}
	if got := outcomes(t, r); got["b"] != contract.OutcomeDelivered || len(got) != 3 {
		t.Errorf("outcomes %v", got)
	}
	if waits.Load() != 1 {
		t.Errorf("%d retry waits, want 1 (board b offline once)", waits.Load())
	}
	if b, err := os.ReadFile(filepath.Join(h.data, "b", "demo-back.txt")); err != nil || string(b) != "back in time" {
		t.Errorf("board b: %q %v", b, err)
	}
}

func TestFleetBoardOfflineTooLongFailsNamingIt(t *testing.T) {
	var waits atomic.Int32
	h := start(t, fleetAssembly(t, "attribute:"+contract.AttrBoard+" exists"), Options{Boards: threeBoards, Sleep: noWait(&waits, nil)})
	if err := h.p.SetConnected("c", false); err != nil {
		t.Fatal(err)
	}
	h.put("demo-off.txt", []byte("c is away"))
	r := h.results(1)["demo-off.txt"]
	if r.Execution.Status != asl.StatusFailed || r.Execution.Error != contract.ErrSomeBoardsFailed {
		t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
	}
	var undelivered []struct{ Board, Status, Cause string }
	if err := json.Unmarshal([]byte(r.Execution.Cause), &undelivered); err != nil || len(undelivered) != 1 ||
		undelivered[0].Board != "c" || undelivered[0].Status != contract.OutcomeOffline || !strings.Contains(undelivered[0].Cause, `"AGENT"`) {
		t.Errorf("cause %s (%v)", r.Execution.Cause, err)
	}
	if waits.Load() != 3 {
		t.Errorf("%d retry waits, want 3 (MaxAttempts)", waits.Load())
	}
	for _, b := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(h.data, b, "demo-off.txt")); err != nil {
			t.Errorf("board %s: %v", b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(h.data, "c", "demo-off.txt")); err == nil {
		t.Error("the offline board got the file")
	}
}
