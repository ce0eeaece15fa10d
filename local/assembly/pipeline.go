package assembly

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/local/rule"
)

// Rule is an EventBridge rule that starts a state machine.
type Rule struct {
	Name    string
	Pattern json.RawMessage
	// StateMachineARN is the target; the input settings say what it gets.
	StateMachineARN string
	// QueueARN, instead of StateMachineARN: the rule sends its events to
	// an SQS queue that a pipe reads (coalesced bursts, Pipes).
	QueueARN         string
	Input, InputPath string
	InputTransformer *rule.InputTransformer
}

// StateMachine is a resolved Amazon States Language definition.
type StateMachine struct {
	ARN, Name  string
	Definition []byte
}

// TaskDefinition is what the local ECS runner needs of one.
type TaskDefinition struct {
	ARN, Family string
	Containers  []Container
	// HostPaths maps each host volume's name to its host source path.
	HostPaths map[string]string
}

// Container is one container definition.
type Container struct {
	Name        string
	Essential   bool
	User        string
	MemoryMiB   int
	Environment map[string]string
	MountPoints []MountPoint
}

// MountPoint mounts a task volume into the container.
type MountPoint struct {
	ContainerPath, SourceVolume string
	ReadOnly                    bool
}

// Buckets lists the S3 buckets the assembly creates or whose notifications
// it configures (imported buckets), by local name.
func (a *Assembly) Buckets() ([]string, error) {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, f := range a.resourcesOf("AWS::S3::Bucket") {
		if isLogTarget(a, f) {
			continue // the access-log bucket: nothing is uploaded there
		}
		name, err := a.physical(f.stack, f.id, f.stack.resources[f.id], "Ref")
		if err != nil {
			return nil, err
		}
		add(name.(string))
	}
	for _, f := range a.resourcesOf("Custom::S3BucketNotifications") {
		name, err := f.resolver().str(f.props["BucketName"])
		if err != nil {
			return nil, err
		}
		add(name)
	}
	return names, nil
}

// isLogTarget reports whether another bucket sends its access logs to f.
func isLogTarget(a *Assembly, f found) bool {
	for _, other := range a.resourcesOf("AWS::S3::Bucket") {
		lc, _ := other.props["LoggingConfiguration"].(map[string]any)
		if lc == nil {
			continue
		}
		if target, err := other.resolver().str(lc["DestinationBucketName"]); err == nil {
			if own, err := a.physical(f.stack, f.id, f.stack.resources[f.id], "Ref"); err == nil && own == target {
				return true
			}
		}
	}
	return false
}

// Rules returns the event pattern rules whose targets are state machines,
// one entry per such target.
func (a *Assembly) Rules() ([]Rule, error) {
	var out []Rule
	for _, f := range a.resourcesOf("AWS::Events::Rule") {
		if state, _ := f.props["State"].(string); state == "DISABLED" {
			continue
		}
		pattern, err := f.resolver().value(f.props["EventPattern"])
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", f.id, err)
		}
		if pattern == nil {
			continue // scheduled rule
		}
		patternJSON, _ := json.Marshal(pattern)
		targets, err := stateMachineTargets(f)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			t.Pattern = patternJSON
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errNoPipeline
	}
	return out, nil
}

// Schedule is a scheduled rule (ScheduleExpression) that starts a state
// machine. Every is the rate of a rate(...) expression, 0 for cron(...).
type Schedule struct {
	Rule
	Expression string
	Every      time.Duration
}

// Schedules returns the enabled scheduled rules whose targets are state
// machines, one entry per such target.
func (a *Assembly) Schedules() ([]Schedule, error) {
	var out []Schedule
	for _, f := range a.resourcesOf("AWS::Events::Rule") {
		if state, _ := f.props["State"].(string); state == "DISABLED" {
			continue
		}
		if _, ok := f.props["ScheduleExpression"]; !ok {
			continue
		}
		expr, err := f.resolver().str(f.props["ScheduleExpression"])
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", f.id, err)
		}
		every, err := ParseRate(expr)
		if err != nil && !strings.HasPrefix(expr, "cron(") {
			return nil, fmt.Errorf("rule %s: %w", f.id, err)
		}
		targets, err := stateMachineTargets(f)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			out = append(out, Schedule{Rule: t, Expression: expr, Every: every})
		}
	}
	return out, nil
}

// ParseRate reads an EventBridge rate expression, e.g. "rate(6 hours)".
func ParseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	inner, closed := strings.CutSuffix(inner, ")")
	value, unit, spaced := strings.Cut(inner, " ")
	n, err := strconv.Atoi(value)
	units := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}
	if !ok || !closed || !spaced || err != nil || n <= 0 || units[unit] == 0 {
		return 0, fmt.Errorf("schedule %q is not a rate(<positive number> minutes|hours|days) expression", expr)
	}
	return time.Duration(n) * units[unit], nil
}

// stateMachineTargets returns a rule's state machine targets with their
// input settings (Pattern unset).
func stateMachineTargets(f found) ([]Rule, error) {
	r := f.resolver()
	var out []Rule
	targets, _ := f.props["Targets"].([]any)
	for _, t := range targets {
		tm, _ := t.(map[string]any)
		arn, err := r.str(tm["Arn"])
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", f.id, err)
		}
		if strings.Contains(arn, ":sqs:") { // coalescing: a pipe reads the queue (pipes.go)
			out = append(out, Rule{Name: f.id, QueueARN: arn})
			continue
		}
		if !strings.Contains(arn, ":states:") {
			continue
		}
		rl := Rule{Name: f.id, StateMachineARN: arn}
		if v, ok := tm["Input"]; ok {
			if rl.Input, err = r.str(v); err != nil {
				return nil, err
			}
		}
		if v, ok := tm["InputPath"]; ok {
			if rl.InputPath, err = r.str(v); err != nil {
				return nil, err
			}
		}
		if v, ok := tm["InputTransformer"]; ok {
			resolved, err := r.value(v)
			if err != nil {
				return nil, err
			}
			b, _ := json.Marshal(resolved)
			rl.InputTransformer = &rule.InputTransformer{}
			if err := json.Unmarshal(b, rl.InputTransformer); err != nil {
				return nil, fmt.Errorf("rule %s: InputTransformer: %w", f.id, err)
			}
		}
		out = append(out, rl)
	}
	return out, nil
}

// Clusters returns the ARNs of the ECS clusters.
func (a *Assembly) Clusters() ([]string, error) {
	var out []string
	for _, f := range a.resourcesOf("AWS::ECS::Cluster") {
		arn, err := a.physical(f.stack, f.id, f.stack.resources[f.id], "Arn")
		if err != nil {
			return nil, err
		}
		out = append(out, arn.(string))
	}
	return out, nil
}

// StateMachines returns the state machines by ARN.
func (a *Assembly) StateMachines() (map[string]StateMachine, error) {
	out := map[string]StateMachine{}
	for _, f := range a.resourcesOf("AWS::StepFunctions::StateMachine") {
		r := f.resolver()
		def, err := r.str(f.props["DefinitionString"])
		if err != nil {
			return nil, fmt.Errorf("state machine %s: %w", f.id, err)
		}
		if subs, ok := f.props["DefinitionSubstitutions"].(map[string]any); ok {
			for k, v := range subs {
				val, err := r.str(v)
				if err != nil {
					return nil, err
				}
				def = strings.ReplaceAll(def, "${"+k+"}", val)
			}
		}
		arn, _ := a.physical(f.stack, f.id, f.stack.resources[f.id], "Ref")
		name, _ := a.physical(f.stack, f.id, f.stack.resources[f.id], "Name")
		out[arn.(string)] = StateMachine{ARN: arn.(string), Name: name.(string), Definition: []byte(def)}
	}
	return out, nil
}

// TaskDefinitions returns the ECS task definitions, by ARN and by family
// (RunTask accepts either).
func (a *Assembly) TaskDefinitions() (map[string]TaskDefinition, error) {
	out := map[string]TaskDefinition{}
	for _, f := range a.resourcesOf("AWS::ECS::TaskDefinition") {
		resolved, err := f.resolver().value(f.props)
		if err != nil {
			return nil, fmt.Errorf("task definition %s: %w", f.id, err)
		}
		b, _ := json.Marshal(resolved)
		var cfn struct {
			Family               string
			ContainerDefinitions []struct {
				Name        string
				Essential   *bool
				User        string
				Memory      int
				Environment []struct{ Name, Value string }
				MountPoints []MountPoint
			}
			Volumes []struct {
				Name string
				Host struct{ SourcePath string }
			}
		}
		if err := json.Unmarshal(b, &cfn); err != nil {
			return nil, fmt.Errorf("task definition %s: %w", f.id, err)
		}
		arn, err := a.physical(f.stack, f.id, f.stack.resources[f.id], "Ref")
		if err != nil {
			return nil, err
		}
		td := TaskDefinition{ARN: arn.(string), HostPaths: map[string]string{}}
		td.Family = strings.TrimSuffix(td.ARN[strings.LastIndex(td.ARN, "/")+1:], ":1")
		for _, v := range cfn.Volumes {
			if v.Host.SourcePath != "" {
				td.HostPaths[v.Name] = v.Host.SourcePath
			}
		}
		for _, c := range cfn.ContainerDefinitions {
			ct := Container{Name: c.Name, Essential: c.Essential == nil || *c.Essential, User: c.User,
				MemoryMiB: c.Memory, Environment: map[string]string{}, MountPoints: c.MountPoints}
			for _, e := range c.Environment {
				ct.Environment[e.Name] = e.Value
			}
			td.Containers = append(td.Containers, ct)
		}
		out[td.ARN] = td
		out[td.Family] = td
	}
	return out, nil
}

// Tables returns the Properties of the DynamoDB tables (the ledger), as
// the template has them: CreateTable's names (TableName, KeySchema,
// AttributeDefinitions, GlobalSecondaryIndexes, BillingMode, ...).
func (a *Assembly) Tables() []map[string]any {
	var out []map[string]any
	for _, f := range a.resourcesOf("AWS::DynamoDB::Table") {
		out = append(out, f.props)
	}
	return out
}
