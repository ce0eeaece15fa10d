package ecstask

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
)

// A stand-in entrypoint: prints what the task binary would read, exits
// with $EXIT, and on SIGTERM exits 9 as the real task does.
const script = `#!/bin/sh
trap 'echo stopped; exit 9' TERM
echo "dir=$EDGE_DROP_DATA_DIR key=$EDGE_DROP_KEY endpoint=$AWS_ENDPOINT_URL_S3"
if [ -n "$EDGE_DROP_TASK_TOKEN" ]; then echo "token=$EDGE_DROP_TASK_TOKEN sfn=$AWS_ENDPOINT_URL_SFN"; fi
if [ -n "$SLEEP" ]; then sleep "$SLEEP" & wait $!; fi
if [ -n "$STDERR" ]; then printf '%s\n\n' "$STDERR" >&2; fi
exit ${EXIT:-0}
`

var def = assembly.TaskDefinition{
	ARN: "arn:aws:ecs:eu-west-1:1:task-definition/dl:1", Family: "dl",
	HostPaths: map[string]string{"data": "/data"},
	Containers: []assembly.Container{{
		Name: "download", Essential: true,
		Environment: map[string]string{"EDGE_DROP_DATA_DIR": "/data", "EXIT": "0"},
		MountPoints: []assembly.MountPoint{{ContainerPath: "/data", SourceVolume: "data"}},
	}},
}

func newTestRunner(t *testing.T, slots int) (*Runner, string, *logs) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "task.sh")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "data")
	r := NewRunner(map[string]assembly.TaskDefinition{"dl": def, def.ARN: def}, bin,
		map[string]string{"/data": local}, []string{"AWS_ENDPOINT_URL_S3=http://127.0.0.1:9"}, slots)
	r.StopTimeout = 2 * time.Second
	l := &logs{}
	r.OnLog = l.add
	return r, local, l
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(_, line string) { l.mu.Lock(); l.lines = append(l.lines, line); l.mu.Unlock() }
func (l *logs) all() string        { l.mu.Lock(); defer l.mu.Unlock(); return strings.Join(l.lines, "\n") }

func params(env ...string) map[string]any {
	var e []any
	for i := 0; i+1 < len(env); i += 2 {
		e = append(e, map[string]any{"Name": env[i], "Value": env[i+1]})
	}
	return map[string]any{
		"Cluster": "arn:aws:ecs:eu-west-1:1:cluster/boards", "TaskDefinition": "dl", "LaunchType": "EXTERNAL",
		"Overrides": map[string]any{"ContainerOverrides": []any{map[string]any{"Name": "download", "Environment": e}}},
	}
}

func TestRunsTheTaskWithOverridesAndMappedVolumes(t *testing.T) {
	r, local, l := newTestRunner(t, 1)
	out, err := r.Handle(context.Background(), "arn:aws:states:::ecs:runTask.sync", params("EDGE_DROP_KEY", "demo+1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.all(), "dir="+local+" key=demo+1.txt endpoint=http://127.0.0.1:9"; got != want {
		t.Errorf("task saw %q, want %q", got, want)
	}
	if st, err := os.Stat(local); err != nil || !st.IsDir() {
		t.Errorf("the host volume's local directory must exist: %v", err)
	}
	task := out.(Task)
	if task.StopCode != "EssentialContainerExited" || *task.Containers[0].ExitCode != 0 || task.LastStatus != "STOPPED" ||
		!strings.HasPrefix(task.TaskArn, "arn:aws:ecs:eu-west-1:1:task/boards/") || task.TaskDefinitionArn != def.ARN {
		t.Errorf("task %+v", task)
	}
}

// The task token the state machine put in the overrides reaches the task,
// and its SDK's Step Functions calls go to the local endpoint.
func TestTheTaskGetsItsTokenAndTheStepFunctionsEndpoint(t *testing.T) {
	r, _, l := newTestRunner(t, 1)
	r.StepFunctionsEndpoint = "http://127.0.0.1:8"
	if _, err := r.Handle(context.Background(), ResourceRunTaskSync, params(contract.EnvTaskToken, "tok-123")); err != nil {
		t.Fatal(err)
	}
	if got := l.all(); !strings.HasSuffix(got, "\ntoken=tok-123 sfn=http://127.0.0.1:8") {
		t.Errorf("task saw %q, want the token and AWS_ENDPOINT_URL_SFN", got)
	}
}

func TestNonZeroExitFailsLikeECS(t *testing.T) {
	r, _, _ := newTestRunner(t, 1)
	_, err := r.Handle(context.Background(), ResourceRunTaskSync, params("EXIT", "4"))
	var se *asl.Error
	if !errors.As(err, &se) || se.Name != "States.TaskFailed" {
		t.Fatalf("want States.TaskFailed, got %v", err)
	}
	var task Task
	if err := json.Unmarshal([]byte(se.Cause), &task); err != nil {
		t.Fatalf("cause is the stopped task as JSON: %v", err)
	}
	if *task.Containers[0].ExitCode != 4 || task.StoppedReason != "Essential container in task exited" {
		t.Errorf("cause %s", se.Cause)
	}
}

func TestFailureCarriesTheTasksLastStderrLine(t *testing.T) {
	r, _, l := newTestRunner(t, 1)
	_, err := r.Handle(context.Background(), ResourceRunTaskSync, params("EXIT", "3", "STDERR", "edge-drop-task: unsafe key (exit 3 unsafe_key)"))
	var f *Failure
	if !errors.As(err, &f) || f.LastStderr != "edge-drop-task: unsafe key (exit 3 unsafe_key)" {
		t.Fatalf("want a Failure with the last non-empty stderr line, got %#v", err)
	}
	if f.Err.Name != "States.TaskFailed" || strings.Contains(f.Err.Cause, "unsafe key") {
		t.Errorf("the state machine sees what ECS reports, not the task's stderr: %v", f.Err)
	}
	if !strings.Contains(l.all(), "edge-drop-task: unsafe key") || !strings.Contains(l.all(), "dir=") {
		t.Errorf("stdout and stderr lines both reach OnLog: %q", l.all())
	}
}

func TestBadRequestsAreECSErrors(t *testing.T) {
	r, _, _ := newTestRunner(t, 1)
	wrongContainer := params()
	wrongContainer["Overrides"] = map[string]any{"ContainerOverrides": []any{map[string]any{"Name": "other"}}}
	unknownDef := params()
	unknownDef["TaskDefinition"] = "nope"
	for name, tc := range map[string]struct {
		resource string
		params   any
		want     string
	}{
		"not .sync":        {"arn:aws:states:::ecs:runTask", params(), "States.Runtime"},
		"unknown def":      {ResourceRunTaskSync, unknownDef, "ECS.ClientException"},
		"wrong container":  {ResourceRunTaskSync, wrongContainer, "ECS.InvalidParameterException"},
		"malformed params": {ResourceRunTaskSync, map[string]any{"Overrides": "x"}, "ECS.InvalidParameterException"},
	} {
		_, err := r.Handle(context.Background(), tc.resource, tc.params)
		var se *asl.Error
		if !errors.As(err, &se) || se.Name != tc.want || se.Cause == "" {
			t.Errorf("%s: got %v, want %s with a cause", name, err, tc.want)
		}
	}
	r.fleet.boards[0].Volumes = map[string]string{}
	if _, err := r.Handle(context.Background(), ResourceRunTaskSync, params()); err == nil || !strings.Contains(err.Error(), "host path /data") {
		t.Errorf("unmapped host path: %v", err)
	}
}

// A read-only host file (the board's /etc/localtime, mounted for a
// bandwidth timetable) needs no local directory: the task runs here.
func TestReadOnlyHostFileNeedsNoMapping(t *testing.T) {
	d := def
	d.HostPaths = map[string]string{"data": "/data", "localtime": "/etc/localtime"}
	c := d.Containers[0]
	c.MountPoints = append(append([]assembly.MountPoint{}, c.MountPoints...), assembly.MountPoint{ContainerPath: "/etc/localtime", SourceVolume: "localtime", ReadOnly: true})
	d.Containers = []assembly.Container{c}
	r, _, _ := newTestRunner(t, 1)
	r.TaskDefinitions = map[string]assembly.TaskDefinition{"dl": d, d.ARN: d}
	if _, err := r.Handle(context.Background(), ResourceRunTaskSync, params()); err != nil {
		t.Fatalf("a read-only host file stopped the task: %v", err)
	}
}

func TestCancelStopsTheTaskWithSIGTERM(t *testing.T) {
	r, _, l := newTestRunner(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Handle(ctx, ResourceRunTaskSync, params("SLEEP", "30"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the context's error (the state machine maps it to States.Timeout), got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("stopping took %s", time.Since(start))
	}
	if !strings.Contains(l.all(), "stopped") {
		t.Errorf("the task must get SIGTERM first: %q", l.all())
	}
}

func TestSlotsBoundConcurrentTasks(t *testing.T) {
	r, _, _ := newTestRunner(t, 1)
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Handle(context.Background(), ResourceRunTaskSync, params("SLEEP", "0.3")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("two 0.3 s tasks with one slot took %s: they overlapped", d)
	}
}

func TestRejectWhenBusyFailsPlacementLikeECS(t *testing.T) {
	r, _, _ := newTestRunner(t, 1)
	r.RejectWhenBusy = true
	b, _, _ := r.fleet.place(context.Background(), nil, true) // the board is full
	_, err := r.Handle(context.Background(), ResourceRunTaskSync, params())
	var se *asl.Error
	if !errors.As(err, &se) || se.Name != contract.ErrPlacement || !strings.Contains(se.Cause, "RESOURCE:MEMORY") {
		t.Fatalf("want %s with a RESOURCE:MEMORY failure, got %v", contract.ErrPlacement, err)
	}
	r.fleet.release(b)
	if _, err := r.Handle(context.Background(), ResourceRunTaskSync, params()); err != nil {
		t.Fatalf("a free slot must run the task: %v", err)
	}
}
