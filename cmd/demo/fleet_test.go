package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/bucket"
	"github.com/edge-drop/edge-drop/local/localrun"
)

type fakeBoards map[string]bool

func (f fakeBoards) StartExecution(arn, name, input string) (*localrun.Run, error) {
	f["sync "+input] = arn == "arn:sync"
	if arn != "arn:sync" {
		return nil, &localrun.APIError{Code: "StateMachineDoesNotExist", Message: "no " + arn}
	}
	return &localrun.Run{Name: "run-1"}, nil
}

func (f fakeBoards) SetConnected(b string, on bool) error {
	if _, ok := f[b]; !ok {
		return errors.New(`no board is named "` + b + `"`)
	}
	f[b] = on
	return nil
}

func TestConsoleTakesBoardsOfflineAndBack(t *testing.T) {
	var buf bytes.Buffer
	boards := fakeBoards{"a": true, "b": true}
	console(strings.NewReader("offline b\n\n  online   b \nonline a\nreboot a\noffline zz\noffline \x1b[2J\nsync\nsync b\nsync a b\n"), boards, "arn:sync", &printer{w: &buf})
	out := buf.String()
	for _, want := range []string{
		"board b is offline: its running tasks keep running, new tasks on it fail with AGENT\n",
		"board b is online: tasks are placed on it again\n",
		"board a is online",
		`? Type "offline <board>"`,
		`? no board is named "zz"`,
		"sync started with input {}: execution run-1\n",
		`sync started with input {"board":"b"}: execution run-1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
	if !boards["sync {}"] || !boards[`sync {"board":"b"}`] || len(boards) != 4 {
		t.Errorf("sync starts %v, want {} and {\"board\":\"b\"} (sync a b is no command)", boards)
	}
	if !boards["a"] || !boards["b"] {
		t.Errorf("boards %v, want both online", boards)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control sequence reached the terminal: %q", out)
	}
	buf.Reset()
	console(strings.NewReader("sync\n"), boards, "", &printer{w: &buf})
	console(strings.NewReader("sync\n"), boards, "arn:other", &printer{w: &buf})
	if out := buf.String(); out != "? the app has no sync state machine\n? StateMachineDoesNotExist: no arn:other\n" {
		t.Errorf("sync without a sync state machine: %q", out)
	}
}

// Iterations print with their board; the execution's outcomes print one
// line per board, hostile names and causes quoted.
func TestPrinterShowsEachBoard(t *testing.T) {
	var buf bytes.Buffer
	p := &printer{w: &buf}
	ev := func(kind asl.EventKind, state, iter string, in, out any) {
		p.event("x1", asl.Event{Kind: kind, State: state, Type: "Task", Iteration: iter, Input: in, Output: out})
	}
	ev(asl.EventMapIterationStarted, "DeliverToEachBoard", "DeliverToEachBoard[0]", map[string]any{"names": []any{"a"}}, nil)
	ev(asl.EventMapIterationStarted, "DeliverToEachBoard", "DeliverToEachBoard[1]", map[string]any{"board": "b\x1b[31m"}, nil)
	ev(asl.EventStateExited, "RunOnBoard", "DeliverToEachBoard[0]", nil, map[string]any{"task": 1})
	ev(asl.EventStateExited, "Delivered", "DeliverToEachBoard[0]", nil, map[string]any{"board": "a", "status": "delivered", "exitCode": 0, "cause": "delivered (exit 0, the task sent no report)"})
	ev(asl.EventStateExited, "Offline", "DeliverToEachBoard[1]", nil, map[string]any{"board": "b\x1b[31m", "status": "offline", "cause": "{\"Failures\":[{\"Reason\":\"AGENT\"}]}\n"})
	outcomes := p.result(localrun.Result{Event: bucket.Notification{Bucket: "bk", Key: "k"},
		Execution: &asl.Execution{Name: "x1", Status: asl.StatusFailed, Error: "EdgeDrop.SomeBoardsFailed", Cause: "b offline",
			StartTime: time.Unix(0, 0), StopTime: time.Unix(1, 0)}})
	out := buf.String()
	for _, want := range []string{
		"[x1] DeliverToEachBoard[0] board a RunOnBoard",
		`[x1] DeliverToEachBoard[1] board "b\x1b[31m" Offline`,
		"  board a: delivered (exit 0, the task sent no report)\n",
		`  board "b\x1b[31m": "offline ({\"Failures\":[{\"Reason\":\"AGENT\"}]}\n)"`,
		"EdgeDrop.SomeBoardsFailed: b offline",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control sequence reached the terminal: %q", out)
	}
	if len(outcomes) != 2 || outcomes[0].Board != "a" || outcomes[1].Status != "offline" {
		t.Errorf("outcomes %+v", outcomes)
	}
	if len(p.fleet.outcomes) != 0 || len(p.fleet.boards) != 0 {
		t.Errorf("a finished execution's iterations are kept: %+v", p.fleet)
	}
}

func TestSampleMustBeOnEveryDeliveredBoard(t *testing.T) {
	dir := t.TempDir()
	boards := []localrun.BoardDir{{Board: localrun.Board{Name: "a"}, Dir: dir + "/a"}, {Board: localrun.Board{Name: "b"}, Dir: dir + "/b"}}
	ok := localrun.Result{Execution: &asl.Execution{Status: asl.StatusSucceeded, Path: []asl.Step{{Name: "Done", Type: "Succeed"}}}}
	places := samplePaths(boards, []contract.Outcome{{Board: "a", Status: "delivered"}, {Board: "b", Status: "up_to_date"}}, "k.txt")
	if len(places.all) != 2 {
		t.Fatalf("places %+v", places)
	}
	if problem, _ := deliveryProblem(ok, places, []byte("x")); !strings.Contains(problem, "no such file") {
		t.Errorf("missing files: %q", problem)
	}
	if problem, _ := deliveryProblem(ok, samplePaths(boards, nil, "k.txt"), []byte("x")); !strings.Contains(problem, "no such file") {
		t.Errorf("any board, none has it: %q", problem)
	}
}

// A fleet with deliverTo=any (one RunTask, no constraint): the sample lands
// on one board's data dir, <-data>/<board>.
func TestDemoOnceWithBoards(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	stdout, stderr, status := demo(t, bin, "-once", "-task", task, "-assembly", assembly(t), "-state", dir+"/state",
		"-data", dir+"/data", "-boards", "a,b@site1,c@site1+eu")
	if status != 0 {
		t.Fatalf("status %d\n%s\n%s", status, stdout, stderr)
	}
	for _, want := range []string{
		"board a: " + dir + "/data/a\n", "board b (groups site1): " + dir + "/data/b\n", "board c (groups site1, eu): " + dir + "/data/c\n",
		`Type "offline <board>"`,
		"file " + dir + "/data/a/demo1.txt: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// deliverTo=group:site1 over a fleet: the synthesized fan-out definition,
// one line per board, the sample on both members and not on board a.
func TestDemoOnceDeliversToAGroup(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	stdout, stderr, status := demo(t, bin, "-once", "-task", task, "-state", dir+"/state", "-data", dir+"/data",
		"-boards", "a,b@site1,c@site1+eu", "-c", "deliverTo=group:site1")
	if status != 0 {
		t.Fatalf("status %d\n%s\n%s", status, stdout, stderr)
	}
	for _, want := range []string{
		"DeliverToEachBoard[0] board b DeliverToBoard", "DeliverToEachBoard[1] board c DeliverToBoard",
		"  board b: delivered\n", "  board c: delivered\n",
		"file " + dir + "/data/b/demo1.txt: ", "file " + dir + "/data/c/demo1.txt: ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "  board a: delivered") || strings.Contains(stdout, "board a DeliverToBoard") {
		t.Errorf("board a is not in site1:\n%s", stdout)
	}
}

// The running demo: its Step Functions endpoint is in -state's
// stepfunctions.json while it runs (the aws CLI starts the sync there, as
// make sync does), "sync b" on stdin starts one too, and the file is gone
// after Ctrl-C.
func TestDemoSyncFromStdinAndTheLocalEndpoint(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	cmd := demoCommand(t, bin, "-task", task, "-assembly", assembly(t), "-state", dir+"/state", "-data", dir+"/data", "-boards", "a,b")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	var seen strings.Builder
	waitFor := func(pred func(string) bool) string {
		t.Helper()
		for lines.Scan() {
			seen.WriteString(lines.Text() + "\n")
			if pred(lines.Text()) {
				return lines.Text()
			}
		}
		t.Fatalf("the demo ended without it:\n%s", seen.String())
		return ""
	}
	waitFor(func(l string) bool { return strings.HasPrefix(l, "The pipeline keeps running") })

	stateFile := filepath.Join(dir, "state", "stepfunctions.json")
	var endpoint struct{ Endpoint, SyncStateMachineArn, Region, AccessKeyID, SecretAccessKey string }
	if b, err := os.ReadFile(stateFile); err != nil || json.Unmarshal(b, &endpoint) != nil ||
		!strings.HasPrefix(endpoint.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(endpoint.SyncStateMachineArn, "-Sync") ||
		endpoint.Region != localrun.Region || endpoint.AccessKeyID == "" || endpoint.SecretAccessKey == "" {
		t.Fatalf("%s: %s %v", stateFile, b, err)
	}
	if fi, err := os.Stat(stateFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s holds the secret key: want mode 0600, got %v", stateFile, fi.Mode())
	}

	fmt.Fprintln(stdin, "sync b")
	started := waitFor(func(l string) bool { return strings.HasPrefix(l, "sync started") || strings.HasPrefix(l, "?") })
	name, ok := strings.CutPrefix(started, `sync started with input {"board":"b"}: execution `)
	if !ok {
		t.Fatalf("sync b: %s", started)
	}
	ended := waitFor(func(l string) bool { return strings.HasPrefix(l, "execution "+name+" ") })
	if !strings.Contains(ended, "-Sync (started by hand): SUCCEEDED") {
		t.Errorf("the sync of b: %s\n%s", ended, seen.String())
	}

	if awsBin, err := exec.LookPath("aws"); err == nil {
		cli := exec.Command(awsBin, "--endpoint-url", endpoint.Endpoint, "--output", "text", "stepfunctions", "start-execution",
			"--state-machine-arn", endpoint.SyncStateMachineArn, "--query", "executionArn")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cli.Env = append(cli.Env, kv)
			}
		}
		cli.Env = append(cli.Env, "AWS_ACCESS_KEY_ID="+endpoint.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+endpoint.SecretAccessKey,
			"AWS_DEFAULT_REGION="+localrun.Region, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
		out, err := cli.CombinedOutput()
		arn := strings.TrimSpace(string(out))
		if err != nil || !strings.Contains(arn, ":execution:") {
			t.Fatalf("aws stepfunctions start-execution: %v %s", err, out)
		}
		ended := waitFor(func(l string) bool { return strings.HasPrefix(l, "execution "+arn[strings.LastIndex(arn, ":")+1:]+" ") })
		if !strings.Contains(ended, ": SUCCEEDED") {
			t.Errorf("the sync the aws CLI started: %s", ended)
		}
	}

	_ = cmd.Process.Signal(syscall.SIGINT)
	for lines.Scan() {
	}
	_ = cmd.Wait()
	if _, err := os.Stat(stateFile); !os.IsNotExist(err) {
		t.Errorf("%s outlives the demo: %v", stateFile, err)
	}
}

// Outcomes print in words (issue 17): what each board did, not "delivered
// (exit 0)" for a delete or a sync; the single-board pipeline's one
// outcome too.
func TestPrinterSaysEachOutcomeInWords(t *testing.T) {
	var buf bytes.Buffer
	p := &printer{w: &buf}
	exit := func(v float64) any { return v }
	for i, o := range []map[string]any{
		{"board": "a", "status": "synced", "exitCode": exit(0), "cause": "synced (3 new, 1 updated, 0 deleted)", "sync": map[string]any{"new": 3, "updated": 1}},
		{"board": "b", "status": "kept", "exitCode": exit(0), "cause": "kept (changed since delivery)"},
		{"board": "c", "status": "conflict", "exitCode": exit(0), "cause": "conflict (copy kept as k.sync-conflict-20261206-101010.txt)"},
		{"board": "d", "status": "failed", "exitCode": exit(3), "cause": "exit 3 unsafe_key: unsafe or invalid object key"},
		{"board": "e", "status": "deleted", "exitCode": exit(0), "cause": "deleted"},
		{"board": "f", "status": "gone", "exitCode": exit(4), "cause": "gone"},
	} {
		p.event("x2", asl.Event{Kind: asl.EventStateExited, State: "BoardReport", Type: "Pass",
			Iteration: fmt.Sprintf("DeliverToEachBoard[%d]", i), Output: o})
	}
	p.result(localrun.Result{Execution: &asl.Execution{Name: "x2", Status: asl.StatusSucceeded}})
	p.result(localrun.Result{Event: bucket.Notification{Bucket: "bk", Key: "k"}, Execution: &asl.Execution{Name: "x3",
		Status: asl.StatusSucceeded, Output: map[string]any{"board": "", "instance": "", "status": "gone", "exitCode": exit(4), "cause": "gone"}}})
	out := buf.String()
	for _, want := range []string{
		"  board a: synced (3 new, 1 updated, 0 deleted)\n",
		"  board b: kept (changed since delivery)\n",
		"  board c: conflict (copy kept as k.sync-conflict-20261206-101010.txt)\n",
		"  board d: failed (exit 3 unsafe_key: unsafe or invalid object key)\n",
		"  board e: deleted\n",
		"  board f: gone\n",
		"  outcome: gone\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
