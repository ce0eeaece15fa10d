package localrun

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/cdkapp"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cdktest"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
	"github.com/edge-drop/edge-drop/local/assembly"
)

// End-to-end through the real pieces: the CDK app synthesized in-process,
// the embedded S3 server, quamina, the ASL interpreter and the real task
// binary. Only the synth and the task build are shared between tests.
var (
	taskBinary     string
	defaultAsm     string // cdk.json as shipped
	reportAsm      string // -c keyPattern=report*.csv -c ruleKeySuffix=.csv
	sharedTempRoot string
)

func TestMain(m *testing.M) {
	cdktest.Main(func() int {
		if os.Getenv(standInEnv) != "" { // re-executed as the stand-in task
			return standIn()
		}
		code, err := setup()
		defer os.RemoveAll(sharedTempRoot)
		if err != nil {
			fmt.Fprintln(os.Stderr, "setup:", err)
			return 1
		}
		if code == 0 {
			code = m.Run()
		}
		return code
	})
}

func setup() (int, error) {
	var err error
	if sharedTempRoot, err = os.MkdirTemp("", "edge-drop-e2e"); err != nil {
		return 1, err
	}
	taskBinary = filepath.Join(sharedTempRoot, "edge-drop-task")
	build := exec.Command("go", "build", "-trimpath", "-o", taskBinary, ".")
	build.Dir = "../../task"
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("build task: %v\n%s", err, out)
	}
	defaultAsm = filepath.Join(sharedTempRoot, "default.out")
	if _, err := cdkapp.Synth("../..", defaultAsm, nil); err != nil {
		return 1, err
	}
	reportAsm = filepath.Join(sharedTempRoot, "report.out")
	if _, err := cdkapp.Synth("../..", reportAsm, map[string]string{"keyPattern": "report*.csv", "ruleKeySuffix": ".csv"}); err != nil {
		return 1, err
	}
	return 0, nil
}

type harness struct {
	t      testing.TB
	p      *Pipeline
	client *s3.Client
	bucket string
	data   string
	root   string
}

func start(t testing.TB, asm string, opts Options) *harness {
	t.Helper()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	opts.AssemblyDir = asm
	if opts.TaskBinary == "" {
		opts.TaskBinary = taskBinary
	}
	opts.DataDir = data
	if opts.TaskSlots == 0 {
		opts.TaskSlots = 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); cancel() })
	client := s3.New(s3.Options{
		Region: Region, BaseEndpoint: aws.String(p.S3.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(p.Credentials.AccessKeyID, p.Credentials.SecretAccessKey, ""),
	})
	if len(p.Buckets) != 1 {
		t.Fatalf("want the one drop bucket, got %v", p.Buckets)
	}
	return &harness{t: t, p: p, client: client, bucket: p.Buckets[0], data: data, root: root}
}

// endedDelivered: the execution ran the task and ended in Delivered.
func endedDelivered(x *asl.Execution) bool {
	return x != nil && x.Status == asl.StatusSucceeded && slices.Contains(pathOf(x), contract.StateDownload) &&
		pathOf(x)[len(x.Path)-1] == contract.StateDelivered
}

// outcomeOf is a single-board execution's output: its outcome.
func outcomeOf(t testing.TB, r Result) contract.Outcome {
	t.Helper()
	b, _ := json.Marshal(r.Execution.Output)
	var o contract.Outcome
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("output %s is not an outcome: %v", b, err)
	}
	return o
}

func (h *harness) put(key string, body []byte) {
	h.t.Helper()
	if _, err := h.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &h.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		h.t.Fatalf("put %s: %v", key, err)
	}
}

func (h *harness) results(n int) map[string]Result {
	h.t.Helper()
	out := map[string]Result{}
	timeout := time.After(3 * time.Minute)
	for i := 0; i < n; i++ {
		select {
		case r := <-h.p.Results():
			if _, dup := out[r.Event.Key]; dup {
				h.t.Fatalf("two executions for %s", r.Event.Key)
			}
			out[r.Event.Key] = r
		case <-timeout:
			h.t.Fatalf("only %d of %d executions finished", i, n)
		}
	}
	select {
	case r := <-h.p.Results():
		h.t.Fatalf("unexpected extra execution for %s", r.Event.Key)
	case <-time.After(200 * time.Millisecond):
	}
	return out
}

func pathOf(x *asl.Execution) []string {
	var names []string
	for _, s := range x.Path {
		names = append(names, s.Name)
	}
	return names
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestMatchingKeyIsDeliveredAndOtherKeysAreSkipped(t *testing.T) {
	h := start(t, defaultAsm, Options{ObjectDir: t.TempDir()})
	body := randomBytes(3<<20 + 17) // several of the task's parts, odd length
	h.put("demo1.txt", body)
	// * matches '/'; the event carries the key URL-encoded (demo-dir/sub+dir/r%C3%A9sum%C3%A9+2%2B1.txt)
	const nested = "demo-dir/sub dir/résumé 2+1.txt"
	h.put(nested, []byte("nested key with a space\n"))
	h.put("notes.md", []byte("not for the board"))

	got := h.results(3)
	for _, key := range []string{"demo1.txt"} {
		r := got[key]
		if r.Execution.Status != asl.StatusSucceeded {
			t.Fatalf("%s: %s %s %s", key, r.Execution.Status, r.Execution.Error, r.Execution.Cause)
		}
		if want := []string{contract.StateExtract, contract.StateMatches, contract.StateSize, contract.StateDownload, contract.StateReported,
			contract.StateReportedDelivered, contract.StateDelivered}; !slices.Equal(pathOf(r.Execution), want) {
			t.Errorf("%s: path %v, want %v", key, pathOf(r.Execution), want)
		}
		// The task's report, in words.
		if o := outcomeOf(t, r); o.Status != contract.OutcomeDelivered || o.ExitCode == nil || *o.ExitCode != 0 || o.Cause != contract.OutcomeDelivered {
			t.Errorf("outcome %+v", o)
		}
	}
	file, err := os.ReadFile(filepath.Join(h.data, "demo1.txt"))
	if err != nil || !bytes.Equal(file, body) {
		t.Fatalf("delivered file differs from the upload (err %v, %d vs %d bytes)", err, len(file), len(body))
	}
	if r := got[nested]; !endedDelivered(r.Execution) {
		t.Errorf("nested key: %s via %v %s", r.Execution.Status, pathOf(r.Execution), r.Execution.Cause)
	} else if b, err := os.ReadFile(filepath.Join(h.data, filepath.FromSlash(nested))); err != nil || string(b) != "nested key with a space\n" {
		t.Errorf("nested key file: %q %v", b, err)
	}
	skipped := got["notes.md"]
	if skipped.Execution.Status != asl.StatusSucceeded || !slices.Equal(pathOf(skipped.Execution), []string{contract.StateExtract, contract.StateMatches, contract.StateSkipped}) {
		t.Errorf("non-matching key: %s via %v", skipped.Execution.Status, pathOf(skipped.Execution))
	}
	if _, err := os.Stat(filepath.Join(h.data, "notes.md")); !os.IsNotExist(err) {
		t.Errorf("a skipped key must not reach the data dir (stat: %v)", err)
	}
}

func TestTaskFailuresEndInTheFailStateWithAReadableCause(t *testing.T) {
	// In-memory objects: the file-backed store refuses keys with "..".
	h := start(t, defaultAsm, Options{Paused: true})
	h.put("demo-gone.txt", []byte("deleted before the board gets to it"))
	if _, err := h.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &h.bucket, Key: aws.String("demo-gone.txt")}); err != nil {
		t.Fatal(err)
	}
	h.put("demo/../../x.txt", []byte("hostile"))
	h.p.Resume()

	got := h.results(2)
	// Deleted before its delivery ran: gone, a success (no alarm), as the
	// task reports it (the exit code alone says the same: report_e2e_test).
	if x := got["demo-gone.txt"].Execution; x.Status != asl.StatusSucceeded || pathOf(x)[len(x.Path)-1] != contract.StateGone {
		t.Errorf("demo-gone.txt: %s via %v: %s", x.Status, pathOf(x), x.Cause)
	} else if o := outcomeOf(t, got["demo-gone.txt"]); o.Status != contract.OutcomeGone || !strings.HasPrefix(o.Words(), "gone (s3://") {
		t.Errorf("demo-gone.txt: outcome %+v", o)
	}
	for key, exit := range map[string]contract.ExitCode{"demo/../../x.txt": contract.ExitUnsafeKey} {
		r := got[key]
		x := r.Execution
		if x.Status != asl.StatusFailed || x.Error != contract.ErrDeliveryFailed {
			t.Errorf("%s: %s %s, want FAILED %s", key, x.Status, x.Error, contract.ErrDeliveryFailed)
			continue
		}
		if want := []string{contract.StateExtract, contract.StateMatches, contract.StateSize, contract.StateDownload, contract.StateReported,
			contract.StateDescribeReport, contract.StateFailed}; !slices.Equal(pathOf(x), want) {
			t.Errorf("%s: path %v, want %v", key, pathOf(x), want)
		}
		// One line: the object, the exit code with its class, and the
		// task's own reason (its report).
		prefix := "s3://" + h.bucket + "/" + key + " was not delivered: " + fmt.Sprintf("failed (exit %d %s: unsafe key %q", int(exit), exit.Class(), key)
		if !strings.HasPrefix(x.Cause, prefix) || strings.Contains(x.Cause, "{") || strings.Contains(x.Cause, "\n") {
			t.Errorf("%s: cause %q, want %q...", key, x.Cause, prefix)
		}
	}
	// Nothing escaped the data dir, nothing half-written inside it (the
	// task's per-key lock files are empty and stay, see task/README.md).
	locks := filepath.Join(h.data, contract.StateDirName, "locks")
	var files []string
	filepath.WalkDir(h.root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(path) != locks {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("failed deliveries left files: %v", files)
	}
}

// The task gets what the event said of the object, as strings (ECS
// environment values), through the state machine's container overrides.
func TestTheTaskGetsTheEventsSequencerETagAndSize(t *testing.T) {
	stub := filepath.Join(t.TempDir(), "task.sh")
	script := "#!/bin/sh\necho \"seq=$" + contract.EnvEventSequencer + " etag=$" + contract.EnvEventETag + " size=$" + contract.EnvEventSize + "\"\n"
	if err := os.WriteFile(stub, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	h := start(t, defaultAsm, Options{TaskBinary: stub, OnTaskLog: func(_, line string) { mu.Lock(); lines = append(lines, line); mu.Unlock() }})
	body := randomBytes(12345)
	out, err := h.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &h.bucket, Key: aws.String("demo-env.txt"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	r := h.results(1)["demo-env.txt"]
	if r.Execution.Status != asl.StatusSucceeded {
		t.Fatalf("%s: %s", r.Execution.Status, r.Execution.Cause)
	}
	want := fmt.Sprintf("seq=%s etag=%s size=%d", r.Event.Sequencer, strings.Trim(aws.ToString(out.ETag), `"`), len(body))
	mu.Lock()
	defer mu.Unlock()
	if r.Event.Sequencer == "" || !slices.Contains(lines, want) {
		t.Errorf("task saw %q, want %q", lines, want)
	}
}

// Close stops the running tasks as ECS StopTask does and waits for them: a
// task gets SIGTERM and its stop timeout to clean up before Close returns.
func TestCloseWaitsForTasksToCleanUp(t *testing.T) {
	stub := filepath.Join(t.TempDir(), "task.sh")
	script := "#!/bin/sh\ntrap 'sleep 0.2; echo cleaned > \"$" + contract.EnvDataDir + "/cleaned\"; exit 9' TERM\nsleep 300 &\necho running\nwait $!\n"
	if err := os.WriteFile(stub, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{}, 1)
	h := start(t, defaultAsm, Options{TaskBinary: stub, OnTaskLog: func(_, line string) {
		if line == "running" {
			running <- struct{}{}
		}
	}})
	h.put("demo-stop.txt", []byte("x"))
	<-running
	h.p.Close()
	if b, err := os.ReadFile(filepath.Join(h.data, "cleaned")); err != nil || string(b) != "cleaned\n" {
		t.Errorf("Close returned before the task cleaned up: %q %v", b, err)
	}
}

func TestBurstOf200UploadsWithBoundedTasks(t *testing.T) {
	h := start(t, defaultAsm, Options{ObjectDir: t.TempDir(), TaskSlots: 4})
	const n = 200
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		bodies[i] = randomBytes(1024 + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			h.put(fmt.Sprintf("demo-burst/%03d.txt", i), bodies[i])
		}()
	}
	wg.Wait()
	got := h.results(n) // fails on a duplicate or a missing execution
	for i := range n {
		key := fmt.Sprintf("demo-burst/%03d.txt", i)
		if x := got[key].Execution; x.Status != asl.StatusSucceeded {
			t.Errorf("%s: %s %s", key, x.Status, x.Cause)
			continue
		}
		b, err := os.ReadFile(filepath.Join(h.data, "demo-burst", fmt.Sprintf("%03d.txt", i)))
		if err != nil || !bytes.Equal(b, bodies[i]) {
			t.Errorf("%s: not byte-identical (%v)", key, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(h.data, "demo-burst"))
	if len(entries) != n {
		t.Errorf("data dir holds %d entries, want exactly %d (no temp files)", len(entries), n)
	}
}

func TestConfigChangeChangesWhatMatches(t *testing.T) {
	// GIVEN the app synthesized with -c keyPattern=report*.csv -c ruleKeySuffix=.csv
	h := start(t, reportAsm, Options{})
	h.put("report1.csv", []byte("a,b\n1,2\n"))
	h.put("summary.csv", []byte("the rule passes it, the Choice state does not"))
	h.put("demo1.txt", []byte("matched by the default pattern only"))
	got := h.results(3)
	// THEN the new pattern is delivered
	if x := got["report1.csv"].Execution; x == nil || x.Status != asl.StatusSucceeded || pathOf(x)[3] != contract.StateDownload {
		t.Errorf("report1.csv: %+v", x)
	}
	if _, err := os.Stat(filepath.Join(h.data, "report1.csv")); err != nil {
		t.Error(err)
	}
	// AND a .csv the pattern rejects is skipped by the Choice state
	if x := got["summary.csv"].Execution; x == nil || pathOf(x)[2] != contract.StateSkipped {
		t.Errorf("summary.csv must be skipped, got %+v", x)
	}
	// AND the old default key never starts an execution: the rule's suffix filter drops it
	if r := got["demo1.txt"]; r.Execution != nil || r.Rule != "" {
		t.Errorf("demo1.txt must be filtered by the rule, got an execution via %s", r.Rule)
	}
}

func TestObjectOverTheSizeLimitEndsInTooLargeWithoutATask(t *testing.T) {
	// GIVEN the app synthesized with -c maxObjectMiB=1
	asm := filepath.Join(t.TempDir(), "small.out")
	if _, err := cdkapp.Synth("../..", asm, map[string]string{"maxObjectMiB": "1"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var taskLines []string
	h := start(t, asm, Options{OnTaskLog: func(id, line string) {
		mu.Lock()
		defer mu.Unlock()
		taskLines = append(taskLines, id+": "+line)
	}})
	// WHEN one object one byte over the limit and one exactly at it are uploaded
	h.put("demo-big.txt", randomBytes(1<<20+1))
	h.put("demo-edge.txt", randomBytes(1<<20))
	got := h.results(2)

	// THEN the big one ends in TooLarge with its size and the limit as cause
	x := got["demo-big.txt"].Execution
	if x == nil || x.Status != asl.StatusFailed || x.Error != contract.ErrTooLarge {
		t.Fatalf("demo-big.txt: want FAILED %s, got %+v", contract.ErrTooLarge, x)
	}
	equal := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	equal("path", pathOf(x), []string{contract.StateExtract, contract.StateMatches, contract.StateSize, contract.StateTooLarge})
	equal("cause", x.Cause, "s3://"+h.bucket+"/demo-big.txt is 1048577 bytes, more than the 1048576 bytes (maxObjectMiB=1) a board accepts: not delivered")
	// AND nothing ran on the board for it, and nothing was written
	mu.Lock()
	for _, line := range taskLines {
		if strings.Contains(line, "demo-big.txt") {
			t.Errorf("a task ran for the too-large object: %s", line)
		}
	}
	mu.Unlock()
	if _, err := os.Stat(filepath.Join(h.data, "demo-big.txt")); !os.IsNotExist(err) {
		t.Errorf("demo-big.txt must not reach the data dir: %v", err)
	}
	// AND an object exactly at the limit is delivered
	if x := got["demo-edge.txt"].Execution; x == nil || x.Status != asl.StatusSucceeded || pathOf(x)[3] != contract.StateDownload {
		t.Errorf("demo-edge.txt: %+v", x)
	}
	if fi, err := os.Stat(filepath.Join(h.data, "demo-edge.txt")); err != nil || fi.Size() != 1<<20 {
		t.Errorf("demo-edge.txt: %v %v", fi, err)
	}
}

func TestBusyBoardIsRetriedByTheStateMachine(t *testing.T) {
	// GIVEN one task slot that refuses work when taken, as a full board does
	var mu sync.Mutex
	var waits []time.Duration
	h := start(t, defaultAsm, Options{TaskSlots: 1, RejectWhenBusy: true, Paused: true,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			select { // the synthesized schedule, 100 times faster
			case <-time.After(d / 100):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	// WHEN three uploads arrive at once
	for i := range 3 {
		h.put(fmt.Sprintf("demo-busy/%d.txt", i), []byte(fmt.Sprintf("file %d\n", i)))
	}
	h.p.Resume()
	// THEN placement failures (AmazonECS.Unknown) are retried until each is delivered
	got := h.results(3)
	retried := 0
	for key, r := range got {
		x := r.Execution
		if !endedDelivered(x) {
			t.Errorf("%s: %s via %v: %s", key, x.Status, pathOf(x), x.Cause)
			continue
		}
		if i := slices.Index(pathOf(x), contract.StateDownload); x.Path[i].Attempts > 1 {
			retried++
		}
		if b, err := os.ReadFile(filepath.Join(h.data, filepath.FromSlash(key))); err != nil || !strings.HasPrefix(string(b), "file ") {
			t.Errorf("%s: %q %v", key, b, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if retried == 0 || len(waits) == 0 {
		t.Fatalf("with one slot and three tasks some RunTask calls must have been retried (retried %d, waits %v)", retried, waits)
	}
	for _, d := range waits {
		if d < 0 || d > 300*time.Second {
			t.Errorf("retry wait %s outside the placement schedule (FULL jitter, at most 300 s)", d)
		}
	}
}

// The golden pipeline.asl.json (asltest.GoldenDir), which the pipeline's
// definition tests and local/asl's differential test run, is the
// synthesized definition with its cluster and task definition resolved
// (stacks writes it); this checks it against the assembly the local
// pipeline loads.
func TestStatemachineTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	asm, err := assembly.Load(defaultAsm, Region, Account)
	if err != nil {
		t.Fatal(err)
	}
	sm := pipelineMachine(t, asm)
	copyJSON := asltest.ReadGolden(t, "pipeline.asl.json")
	normalize := func(raw []byte) string {
		var def map[string]any
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatal(err)
		}
		// Account, region and generated names differ by design.
		params := def["States"].(map[string]any)[contract.StateDownload].(map[string]any)["Parameters"].(map[string]any)
		params["Cluster"], params["TaskDefinition"] = "<cluster>", "<task definition>"
		out, _ := json.MarshalIndent(def, "", " ")
		return string(out)
	}
	if got, want := normalize(copyJSON), normalize(sm.Definition); got != want {
		t.Errorf("constructs/pipeline/testdata/pipeline.asl.json drifted from the synthesized definition:\n--- copy\n%s\n--- synthesized\n%s", got, want)
	}
}

func TestHostVolumesComeFromTheAssembly(t *testing.T) {
	td := assembly.TaskDefinition{HostPaths: map[string]string{"data": "/srv/drop", "spool": "/var/spool/x"}}
	defs := map[string]assembly.TaskDefinition{"arn": td, "family": td}
	volumes, hosts, err := hostVolumes(defs, "rel/data")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("rel/data")
	if !slices.Equal(hosts, []string{"/srv/drop", "/var/spool/x"}) || volumes["/srv/drop"] != abs || volumes["/var/spool/x"] != abs {
		t.Errorf("got %v %v, want both host paths on %s", hosts, volumes, abs)
	}
	if _, _, err := hostVolumes(defs, ""); err == nil || !strings.Contains(err.Error(), "/srv/drop") {
		t.Errorf("no data dir: want an error naming the host paths, got %v", err)
	}
}
