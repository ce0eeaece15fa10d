package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// Issue 17 end to end, through the synthesized app: the task's report
// (contract.Report, sent with SendTaskSuccess and the state's task token to
// the local Step Functions endpoint) decides each outcome, in words.
//
// Until edge-drop-task reports, a stand-in task does: this test binary,
// re-executed with EDGE_DROP_STANDIN naming a script (standIn below). It
// uses the SDK's Step Functions client as the task will, pointed at the
// local endpoint only by AWS_ENDPOINT_URL_SFN. To run these cases against
// the real task once it reports, give the cases' expectations its real
// conditions (a person's file for a conflict, a full disk for local_io) and
// start the harness with the real binary (Options.TaskBinary unset).

// standInEnv names the stand-in's script; set only by standInTask.
const standInEnv = "EDGE_DROP_STANDIN"

// standInStep is what the stand-in does for one run: send Report (if any)
// with its task token, then exit with Exit.
type standInStep struct {
	Report *contract.Report `json:"report,omitempty"`
	Exit   int              `json:"exit"`
}

// standInTask writes a stand-in for the task binary: steps by
// "<mode> <key as in the event>" (mode "download", "sync", "delete"; sync
// runs by "sync <EDGE_DROP_KEY_PREFIX>"); a run without a step exits 0
// without a report.
func standInTask(t *testing.T, steps map[string]standInStep) string {
	t.Helper()
	dir := t.TempDir()
	script, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	scriptPath := filepath.Join(dir, "steps.json")
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "edge-drop-task")
	// TMPDIR: this test binary links the CDK, whose jsii runtime is
	// unpacked into the temp dir at init and is left there when the
	// pipeline stops a stand-in still exiting; in dir, the test removes it.
	wrapper := fmt.Sprintf("#!/bin/sh\nTMPDIR=%q %s=%q exec %q \"$@\"\n", dir, standInEnv, scriptPath, self)
	if err := os.WriteFile(bin, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// standIn is the stand-in task's main (TestMain runs it when
// EDGE_DROP_STANDIN is set): it reads the environment the state machine
// and the ECS stand-in gave it, as the real task does.
func standIn() int {
	raw, err := os.ReadFile(os.Getenv(standInEnv))
	var steps map[string]standInStep
	if err == nil {
		err = json.Unmarshal(raw, &steps)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in:", err)
		return 2
	}
	mode := os.Getenv(contract.EnvMode)
	if mode == "" {
		mode = contract.ModeDownload
	}
	what := os.Getenv(contract.EnvKey)
	if mode == contract.ModeSync {
		what = os.Getenv(contract.EnvKeyPrefix)
	}
	step, ok := steps[mode+" "+what]
	if !ok || step.Report == nil {
		return step.Exit
	}
	token := os.Getenv(contract.EnvTaskToken)
	if token == "" {
		fmt.Fprintln(os.Stderr, "stand-in: no", contract.EnvTaskToken)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx) // AWS_ENDPOINT_URL_SFN, region and credentials from the env
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in:", err)
		return 2
	}
	report, _ := json.Marshal(step.Report)
	if _, err := sfn.NewFromConfig(cfg).SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(string(report))}); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in: SendTaskSuccess:", err)
		return 7
	}
	return step.Exit
}

func report(mode, status string, exit contract.ExitCode, summary string) *contract.Report {
	return &contract.Report{Mode: mode, Status: status, ExitCode: int(exit), Class: exit.Class(), Summary: summary}
}

// The single-board pipeline ends as the report says: up_to_date and
// conflict are deliveries, gone is a success (no alarm), failed is
// DeliveryFailed with the task's words as the cause.
func TestReportedOutcomesOfTheSingleBoardPipeline(t *testing.T) {
	conflict := report(contract.ModeDownload, contract.OutcomeConflict, contract.ExitOK, "conflict (copy kept as demo-c.sync-conflict-20261206-120000.txt)")
	conflict.ConflictCopy = "demo-c.sync-conflict-20261206-120000.txt"
	bin := standInTask(t, map[string]standInStep{
		"download demo-up.txt":       {Report: report(contract.ModeDownload, contract.OutcomeUpToDate, contract.ExitOK, "up_to_date")},
		"download demo-c.txt":        {Report: conflict},
		"download demo-gone.txt":     {Report: report(contract.ModeDownload, contract.OutcomeGone, contract.ExitNotFound, "gone"), Exit: 4},
		"download demo-full.txt":     {Report: report(contract.ModeDownload, contract.OutcomeFailed, contract.ExitLocalIO, "failed (exit 6 local_io: no space left on device)"), Exit: 6},
		"download demo-silent-4.txt": {Exit: 4}, // an older task: no report
	})
	h := start(t, defaultAsm, Options{TaskBinary: bin})
	for _, k := range []string{"demo-up.txt", "demo-c.txt", "demo-gone.txt", "demo-full.txt", "demo-silent-4.txt"} {
		h.put(k, []byte("x"))
	}
	got := h.results(5)
	for key, want := range map[string]struct{ end, words, cause string }{
		"demo-up.txt":       {contract.StateDelivered, "up_to_date", ""},
		"demo-c.txt":        {contract.StateDelivered, "conflict (copy kept as demo-c.sync-conflict-20261206-120000.txt)", ""},
		"demo-gone.txt":     {contract.StateGone, "gone", ""},
		"demo-silent-4.txt": {contract.StateGone, "gone (exit 4 not_found: object not found)", ""},
		"demo-full.txt":     {contract.StateFailed, "", "s3://" + h.bucket + "/demo-full.txt was not delivered: failed (exit 6 local_io: no space left on device)"},
	} {
		x := got[key].Execution
		if end := pathOf(x)[len(x.Path)-1]; end != want.end {
			t.Errorf("%s: %s via %v (%s), want the end %s", key, x.Status, pathOf(x), x.Cause, want.end)
			continue
		}
		if want.cause != "" {
			if x.Status != asl.StatusFailed || x.Error != contract.ErrDeliveryFailed || x.Cause != want.cause {
				t.Errorf("%s: %s %s %q, want %q", key, x.Status, x.Error, x.Cause, want.cause)
			}
			continue
		}
		if o := outcomeOf(t, got[key]); x.Status != asl.StatusSucceeded || o.Words() != want.words {
			t.Errorf("%s: %s, outcome %q, want %q", key, x.Status, o.Words(), want.words)
		}
	}
}

// A sync's outcome per board in words, with its counts; a failed sync
// names its first failed keys; a board whose task sent no report is synced
// by its exit code. Read as make sync reads them: TallyOutcomes' output in
// the execution's history.
func TestReportedOutcomesOfASync(t *testing.T) {
	synced := report(contract.ModeSync, contract.OutcomeSynced, contract.ExitOK, "synced (3 new, 1 updated, 0 deleted)")
	synced.Sync = &contract.SyncCounts{Listed: 4, New: 3, Updated: 1}
	partial := report(contract.ModeSync, contract.OutcomeFailed, contract.ExitPartial, "failed (exit 11 partial: 2 of 5 objects failed)")
	partial.Sync = &contract.SyncCounts{Listed: 5, New: 3, Failed: 2}
	partial.FailedKeys = []string{"demo-x.txt", "demo-y.txt"}
	bin := standInTask(t, map[string]standInStep{
		// deliverTo=any: every named board lists the whole prefix.
		"sync demo": {Report: synced}, // the prefix the task role may list: demo*.txt's literal start
	})
	// Board b's partial sync: its own script, by board, is not possible
	// (the environment is the same), so b runs in a second pipeline.
	h := start(t, defaultAsm, Options{TaskBinary: bin, Boards: []Board{{Name: "a"}}})
	x, outs := runSync(t, h, `{}`)
	if x.Status != asl.StatusSucceeded || len(outs) != 1 || outs[0].Words() != "synced (3 new, 1 updated, 0 deleted)" || outs[0].Sync == nil || outs[0].Sync.New != 3 {
		t.Fatalf("sync: %s %s, outcomes %+v", x.Status, x.Cause, outs)
	}

	h = start(t, defaultAsm, Options{TaskBinary: standInTask(t, map[string]standInStep{"sync demo": {Report: partial, Exit: 11}}), Boards: []Board{{Name: "b"}}})
	x, outs = runSync(t, h, `{}`)
	if x.Status != asl.StatusFailed || x.Error != contract.ErrSomeBoardsFailed || !strings.Contains(x.Cause, `failed ["b"]`) {
		t.Fatalf("partial sync: %s %s %s", x.Status, x.Error, x.Cause)
	}
	if len(outs) != 1 || outs[0].Words() != `failed (exit 11 partial: 2 of 5 objects failed); failed keys: ["demo-x.txt","demo-y.txt"]` {
		t.Errorf("partial sync's outcome: %+v", outs)
	}

	// A task that exits 0 without a report: synced by its exit code.
	h = start(t, defaultAsm, Options{TaskBinary: standInTask(t, nil), Boards: []Board{{Name: "c"}}})
	x, outs = runSync(t, h, `{}`)
	if x.Status != asl.StatusSucceeded || len(outs) != 1 || outs[0].Words() != "synced (exit 0, the task sent no report)" {
		t.Errorf("sync without a report: %s %s, outcomes %+v", x.Status, x.Cause, outs)
	}
	// The real task reports its counts.
	h = start(t, defaultAsm, Options{Boards: []Board{{Name: "d"}}})
	h.put("demo-1.txt", []byte("one"))
	h.results(1)
	x, outs = runSync(t, h, `{}`)
	if x.Status != asl.StatusSucceeded || len(outs) != 1 || outs[0].Words() != "synced (0 new, 0 updated, 0 deleted)" ||
		outs[0].Sync == nil || outs[0].Sync.UpToDate != 1 {
		t.Errorf("the real task's sync: %s %s, outcomes %+v", x.Status, x.Cause, outs)
	}
}

// runSync runs the app's sync state machine with input and returns the
// execution and its outcomes (TallyOutcomes' fleet.outcomes).
func runSync(t *testing.T, h *harness, input string) (*asl.Execution, []contract.Outcome) {
	t.Helper()
	var arn string
	for _, m := range h.p.StateMachines() {
		if strings.HasSuffix(m.Name, "-Sync") {
			arn = m.ARN
		}
	}
	run, err := h.p.StartExecution(arn, "", input)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-run.Done():
	case <-time.After(2 * time.Minute):
		t.Fatal("the sync did not end within 2 minutes")
	}
	r, _ := run.Result()
	var outs []contract.Outcome
	for _, e := range run.Exited() {
		if e.Name != contract.StateTally {
			continue
		}
		var state struct {
			Fleet struct{ Outcomes []contract.Outcome }
		}
		if err := json.Unmarshal([]byte(e.Output), &state); err != nil {
			t.Fatal(err)
		}
		outs = state.Fleet.Outcomes
	}
	slices.SortFunc(outs, func(a, b contract.Outcome) int { return strings.Compare(a.Board, b.Board) })
	return r.Execution, outs
}

// offlineWait is a guarantee, end to end with the real task: board b
// offline when the upload arrives, back after 40 s of waiting (of
// offlineWait=1m), gets the file.
func TestABoardBackWithinOfflineWaitGetsTheFile(t *testing.T) {
	asm := synthFleet(t, map[string]string{"deliverTo": "all", "offlineWait": "1m"})
	var (
		mu     sync.Mutex
		waited time.Duration
		h      *harness
	)
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if waited += d; waited >= 40*time.Second && h != nil {
			if err := h.p.SetConnected("b", true); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	h = start(t, asm, Options{Boards: []Board{{Name: "a"}, {Name: "b"}}, Sleep: sleep})
	if err := h.p.SetConnected("b", false); err != nil {
		t.Fatal(err)
	}
	body := randomBytes(300)
	h.put("demo-late.txt", body)
	r := h.results(1)["demo-late.txt"]
	if r.Execution.Status != asl.StatusSucceeded {
		t.Fatalf("%s %s: %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
	}
	mu.Lock()
	defer mu.Unlock()
	if waited < 40*time.Second {
		t.Errorf("waited %s: b came back before 40 s", waited)
	}
	for _, b := range []string{"a", "b"} {
		if got, err := os.ReadFile(filepath.Join(h.data, b, "demo-late.txt")); err != nil || string(got) != string(body) {
			t.Errorf("board %s: %v", b, err)
		}
	}
}
