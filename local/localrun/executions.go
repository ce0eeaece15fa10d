package localrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
	"github.com/edge-drop/edge-drop/local/rule"
	"github.com/edge-drop/edge-drop/local/sfnapi"
)

// machine is a parsed state machine of the assembly.
type machine struct {
	arn, name string
	parsed    *asl.Machine
}

// parseMachines parses every state machine of the assembly: rules,
// schedules and StartExecution can start any of them.
func parseMachines(defs map[string]assembly.StateMachine) (map[string]machine, error) {
	out := map[string]machine{}
	for arn, sm := range defs {
		parsed, err := asl.Parse(sm.Definition)
		if err != nil {
			return nil, fmt.Errorf("state machine %s: %w", sm.Name, err)
		}
		out[arn] = machine{arn: arn, name: sm.Name, parsed: parsed}
	}
	return out, nil
}

// StateMachine names one state machine of the assembly.
type StateMachine struct{ ARN, Name string }

// StateMachines lists the assembly's state machines, by name.
func (p *Pipeline) StateMachines() []StateMachine {
	var out []StateMachine
	for _, m := range p.machines {
		out = append(out, StateMachine{ARN: m.arn, Name: m.name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// schedule is a scheduled rule's target with the interval it runs at here.
type schedule struct {
	rule    assembly.Rule
	machine machine
	every   time.Duration
}

// scheduled resolves the assembly's scheduled rules; every, if set,
// replaces their rates.
func scheduled(asm *assembly.Assembly, machines map[string]machine, every time.Duration) ([]schedule, error) {
	found, err := asm.Schedules()
	if err != nil {
		return nil, err
	}
	var out []schedule
	for _, s := range found {
		m, ok := machines[s.StateMachineARN]
		if !ok {
			return nil, fmt.Errorf("rule %s targets %s, which is not in the assembly", s.Name, s.StateMachineARN)
		}
		d := s.Every
		if every > 0 {
			d = every
		}
		if d <= 0 {
			return nil, fmt.Errorf("rule %s runs on %s: the local run evaluates only rate(...) schedules; give it an interval (the demo's -sync-every)", s.Name, s.Expression)
		}
		out = append(out, schedule{rule: s.Rule, machine: m, every: d})
	}
	return out, nil
}

// schedule starts s's execution every s.every, with the input EventBridge
// gives the target of a scheduled rule. Like EventBridge it does not wait
// for the previous execution to end.
func (p *Pipeline) schedule(ctx context.Context, s schedule) {
	defer p.wg.Done()
	select {
	case <-p.resume:
	case <-ctx.Done():
		return
	}
	ruleARN := fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", Region, Account, s.rule.Name)
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case at := <-tick.C:
			in, err := targetInput(rule.NewScheduledEvent(ruleARN, Account, Region, at), s.rule)
			if err != nil {
				p.log.Error("target input failed", "rule", s.rule.Name, "err", err)
				continue
			}
			name := fmt.Sprintf("%s-schedule-%d", at.UTC().Format("150405"), n)
			p.wg.Add(1) // this goroutine's own count keeps the group above zero
			go func() {
				defer p.wg.Done()
				p.results <- p.execute(ctx, s.machine, name, in, Result{Rule: s.rule.Name}, nil)
			}()
		}
	}
}

// Run is an execution started with StartExecution.
type Run struct {
	ARN, StateMachineARN, Name, Input string
	Start                             time.Time
	done                              chan struct{}
	result                            Result // set before done is closed

	mu     sync.Mutex
	exited []StateExit
}

// StateExit is a top-level state that finished, with its output: the part
// of an execution's history `make sync` reads (TallyOutcomes' output).
type StateExit = sfnapi.StateExit

// Exited lists the top-level states that finished so far, in order.
func (r *Run) Exited() []StateExit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.exited)
}

func (r *Run) observe(e asl.Event) {
	if e.Kind != asl.EventStateExited || e.Iteration != "" {
		return
	}
	out, _ := json.Marshal(e.Output)
	r.mu.Lock()
	r.exited = append(r.exited, StateExit{Name: e.State, Type: e.Type, At: e.At, Output: string(out)})
	r.mu.Unlock()
}

// Done is closed when the execution has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// Result is the ended execution; false while it runs.
func (r *Run) Result() (Result, bool) {
	select {
	case <-r.done:
		return r.result, true
	default:
		return Result{}, false
	}
}

// runs are the executions StartExecution started, by ARN.
type runs struct {
	mu      sync.Mutex
	closing bool
	byARN   map[string]*Run
}

// APIError is a Step Functions API error: Code is the exception name the
// AWS API answers with (e.g. StateMachineDoesNotExist).
type APIError = sfnapi.APIError

// StartExecution starts an execution of the state machine arn with input
// (JSON; "" is {}), as Step Functions' StartExecution does; name "" gets a
// random one. Its result is also delivered on Results.
func (p *Pipeline) StartExecution(arn, name, input string) (*Run, error) {
	m, ok := p.machines[arn]
	if !ok {
		return nil, &APIError{Code: "StateMachineDoesNotExist", Message: "State Machine Does Not Exist: '" + arn + "'"}
	}
	if input == "" {
		input = "{}"
	}
	var in any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		return nil, &APIError{Code: "InvalidExecutionInput", Message: "Invalid State Machine Execution Input: " + err.Error()}
	}
	if name == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		name = hex.EncodeToString(b[:])
	}
	if len(name) > 80 || strings.ContainsAny(name, " \t\n<>{}[]?*\"#%\\^|~`$&,;:/") {
		return nil, &APIError{Code: "InvalidName", Message: "Invalid Name: '" + name + "' (at most 80 characters, no whitespace or punctuation such as / : *)"}
	}
	r := &Run{ARN: fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", Region, Account, m.name, name),
		StateMachineARN: arn, Name: name, Input: input, Start: time.Now().UTC(), done: make(chan struct{})}
	p.started.mu.Lock()
	defer p.started.mu.Unlock()
	if p.started.closing {
		return nil, &APIError{Code: "ServiceUnavailable", Message: "the local pipeline is stopping"}
	}
	if _, dup := p.started.byARN[r.ARN]; dup {
		return nil, &APIError{Code: "ExecutionAlreadyExists", Message: "Execution Already Exists: '" + r.ARN + "'"}
	}
	if p.started.byARN == nil {
		p.started.byARN = map[string]*Run{}
	}
	p.started.byARN[r.ARN] = r
	p.wg.Add(1) // under the lock, before close sets closing and waits
	go func() {
		defer p.wg.Done()
		r.result = p.execute(p.runCtx, m, name, in, Result{}, r.observe)
		close(r.done)
		p.results <- r.result
	}()
	return r, nil
}

// Execution finds an execution StartExecution started.
func (p *Pipeline) Execution(arn string) (*Run, bool) {
	p.started.mu.Lock()
	defer p.started.mu.Unlock()
	r, ok := p.started.byARN[arn]
	return r, ok
}

// api is what the local Step Functions endpoint serves: the executions
// StartExecution started, and the task tokens of every execution.
type api struct{ p *Pipeline }

func (a api) StartExecution(arn, name, input string) (sfnapi.Execution, error) {
	r, err := a.p.StartExecution(arn, name, input)
	if err != nil {
		return sfnapi.Execution{}, err
	}
	return r.view(), nil
}

func (a api) DescribeExecution(arn string) (sfnapi.Execution, bool) {
	r, ok := a.p.Execution(arn)
	if !ok {
		return sfnapi.Execution{}, false
	}
	return r.view(), true
}

func (a api) SendTaskSuccess(token, output string) error {
	return a.p.tokens.SendTaskSuccess(token, output)
}

func (a api) SendTaskFailure(token, errName, cause string) error {
	return a.p.tokens.SendTaskFailure(token, errName, cause)
}

func (a api) SendTaskHeartbeat(token string) error { return a.p.tokens.SendTaskHeartbeat(token) }

// view is the run as the API shows it.
func (r *Run) view() sfnapi.Execution {
	e := sfnapi.Execution{ARN: r.ARN, StateMachineARN: r.StateMachineARN, Name: r.Name, Input: r.Input,
		Start: r.Start, Exited: r.Exited()}
	res, ended := r.Result()
	if !ended {
		return e
	}
	x := res.Execution
	e.Ended, e.Status, e.Error, e.Cause, e.Stop = true, x.Status, x.Error, x.Cause, x.StopTime
	if x.Status == asl.StatusSucceeded {
		b, _ := json.Marshal(x.Output)
		e.Output = string(b)
	}
	return e
}
