package assembly

import (
	"fmt"
	"math"
	"time"
)

// Pipe is an EventBridge Pipe from an SQS queue to a state machine: the
// batching in front of the delivery (coalesceWindow).
type Pipe struct {
	Name                      string
	QueueARN, StateMachineARN string
	// BatchSize and Window are the SQS source's BatchSize and
	// MaximumBatchingWindowInSeconds: a batch goes when it is full or
	// when the window has passed since its first event.
	BatchSize int
	Window    time.Duration
}

// Pipes returns the pipes whose source is an SQS queue and whose target a
// state machine started FIRE_AND_FORGET (the only way a STANDARD one is).
func (a *Assembly) Pipes() ([]Pipe, error) {
	var out []Pipe
	for _, f := range a.resourcesOf("AWS::Pipes::Pipe") {
		r := f.resolver()
		if state, _ := f.props["DesiredState"].(string); state == "STOPPED" {
			continue
		}
		p := Pipe{Name: f.id, BatchSize: 10} // the SQS source's default
		var err error
		if p.QueueARN, err = r.str(f.props["Source"]); err != nil {
			return nil, fmt.Errorf("pipe %s: Source: %w", f.id, err)
		}
		if p.StateMachineARN, err = r.str(f.props["Target"]); err != nil {
			return nil, fmt.Errorf("pipe %s: Target: %w", f.id, err)
		}
		src, _ := f.props["SourceParameters"].(map[string]any)
		sqs, _ := src["SqsQueueParameters"].(map[string]any)
		if v, ok := sqs["BatchSize"]; ok {
			n, err := whole(r, v, 1, 10000)
			if err != nil {
				return nil, fmt.Errorf("pipe %s: BatchSize: %w", f.id, err)
			}
			p.BatchSize = n
		}
		if v, ok := sqs["MaximumBatchingWindowInSeconds"]; ok {
			n, err := whole(r, v, 0, 300)
			if err != nil {
				return nil, fmt.Errorf("pipe %s: MaximumBatchingWindowInSeconds: %w", f.id, err)
			}
			p.Window = time.Duration(n) * time.Second
		}
		tp, _ := f.props["TargetParameters"].(map[string]any)
		sfn, _ := tp["StepFunctionStateMachineParameters"].(map[string]any)
		if sfn["InvocationType"] != "FIRE_AND_FORGET" {
			return nil, fmt.Errorf("pipe %s: a STANDARD state machine target needs InvocationType FIRE_AND_FORGET, got %v", f.id, sfn["InvocationType"])
		}
		out = append(out, p)
	}
	return out, nil
}

// whole reads a whole number in [lo, hi].
func whole(r resolver, v any, lo, hi int) (int, error) {
	x, err := r.value(v)
	if err != nil {
		return 0, err
	}
	var f float64
	switch n := x.(type) {
	case float64:
		f = n
	case int:
		f = float64(n)
	case interface{ Float64() (float64, error) }:
		if f, err = n.Float64(); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("%v is not a number", x)
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("%v is not a whole number from %d to %d", f, lo, hi)
	}
	return int(f), nil
}
