package statemachine_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/edge-drop/edge-drop/local/statemachine"
)

func ExampleMachine_Execute() {
	m, err := statemachine.Parse([]byte(`{
	  "StartAt": "Extract",
	  "States": {
	    "Extract": {"Type": "Pass", "Parameters": {"key.$": "$.detail.object.key"}, "Next": "Run"},
	    "Run": {
	      "Type": "Task",
	      "Resource": "arn:aws:states:::ecs:runTask.sync",
	      "Parameters": {"Overrides": {"ContainerOverrides": [{"Environment": [{"Name": "KEY", "Value.$": "$.key"}]}]}},
	      "ResultSelector": {"exitCode.$": "$.Containers[0].ExitCode"},
	      "ResultPath": "$.task",
	      "End": true
	    }
	  }
	}`))
	if err != nil {
		panic(err)
	}
	exec := m.Execute(context.Background(),
		map[string]any{"detail": map[string]any{"object": map[string]any{"key": "demo-1.txt"}}},
		statemachine.Options{
			Task: func(ctx context.Context, resource string, params any) (any, error) {
				// A local process would run the task here; params holds the
				// ECS RunTask parameters with the paths resolved.
				return map[string]any{"Containers": []any{map[string]any{"ExitCode": 0}}}, nil
			},
			Observer: func(ev statemachine.Event) {
				if ev.Kind == statemachine.EventStateEntered {
					fmt.Println("entered", ev.State)
				}
			},
		})
	out, _ := json.Marshal(exec.Output)
	fmt.Println(exec.Status, string(out))
	// Output:
	// entered Extract
	// entered Run
	// SUCCEEDED {"key":"demo-1.txt","task":{"exitCode":0}}
}
