package asl_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/edge-drop/edge-drop/local/asl"
)

func ExampleMachine_Execute() {
	m, err := asl.Parse([]byte(`{
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
		asl.Options{
			Task: func(ctx context.Context, resource string, params any) (any, error) {
				// A local process would run the task here; params holds the
				// ECS RunTask parameters with the paths resolved.
				return map[string]any{"Containers": []any{map[string]any{"ExitCode": 0}}}, nil
			},
			Observer: func(ev asl.Event) {
				if ev.Kind == asl.EventStateEntered {
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

// A fleet: one pinned task per board, MaxConcurrency at a time; each
// iteration catches its own failure, so the Map state yields one outcome per
// board in board order.
func ExampleMachine_Execute_map() {
	m, err := asl.Parse([]byte(`{
	  "StartAt": "Fleet",
	  "States": {
	    "Fleet": {
	      "Type": "Map",
	      "ItemsPath": "$.boards",
	      "MaxConcurrency": 2,
	      "ItemSelector": {"board.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
	      "ItemProcessor": {
	        "ProcessorConfig": {"Mode": "INLINE"},
	        "StartAt": "Deploy",
	        "States": {
	          "Deploy": {
	            "Type": "Task",
	            "Resource": "arn:aws:states:::ecs:runTask.sync",
	            "Parameters": {"ContainerInstance.$": "$.board"},
	            "ResultSelector": {"exitCode.$": "$.Containers[0].ExitCode"},
	            "ResultPath": "$.task",
	            "Retry": [{"ErrorEquals": ["ECS.ThrottlingException"], "MaxAttempts": 2}],
	            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Failed"}],
	            "Next": "Delivered"
	          },
	          "Delivered": {"Type": "Pass", "Parameters": {"board.$": "$.board", "status": "delivered"}, "End": true},
	          "Failed": {"Type": "Pass", "Parameters": {"board.$": "$.board", "status": "failed", "cause.$": "$.failure.Cause"}, "End": true}
	        }
	      },
	      "End": true
	    }
	  }
	}`))
	if err != nil {
		panic(err)
	}
	exec := m.Execute(context.Background(),
		map[string]any{"boards": []any{"board-a", "board-b", "board-c"}},
		asl.Options{
			// Called concurrently by the iterations.
			Task: func(ctx context.Context, resource string, params any) (any, error) {
				if params.(map[string]any)["ContainerInstance"] == "board-b" {
					return nil, &asl.Error{Name: "ECS.TaskFailed", Cause: "board-b is offline"}
				}
				return map[string]any{"Containers": []any{map[string]any{"ExitCode": 0}}}, nil
			},
		})
	out, _ := json.Marshal(exec.Output)
	fmt.Println(exec.Status, string(out))
	// Output:
	// SUCCEEDED [{"board":"board-a","status":"delivered"},{"board":"board-b","cause":"board-b is offline","status":"failed"},{"board":"board-c","status":"delivered"}]
}
