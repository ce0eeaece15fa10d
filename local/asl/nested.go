package asl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ResourceStartExecutionSync2 starts a child execution and waits for it;
// its result is the child's DescribeExecution with Input and Output as
// JSON rather than strings (the ":2" of the integration).
const ResourceStartExecutionSync2 = "arn:aws:states:::states:startExecution.sync:2"

// ChildRunner runs one child execution of the state machine arn to its
// end, in-process (localrun: the assembly's machine with the parent's
// task handler, so children may nest and run tasks). An error means the
// child could not start (no such state machine): StartExecution's own
// error, StepFunctions.StateMachineDoesNotExist.
type ChildRunner func(ctx context.Context, stateMachineArn, name string, input any) (*Execution, error)

// StartExecutionSync2 is the startExecution.sync:2 integration over run.
// parameters are the Task state's: StateMachineArn, Input (an object, or
// a JSON string) and optionally Name. A child that ends SUCCEEDED gives
// the DescribeExecution result; any other ending fails the Task state
// with States.TaskFailed, the cause that result as JSON, as Step Functions
// does.
func StartExecutionSync2(ctx context.Context, parameters any, run ChildRunner) (any, error) {
	p, _ := parameters.(map[string]any)
	arn, _ := p["StateMachineArn"].(string)
	if arn == "" {
		return nil, &Error{Name: "StepFunctions.InvalidArnException", Cause: "startExecution: StateMachineArn is missing or not a string"}
	}
	input := p["Input"]
	if s, ok := input.(string); ok {
		if err := json.Unmarshal([]byte(s), &input); err != nil {
			return nil, &Error{Name: "StepFunctions.InvalidExecutionInputException", Cause: "startExecution: Input is not JSON: " + err.Error()}
		}
	}
	if input == nil {
		input = map[string]any{}
	}
	name, _ := p["Name"].(string)
	if name == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		name = hex.EncodeToString(b[:])
	}
	x, err := run(ctx, arn, name, input)
	if err != nil {
		return nil, &Error{Name: "StepFunctions.StateMachineDoesNotExistException", Cause: err.Error()}
	}
	described := map[string]any{
		"ExecutionArn":    x.ID,
		"Name":            name,
		"StateMachineArn": arn,
		"Status":          x.Status,
		"Input":           input,
		"StartDate":       x.StartTime.UnixMilli(),
		"StopDate":        x.StopTime.UnixMilli(),
	}
	if x.Status == StatusSucceeded {
		described["Output"] = x.Output
		return described, nil
	}
	described["Error"], described["Cause"] = x.Error, x.Cause
	cause, _ := json.Marshal(described)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, &Error{Name: ErrTaskFailed, Cause: string(cause)}
}

// Children runs startExecution.sync:2 over machines (by state machine
// ARN), each child with opts(its name) (Task, Name and StateMachineName
// are filled in); every other resource goes to next. Tests and tools that
// run a paged definition without localrun use it.
func Children(machines map[string]*Machine, opts func(name string) Options, next TaskHandler) TaskHandler {
	var handler TaskHandler
	handler = func(ctx context.Context, resource string, parameters any) (any, error) {
		if resource != ResourceStartExecutionSync2 {
			return next(ctx, resource, parameters)
		}
		return StartExecutionSync2(ctx, parameters, func(ctx context.Context, arn, name string, input any) (*Execution, error) {
			m, ok := machines[arn]
			if !ok {
				return nil, fmt.Errorf("state machine %s does not exist", arn)
			}
			o := opts(name)
			o.Task, o.Name, o.StateMachineName = handler, name, arn
			return m.Execute(ctx, input, o), nil
		})
	}
	return handler
}
