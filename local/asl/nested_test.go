package asl_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// startExecution.sync:2 runs the child in-process and gives its
// DescribeExecution with Output as JSON; a failed child fails the state
// with States.TaskFailed and that description as the cause.
func TestStartExecutionSync2RunsTheChildInProcess(t *testing.T) {
	child := asltest.MustParse(t, `{"StartAt":"Decide","States":{
		"Decide":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"No"}],"Default":"Yes"},
		"Yes":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)"},"End":true},
		"No":{"Type":"Fail","Error":"Child.Failed","Cause":"as asked"}}}`)
	parent := asltest.MustParse(t, `{"StartAt":"Run","States":{
		"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
			"Parameters":{"StateMachineArn":"arn:child","Input":{"n.$":"$.n","fail.$":"$.fail"}},
			"ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","End":true}}}`)
	names := map[string]bool{}
	handler := Children(map[string]*Machine{"arn:child": child}, func(name string) Options {
		names[name] = true
		return Options{}
	}, func(context.Context, string, any) (any, error) { t.Fatal("no other task"); return nil, nil })

	x := parent.Execute(context.Background(), map[string]any{"n": 21, "fail": false}, Options{Task: handler})
	got, _ := json.Marshal(x.Output)
	if x.Status != StatusSucceeded || string(got) != `{"out":{"doubled":42},"status":"SUCCEEDED"}` {
		t.Errorf("%s %s", x.Status, got)
	}
	x = parent.Execute(context.Background(), map[string]any{"n": 1, "fail": true}, Options{Task: handler})
	caught, _ := x.Output.(map[string]any)["error"].(map[string]any)
	var described map[string]any
	if caught == nil || caught["Error"] != ErrTaskFailed || json.Unmarshal([]byte(caught["Cause"].(string)), &described) != nil ||
		described["Status"] != StatusFailed || described["Error"] != "Child.Failed" {
		t.Errorf("a failed child: %v", x.Output)
	}
	if len(names) != 2 {
		t.Errorf("each child its own name: %v", names)
	}
}

func TestStartExecutionSync2BadParameters(t *testing.T) {
	run := func(context.Context, string, string, any) (*Execution, error) {
		return nil, context.Canceled
	}
	for params, want := range map[string]string{
		`{}`: "StateMachineArn is missing",
		`{"StateMachineArn":"arn:x","Input":"{not json"}`: "Input is not JSON",
		`{"StateMachineArn":"arn:x"}`:                     "StateMachineDoesNotExist",
	} {
		var p any
		_ = json.Unmarshal([]byte(params), &p)
		_, err := StartExecutionSync2(context.Background(), p, run)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", params, err, want)
		}
	}
}
