// Package ecstask stands in for an ECS cluster of boards (ECS Anywhere
// container instances) on one machine. It serves the state machine's
// ecs:runTask.sync states: it places the task on a board (memberOf
// placement constraints, the board's agent connected, a free slot), runs
// the task binary as a local process with the task definition's
// environment plus the container overrides, the task's host volumes mapped
// to the board's local directories, and reports the stopped task the way
// ECS's DescribeTasks does. A non-zero exit fails the state as ECS does
// (States.TaskFailed, the stopped task as the cause). It also answers the
// SDK integration's listContainerInstances and describeContainerInstances
// with AWS's shapes, filters evaluated by the cluster query language
// subset in query.go.
package ecstask

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
)

// ResourceRunTaskSync runs a task and waits for it to stop.
const ResourceRunTaskSync = "arn:aws:states:::ecs:runTask.sync"

// Runner runs tasks on a fleet of boards. Make it with NewRunner or
// NewFleetRunner. Handle may be called concurrently.
type Runner struct {
	// TaskDefinitions by ARN and family, from the cloud assembly.
	TaskDefinitions map[string]assembly.TaskDefinition
	// Binary is the task program (the container's entrypoint, built for
	// this machine).
	Binary string
	// Env is added to every task: S3 endpoint, region, credentials.
	Env []string
	// StepFunctionsEndpoint, if set, is where the task's SDK sends its
	// Step Functions calls (AWS_ENDPOINT_URL_SFN, the SDK's variable for
	// the service ID "SFN"): its report, with the task token the state
	// machine put in its environment.
	StepFunctionsEndpoint string
	// Clusters are the ARNs of the clusters the boards are registered in
	// (the assembly's); another cluster is not found. Empty: any cluster
	// ARN is accepted.
	Clusters []string
	// StopTimeout is how long a task may take to exit after SIGTERM when
	// its state is cancelled (ECS: the container's stopTimeout).
	StopTimeout time.Duration
	// OnLog receives each line the task writes, with its task ID.
	OnLog func(taskID, line string)
	// RejectWhenBusy makes RunTask fail when every slot of the matching
	// boards is taken, as ECS does when a board lacks memory (runTask.sync
	// raises AmazonECS.Unknown), instead of waiting for a free slot.
	RejectWhenBusy bool

	fleet *fleet
}

// NewRunner returns a runner for one board, DefaultBoard, in no group,
// with at most slots concurrent tasks.
func NewRunner(defs map[string]assembly.TaskDefinition, binary string, volumes map[string]string, env []string, slots int) *Runner {
	r, _ := NewFleetRunner(defs, binary, env, []Board{{Name: DefaultBoard, Volumes: volumes, Slots: slots}})
	return r
}

// NewFleetRunner returns a runner for these boards (valid, distinct
// names; at most contract.MaxGroups groups each), all connected.
func NewFleetRunner(defs map[string]assembly.TaskDefinition, binary string, env []string, boards []Board) (*Runner, error) {
	f, err := newFleet(boards)
	if err != nil {
		return nil, err
	}
	return &Runner{TaskDefinitions: defs, Binary: binary, Env: env, StopTimeout: 10 * time.Second, fleet: f}, nil
}

// SetConnected connects or disconnects a board's agent: tasks already
// running there keep running, as containers do when an ECS agent loses
// its connection; new tasks are not placed there (RunTask: reason AGENT).
func (r *Runner) SetConnected(board string, connected bool) error {
	return r.fleet.setConnected(board, connected)
}

// BoardNames lists the boards, in name order.
func (r *Runner) BoardNames() []string {
	r.fleet.mu.Lock()
	defer r.fleet.mu.Unlock()
	return r.fleet.names()
}

type runTaskParams struct {
	Cluster              string
	TaskDefinition       string
	LaunchType           string
	PlacementConstraints []struct{ Type, Expression string }
	Overrides            struct {
		ContainerOverrides []struct {
			Name        string
			Environment []struct{ Name, Value string }
			Command     []string
		}
	}
}

// Handle is a asl.TaskHandler.
func (r *Runner) Handle(ctx context.Context, resource string, parameters any) (any, error) {
	switch {
	case strings.HasSuffix(resource, ":states:::ecs:runTask.sync"):
		return r.runTask(ctx, parameters)
	case strings.HasSuffix(resource, ":states:::aws-sdk:ecs:listContainerInstances"):
		return r.listContainerInstances(parameters)
	case strings.HasSuffix(resource, ":states:::aws-sdk:ecs:describeContainerInstances"):
		return r.describeContainerInstances(parameters)
	}
	return nil, &asl.Error{Name: asl.ErrRuntime,
		Cause: fmt.Sprintf("the local run serves only %s, %s and %s, not %s", ResourceRunTaskSync,
			ResourceListContainerInstances, ResourceDescribeContainerInstances, resource)}
}

func (r *Runner) runTask(ctx context.Context, parameters any) (any, error) {
	raw, _ := json.Marshal(parameters)
	var p runTaskParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &asl.Error{Name: "ECS.InvalidParameterException", Cause: err.Error()}
	}
	td, ok := r.TaskDefinitions[p.TaskDefinition]
	if !ok {
		return nil, &asl.Error{Name: "ECS.ClientException", Cause: "Unable to describe task definition: " + p.TaskDefinition}
	}
	if len(td.Containers) != 1 {
		return nil, &asl.Error{Name: "ECS.ClientException", Cause: fmt.Sprintf("the local run supports one container per task, %s has %d", td.Family, len(td.Containers))}
	}
	c := td.Containers[0]
	env := map[string]string{}
	for k, v := range c.Environment {
		env[k] = v
	}
	var command []string
	for _, o := range p.Overrides.ContainerOverrides {
		if o.Name != c.Name {
			return nil, &asl.Error{Name: "ECS.InvalidParameterException", Cause: "Override for container named " + o.Name + " is not a container in the TaskDefinition."}
		}
		for _, e := range o.Environment {
			env[e.Name] = e.Value
		}
		command = o.Command
	}
	cluster, err := r.cluster(p.Cluster)
	if err != nil {
		return nil, &asl.Error{Name: "ECS.ClusterNotFoundException", Cause: "Cluster not found."}
	}
	p.Cluster = cluster
	q, err := placement(p.PlacementConstraints)
	if err != nil {
		return nil, &asl.Error{Name: "ECS.InvalidParameterException", Cause: err.Error()}
	}

	// Placement: a matching connected board with a free slot, or wait for
	// one (or fail, like ECS).
	b, reason, err := r.fleet.place(ctx, q, r.RejectWhenBusy)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		failure := map[string]any{"Reason": reason}
		if b != nil {
			failure["Arn"] = b.arn(p.Cluster)
		}
		failures, _ := json.Marshal(map[string]any{"Failures": []any{failure}})
		return nil, &asl.Error{Name: contract.ErrPlacement, Cause: string(failures)}
	}
	defer r.fleet.release(b)
	if err := mapVolumes(b, td, c, env); err != nil {
		return nil, &asl.Error{Name: "ECS.ClientException", Cause: err.Error()}
	}
	return r.run(ctx, p, b, td, c, env, command)
}

// placement parses the memberOf constraints (all must hold); nil: none.
func placement(constraints []struct{ Type, Expression string }) (query, error) {
	var all andQuery
	for _, c := range constraints {
		switch c.Type {
		case "memberOf":
			q, err := parseQuery(c.Expression)
			if err != nil {
				return nil, fmt.Errorf("PlacementConstraints expression %q: %v", c.Expression, err)
			}
			all = append(all, q)
		case "distinctInstance": // one task: always satisfied
		default:
			return nil, fmt.Errorf("PlacementConstraints type %q is not memberOf or distinctInstance", c.Type)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// mapVolumes points every environment value under a mount's container path
// at the board's local directory that stands in for the volume's host
// path, and creates that directory.
func mapVolumes(b *board, td assembly.TaskDefinition, c assembly.Container, env map[string]string) error {
	for _, mp := range c.MountPoints {
		host, ok := td.HostPaths[mp.SourceVolume]
		if !ok {
			return fmt.Errorf("volume %s of %s is not a host volume", mp.SourceVolume, td.Family)
		}
		local, ok := b.Volumes[host]
		if !ok && mp.ReadOnly {
			// A read-only host file the board shares with the task (its
			// /etc/localtime, for a bandwidth timetable): the stand-in runs
			// the task on this machine, outside a container, where it reads
			// this machine's own.
			continue
		}
		if !ok {
			return fmt.Errorf("host path %s of %s has no local directory (map it with -data)", host, td.Family)
		}
		if err := os.MkdirAll(local, 0o750); err != nil {
			return err
		}
		for k, v := range env {
			if v == mp.ContainerPath || strings.HasPrefix(v, mp.ContainerPath+"/") {
				env[k] = local + strings.TrimPrefix(v, mp.ContainerPath)
			}
		}
	}
	return nil
}

// Task is the stopped task, in DescribeTasks' shape (what .sync returns).
type Task struct {
	TaskArn           string
	ClusterArn        string
	TaskDefinitionArn string
	// ContainerInstanceArn is the board the task ran on.
	ContainerInstanceArn string
	LaunchType           string
	LastStatus           string
	DesiredStatus        string
	StopCode             string
	StoppedReason        string
	CreatedAt            int64
	StartedAt            int64
	StoppedAt            int64
	Containers           []TaskContainer
}

// TaskContainer is one container of a stopped task.
type TaskContainer struct {
	Name       string
	ExitCode   *int `json:",omitempty"`
	LastStatus string
	Reason     string `json:",omitempty"`
	TaskArn    string
}

// run runs the task binary as the task's one container and returns the
// stopped task (what .sync returns), or its failure.
func (r *Runner) run(ctx context.Context, p runTaskParams, b *board, td assembly.TaskDefinition, c assembly.Container, env map[string]string, command []string) (any, error) {
	id := newID()
	task := Task{
		TaskArn:              strings.Replace(p.Cluster, ":cluster/", ":task/", 1) + "/" + id,
		ClusterArn:           p.Cluster,
		ContainerInstanceArn: b.arn(p.Cluster),
		TaskDefinitionArn:    td.ARN,
		LaunchType:           p.LaunchType,
		LastStatus:           "STOPPED",
		DesiredStatus:        "STOPPED",
		CreatedAt:            time.Now().UnixMilli(),
	}
	cmd, stdout, stderr, err := r.command(env, command)
	if err != nil {
		return nil, err
	}
	task.StartedAt = time.Now().UnixMilli()
	if err := cmd.Start(); err != nil {
		return nil, &asl.Error{Name: contract.ErrECSException, Cause: "CannotStartContainerError: " + err.Error()}
	}
	logs := r.readLogs(id, stdout, stderr)
	done := make(chan struct{})
	stopped := stopOnCancel(ctx, cmd.Process.Pid, r.StopTimeout, done)
	lastStderr := logs()
	_ = cmd.Wait() // the exit status is read from ProcessState below
	close(done)
	// When a container's main process exits, whatever it left running dies
	// with the container; so here with the task's process group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	task.StoppedAt = time.Now().UnixMilli()
	code := exitCode(cmd.ProcessState)
	task.StopCode, task.StoppedReason = "EssentialContainerExited", "Essential container in task exited"
	select {
	case reason := <-stopped:
		task.StopCode, task.StoppedReason = "UserInitiated", reason
	default:
	}
	task.Containers = []TaskContainer{{Name: c.Name, ExitCode: &code, LastStatus: "STOPPED", TaskArn: task.TaskArn}}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if code != 0 {
		cause, _ := json.Marshal(task)
		return nil, &Failure{Err: asl.Error{Name: asl.ErrTaskFailed, Cause: string(cause)}, LastStderr: lastStderr}
	}
	return task, nil
}

// command is the task's process: the container's environment (sorted),
// then the Runner's, in its own process group, so that stopping the task
// stops everything it started (and the pipes close), as stopping a
// container does.
func (r *Runner) command(env map[string]string, command []string) (*exec.Cmd, io.Reader, io.Reader, error) {
	cmd := exec.Command(r.Binary, command...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Env = append(cmd.Env, r.Env...)
	if r.StepFunctionsEndpoint != "" {
		cmd.Env = append(cmd.Env, "AWS_ENDPOINT_URL_SFN="+r.StepFunctionsEndpoint)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, stdout, stderr, nil
}

// readLogs hands the task's lines to OnLog, one at a time, as they come.
// The returned wait blocks until both pipes are closed and returns the
// last non-blank line on stderr (the task's own reason for a failure).
func (r *Runner) readLogs(id string, stdout, stderr io.Reader) (wait func() string) {
	var (
		logs       sync.WaitGroup
		logMu      sync.Mutex // one line at a time to OnLog
		lastStderr string
	)
	read := func(pipe io.Reader, last *string) {
		defer logs.Done()
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if last != nil && strings.TrimSpace(line) != "" {
				*last = line
			}
			if r.OnLog != nil {
				r.OnLog(id, line)
			}
			logMu.Unlock()
		}
	}
	logs.Add(2)
	go read(stdout, nil)
	go read(stderr, &lastStderr)
	return func() string { logs.Wait(); return lastStderr }
}

// stopOnCancel stops the task's process group when ctx ends before done
// (a cancelled state: timeout, execution stopped) as ECS StopTask does:
// SIGTERM, then SIGKILL after stopTimeout. The reason is sent on the
// returned channel.
func stopOnCancel(ctx context.Context, pid int, stopTimeout time.Duration, done <-chan struct{}) <-chan string {
	stopped := make(chan string, 1)
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			stopped <- "Task stopped by the state machine (" + ctx.Err().Error() + ")"
			select {
			case <-time.After(stopTimeout):
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			case <-done:
			}
		case <-done:
		}
	}()
	return stopped
}

// exitCode is the container's exit code; 128+n when signal n killed it.
func exitCode(ps *os.ProcessState) int {
	code := ps.ExitCode()
	if code < 0 {
		code = 128 + int(ps.Sys().(syscall.WaitStatus).Signal())
	}
	return code
}

// Failure is a task that ran and exited non-zero. The state machine sees
// what ECS reports (States.TaskFailed, the stopped task as JSON); the local
// pipeline also gets the task's own reason, its last line on stderr, which
// in the cloud is only in the task's log.
type Failure struct {
	Err        asl.Error
	LastStderr string
}

func (f *Failure) Error() string { return f.Err.Error() }

// Unwrap lets the state machine find the ECS error.
func (f *Failure) Unwrap() error { return &f.Err }

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
