// Command demo runs the whole edge-drop pipeline on this machine, from what
// the CDK app synthesizes: an embedded S3 server stands in for the bucket,
// quamina for the EventBridge rule, a local ASL interpreter for Step
// Functions and the task binary, as a process, for the ECS Anywhere board.
//
//	make demo                      # synthesize, upload two samples, keep running
//	go run ./cmd/demo -once        # the same, then exit (tests, CI)
//	go run ./cmd/demo -c keyPattern='report*.csv'
//	go run ./cmd/demo -boards a,b@site1,c@site1+eu -c deliverTo=all
//
// With -boards, each board has its data dir ./data/<board>/ and lines
// "offline <board>" / "online <board>" typed on the standard input take a
// board's agent offline and back while the demo runs; "sync [board]" runs
// the sync state machine now. -sync-every 10s runs the scheduled sync that
// often. A local Step Functions endpoint, written to .demo/stepfunctions.json,
// lets make sync start the demo's sync as it starts the cloud's.
//
// Its S3 and Step Functions endpoints (127.0.0.1:9470 and :9471 unless
// -addr and -sfn-addr say otherwise) accept only requests signed with the
// credentials it prints, made at random once and kept in -state.
//
// Ctrl-C, SIGTERM and SIGHUP stop it: running tasks get SIGTERM and clean
// up, and the exit status is the shell's for that signal (128+n).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/cdkapp"
	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/bucket"
	"github.com/edge-drop/edge-drop/local/endpoint"
	"github.com/edge-drop/edge-drop/local/ledgerdb"
	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/privatefile"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

type contextFlags map[string]string

func (c contextFlags) String() string { return fmt.Sprint(map[string]string(c)) }
func (c contextFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	c[k] = val
	return nil
}

type options struct {
	assembly, state, data, task   string
	addr, sfnAddr, corsOrigin     string
	addrSet, sfnAddrSet           bool // given on the command line: no fallback port
	boards, syncEvery             string
	once, verbose, rejectWhenBusy bool
	slots                         int
	context                       contextFlags
	match, skip                   string
}

func main() {
	o := options{context: contextFlags{}}
	flag.StringVar(&o.assembly, "assembly", "", "use this synthesized cloud assembly (e.g. cdk.out) instead of synthesizing in-process")
	flag.Var(o.context, "c", "config override key=value, as with cdk synth -c (repeatable; an unknown key is an error)")
	flag.StringVar(&o.state, "state", ".demo", "directory for the embedded S3 server's objects and the synthesized assembly")
	flag.StringVar(&o.data, "data", "data", "local directory standing in for the board's data directory (the task's host volume)")
	flag.StringVar(&o.task, "task", "bin/edge-drop-task", "the task binary built for this machine (make task-native)")
	flag.StringVar(&o.addr, "addr", defaultS3Addr, "address of the S3 endpoint (if the default's port is taken, a free one; any address but loopback is reachable from other machines)")
	flag.StringVar(&o.sfnAddr, "sfn-addr", defaultStepFunctionsAddr, "address of the Step Functions endpoint that make sync uses (the same rules as -addr)")
	flag.StringVar(&o.corsOrigin, "cors-origin", "", "the one web origin (scheme://host[:port]) whose pages may call the S3 endpoint; none by default")
	flag.IntVar(&o.slots, "slots", 2, "tasks that may run at once on each board (its capacity)")
	flag.StringVar(&o.boards, "boards", "", "a local fleet: boards with optional groups, e.g. a,b@site1,c@site1+eu, or ranges, b[1-2000]@site1 (at most 10,000; data dirs <-data>/<board>; default: one board, data dir -data)")
	flag.BoolVar(&o.once, "once", false, "upload the samples, wait for their executions, then exit (status 1, with the reason, if the matching sample was not delivered)")
	flag.BoolVar(&o.verbose, "v", false, "print the task's log lines too, and a failed task as ECS reports it (JSON)")
	flag.BoolVar(&o.rejectWhenBusy, "reject-when-busy", false, "fail RunTask when every slot is taken, as ECS does on a full board; the state machine's Retry then waits (real intervals, 15 s and up)")
	flag.StringVar(&o.syncEvery, "sync-every", "", "run the scheduled sync this often instead of the app's syncEvery, e.g. 10s (at least 1s)")
	flag.StringVar(&o.match, "sample", "", "key of the sample that should match (default: made from keyPattern)")
	flag.StringVar(&o.skip, "sample-skip", "notes/readme.md", "key of the sample that should be skipped")
	// jsii-runtime-go unpacks its runtime into the temp dir while the CDK
	// packages initialise, before main: every way out closes it, a flag
	// error and -h too (flag.ExitOnError would exit without).
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		cdkapp.CloseJSII()
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	flag.Visit(func(f *flag.Flag) {
		o.addrSet = o.addrSet || f.Name == "addr"
		o.sfnAddrSet = o.sfnAddrSet || f.Name == "sfn-addr"
	})
	code, err := checkFlags(o)
	if err == nil {
		code, err = run(o)
	}
	cdkapp.CloseJSII()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "demo:", line)
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// demoRun is one run of the demo; run builds it step by step.
type demoRun struct {
	o           options
	ctx         context.Context
	signaled    func() int // the exit status for the signal that stopped it; 0 before one
	out         *printer
	keys        sigv4.Credentials
	cfg         config.Config
	synthesized bool
	syncEvery   time.Duration
	boards      []localrun.Board
	p           *localrun.Pipeline
}

// ledgerEndpoint is the ledger the read side reads: dynalite's URL and
// the table the template made ("" when it has none).
func (d *demoRun) ledgerEndpoint() ledgerEndpoint {
	if d.p.Ledger == nil || len(d.p.Tables) == 0 {
		return ledgerEndpoint{}
	}
	return ledgerEndpoint{URL: d.p.Ledger.URL, Table: d.p.Tables[0]}
}

// run runs the demo: its endpoints, the synth, the local pipeline, the
// read side, the two samples; then it follows executions until a signal
// (or, with -once, the samples') ends it.
func run(o options) (int, error) {
	ctx, signaled, stop := stopOnSignals(context.Background())
	defer stop()
	d := &demoRun{o: o, ctx: ctx, signaled: signaled, out: &printer{w: os.Stdout, verbose: o.verbose}, cfg: config.Default()}
	if _, err := os.Stat(o.task); err != nil {
		return 2, fmt.Errorf("task binary %s not found: run make task-native (or pass -task)", o.task)
	}
	var err error
	if d.keys, err = demoCredentials(o.state); err != nil {
		return 1, err
	}
	// Both endpoints first: a port that is taken fails before the synth.
	ls, err := listen(o)
	if err != nil {
		return 1, err
	}
	defer ls.close()
	if code, err := d.synth(); code != 0 || err != nil {
		return code, err
	}
	if err := d.startPipeline(ls); err != nil {
		return 2, err
	}
	defer d.p.Close()
	d.printPlaces(ls.notes)
	syncARN, sfnURL, stateFile, err := d.publishStepFunctions()
	if err != nil {
		return 1, err
	}
	defer os.Remove(stateFile)
	read, err := startReadSide(ctx, d.p, o.state, d.cfg, d.syncEvery, sfnURL, d.ledgerEndpoint())
	if err != nil {
		return 1, err
	}
	defer read.Close()
	fmt.Printf("status page: %s (and edge-drop --local %s boards|status KEY|sync...)\n", read.PageURL(), o.state)
	if len(d.boards) > 0 || !o.once {
		fmt.Printf("%s\n\n", consoleHelp)
		go console(os.Stdin, d.p, syncARN, d.out)
	}
	return d.samplesThenServe()
}

// listeners are the S3 and Step Functions endpoints' listeners, and the lines that
// say where they ended up when a default port was taken.
type listeners struct {
	s3, sfn net.Listener
	notes   []string
}

func listen(o options) (listeners, error) {
	s3, notes, err := endpoint.Listen("S3", o.addr, !o.addrSet)
	if err != nil {
		return listeners{}, err
	}
	sfn, sfnNotes, err := endpoint.Listen("Step Functions", o.sfnAddr, !o.sfnAddrSet)
	if err != nil {
		s3.Close()
		return listeners{}, err
	}
	return listeners{s3: s3, sfn: sfn, notes: append(notes, sfnNotes...)}, nil
}

// close closes both; once served, the servers close them, and twice is
// harmless.
func (e listeners) close() {
	e.s3.Close()
	e.sfn.Close()
}

// synth synthesizes the CDK app into -state (unless -assembly names one);
// a non-zero code or an error ends the run.
func (d *demoRun) synth() (int, error) {
	if d.synthesized = d.o.assembly == ""; !d.synthesized {
		if len(d.o.context) > 0 {
			return 2, errors.New("-c applies to the in-process synth; drop -assembly or synthesize with those values")
		}
		return 0, nil
	}
	d.o.assembly = filepath.Join(d.o.state, "cdk.out")
	start := time.Now()
	cfg, err := cdkapp.Synth(".", d.o.assembly, d.o.context)
	// The assembly is written: the jsii node process (hundreds of MB) has
	// nothing left to do for the rest of the run.
	cdkapp.CloseJSII()
	if code := d.signaled(); code != 0 { // stopped during the synth (Ctrl-C reaches its node process too)
		return code, nil
	}
	if err != nil {
		return 2, err
	}
	d.cfg = cfg
	fmt.Printf("synthesized the CDK app into %s in %.1fs\n", d.o.assembly, time.Since(start).Seconds())
	return 0, nil
}

// startPipeline starts the local pipeline from the assembly.
func (d *demoRun) startPipeline(ls listeners) error {
	var err error
	if d.o.boards != "" {
		if d.boards, err = localrun.ParseBoards(d.o.boards); err != nil {
			return err
		}
	}
	d.syncEvery, _ = parseSyncEvery(d.o.syncEvery) // checked by checkFlags
	d.p, err = localrun.Start(d.ctx, localrun.Options{
		// The ledger: dynalite, in memory (a run starts with an empty
		// ledger; the bucket's objects are kept), the table from the
		// template.
		StartLedger:           &ledgerdb.Options{Region: localrun.Region},
		ScheduleEvery:         d.syncEvery,
		Boards:                d.boards,
		AssemblyDir:           d.o.assembly,
		ObjectDir:             filepath.Join(d.o.state, "s3"),
		DataDir:               d.o.data,
		TaskBinary:            d.o.task,
		Listener:              ls.s3,
		StepFunctionsListener: ls.sfn,
		Credentials:           d.keys,
		CORSOrigin:            d.o.corsOrigin,
		TaskSlots:             d.o.slots,
		RejectWhenBusy:        d.o.rejectWhenBusy,
		Observer:              d.out.event,
		OnTaskLog:             d.out.taskLog,
	})
	return err
}

// printPlaces says where the bucket and the boards' data dirs are.
func (d *demoRun) printPlaces(notes []string) {
	for _, note := range notes {
		fmt.Println(note)
	}
	p, kept := d.p, filepath.Join(d.o.state, "s3")
	if len(d.boards) == 0 {
		fmt.Printf("S3 endpoint %s, bucket %s (objects kept in %s between runs); %s on the board is %s here\n\n", p.S3.URL(), p.Buckets[0], kept, strings.Join(p.HostPaths, ", "), d.o.data)
		return
	}
	fmt.Printf("S3 endpoint %s, bucket %s (objects kept in %s between runs); %s on each board is:\n", p.S3.URL(), p.Buckets[0], kept, strings.Join(p.HostPaths, ", "))
	for _, b := range p.Boards {
		groups := ""
		if len(b.Groups) > 0 {
			groups = " (groups " + strings.Join(b.Groups, ", ") + ")"
		}
		fmt.Printf("  board %s%s: %s\n", b.Name, groups, b.Dir)
	}
}

// publishStepFunctions writes -state's stepfunctions.json, for make sync
// (the caller removes stateFile at the end).
func (d *demoRun) publishStepFunctions() (syncARN, sfnURL, stateFile string, err error) {
	syncARN = syncStateMachine(d.p)
	sfnURL = d.p.StepFunctions.URL() // the tasks' reports and make sync
	stateFile = filepath.Join(d.o.state, stepFunctionsFile)
	if err := writeStepFunctionsFile(stateFile, sfnURL, syncARN, d.keys); err != nil {
		return "", "", "", err
	}
	fmt.Printf("Step Functions endpoint %s (in %s: make sync works against this demo)\n", sfnURL, stateFile)
	return syncARN, sfnURL, stateFile, nil
}

// samplesThenServe uploads the two samples and waits for their
// executions; with -once that is the end (status 1 when the matching one
// was not delivered intact), else it prints how to upload more and
// follows executions until a signal.
func (d *demoRun) samplesThenServe() (int, error) {
	target := d.p.Boards[0].Name // a routed sample goes to the first board
	match := d.o.match
	if match == "" {
		match = sampleKey(d.cfg, "1", target)
	}
	samples := map[string][]byte{
		match:    fmt.Appendf(nil, "edge-drop sample, uploaded %s\n", time.Now().UTC().Format(time.RFC3339)),
		d.o.skip: []byte("this key does not match the pattern, so it is not delivered\n"),
	}
	if code, err := d.upload(samples, match, d.o.skip); code != 0 || err != nil {
		return code, err
	}
	notDelivered, code, err := d.awaitSamples(samples, match)
	if code != 0 || err != nil {
		return code, err
	}
	bucket := d.p.Buckets[0]
	if notDelivered != "" {
		code = 1
		fmt.Fprintf(os.Stderr, "demo: %s was not delivered: %s\n", safe("s3://"+bucket+"/"+match), notDelivered)
	}
	if d.o.once {
		return code, nil
	}
	filesIn := d.o.data
	if len(d.boards) > 0 {
		filesIn = filepath.Join(d.o.data, "<board>")
	}
	fmt.Print(uploadHelp(d.keys, d.p.S3.URL(), bucket, sampleKey(d.cfg, "2", target), filesIn))
	return d.follow(), nil
}

// upload puts the samples, in the order of keys.
func (d *demoRun) upload(samples map[string][]byte, keys ...string) (int, error) {
	client := newClient(d.p.S3.URL(), d.keys)
	bucket := d.p.Buckets[0]
	for _, key := range keys {
		d.out.printf("uploading %s (%d bytes)\n", safe("s3://"+bucket+"/"+key), len(samples[key]))
		if err := put(d.ctx, client, bucket, key, samples[key]); err != nil {
			if code := d.signaled(); code != 0 {
				return code, nil
			}
			return 1, fmt.Errorf("upload %s: %w", safe(key), err)
		}
	}
	return 0, nil
}

// awaitSamples prints executions until both samples' have ended, and says
// why the matching sample did not arrive intact, "" if it did. Other
// executions (a scheduled sync) are printed on the way. A non-zero code
// or an error ends the run.
func (d *demoRun) awaitSamples(samples map[string][]byte, match string) (notDelivered string, code int, err error) {
	patience := awaitPatience(len(d.boards))
	for waiting := len(samples); waiting > 0; {
		var r localrun.Result
		select {
		case r = <-d.p.Results():
		case <-d.ctx.Done():
			return "", d.signaled(), nil
		case <-time.After(patience):
			return "", 1, fmt.Errorf("no execution finished within %s", patience)
		}
		outcomes := d.out.result(r)
		for _, ev := range notesOf(r) { // a coalesced batch holds both samples
			if _, sample := samples[ev.Key]; sample && !ev.Deleted {
				waiting--
			}
			if ev.Key == match && !ev.Deleted {
				notDelivered = d.checkSample(r, outcomes, match, samples[match])
			}
		}
	}
	return notDelivered, 0, nil
}

// notesOf is the uploads behind r: a coalesced batch's, else its one.
func notesOf(r localrun.Result) []bucket.Notification {
	if len(r.Batch) > 0 {
		return r.Batch
	}
	return []bucket.Notification{r.Event}
}

// awaitPatience is how long -once waits for the next execution to end: 2
// minutes, and 100 ms more per board of a local fleet (a delivery to
// b[1-2000] runs 2,000 task processes, 20 at a time: about two minutes on
// two cores).
func awaitPatience(boards int) time.Duration {
	return 2*time.Minute + time.Duration(boards)*100*time.Millisecond
}

// checkSample says why the matching sample's execution r did not deliver
// it intact ("" when it did, after a line per file that holds it).
func (d *demoRun) checkSample(r localrun.Result, outcomes []contract.Outcome, match string, want []byte) string {
	problem, paths := deliveryProblem(r, samplePaths(d.p.Boards, outcomes, landsAs(d.cfg, match)), want)
	if problem == "" {
		for _, path := range paths {
			d.out.printf("  file %s: %d bytes, identical to the upload\n", safe(path), len(want))
		}
	} else if d.synthesized && strings.HasPrefix(problem, skippedByPattern) {
		problem += fmt.Sprintf(" %q", d.cfg.KeyPattern)
	}
	return problem
}

// follow prints executions until a signal, and returns its exit status.
func (d *demoRun) follow() int {
	for {
		select {
		case r := <-d.p.Results():
			d.out.result(r)
		case <-d.ctx.Done():
			fmt.Println("\nstopping: running tasks get SIGTERM and clean up")
			return d.signaled()
		}
	}
}

// stepFunctionsFile, in -state, tells scripts/sync.sh (make sync) where
// the running demo's Step Functions endpoint and sync state machine are.
const stepFunctionsFile = "stepfunctions.json"

// syncStateMachine is the ARN of the app's <prefix>-Sync state machine, ""
// if it has none.
func syncStateMachine(p *localrun.Pipeline) string {
	for _, m := range p.StateMachines() {
		if strings.HasSuffix(m.Name, "-Sync") {
			return m.ARN
		}
	}
	return ""
}

// writeStepFunctionsFile writes {"endpoint", "syncStateMachineArn",
// "region", "accessKeyId", "secretAccessKey"} to path (mode 0600), whole or
// not at all: make sync reads it to start the demo's sync.
func writeStepFunctionsFile(path, endpoint, syncARN string, keys sigv4.Credentials) error {
	b, _ := json.MarshalIndent(map[string]string{"endpoint": endpoint, "syncStateMachineArn": syncARN, "region": localrun.Region,
		"accessKeyId": keys.AccessKeyID, "secretAccessKey": keys.SecretAccessKey}, "", "  ")
	return privatefile.Write(path, append(b, '\n'))
}

// stopOnSignals returns a context that SIGINT (Ctrl-C), SIGTERM or SIGHUP
// (the terminal closed) cancels, which stops every running task with
// SIGTERM as ECS StopTask does, and the exit status the shell gives a
// process killed by that signal (128+n: 130 for SIGINT), 0 before one
// came. Later signals are ignored until stop: the tasks get to clean up.
func stopOnSignals(parent context.Context) (ctx context.Context, status func() int, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	var code atomic.Int32
	go func() {
		select {
		case s := <-sigs:
			if n, ok := s.(syscall.Signal); ok {
				code.Store(128 + int32(n))
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() int { return int(code.Load()) }, func() { signal.Stop(sigs); cancel() }
}

// skippedByPattern starts deliveryProblem's answer for a skipped sample.
const skippedByPattern = "skipped: the key does not match the state machine's keyPattern"

// holdsTheFile: outcomes after which the path holds the upload.
var holdsTheFile = []string{contract.OutcomeDelivered, contract.OutcomeUpToDate, contract.OutcomeConflict}

// samplePaths says where the sample should be: on each board whose
// outcome says the file is there (a fleet execution), else on any one
// board (one RunTask without constraints: deliverTo=any).
func samplePaths(boards []localrun.BoardDir, outcomes []contract.Outcome, key string) samplePlaces {
	var s samplePlaces
	for _, b := range boards {
		path := filepath.Join(b.Dir, filepath.FromSlash(key))
		s.any = append(s.any, path)
		for _, o := range outcomes {
			if o.Board == b.Name && slices.Contains(holdsTheFile, o.Status) {
				s.all = append(s.all, path)
			}
		}
	}
	return s
}

// samplePlaces: every path of all must hold the sample; without them, one
// path of any.
type samplePlaces struct{ all, any []string }

// deliveryProblem says why the sample of result r did not arrive intact
// where it should, or "" (and the paths that hold it) if it did.
func deliveryProblem(r localrun.Result, places samplePlaces, want []byte) (string, []string) {
	x := r.Execution
	switch {
	case x == nil:
		return "no rule matched it (the rule's key filter: ruleKeyPrefix, ruleKeySuffix or ruleKeyWildcard)", nil
	case x.Status != asl.StatusSucceeded:
		_, why, ok := strings.Cut(x.Cause, " was not delivered: ")
		if !ok {
			why = x.Status + ": " + x.Cause
		}
		if r.TaskReason != "" {
			why += "; the task said: " + r.TaskReason
		}
		return safe(why), nil
	case len(x.Path) > 0 && x.Path[len(x.Path)-1].Name == contract.StateSkipped:
		return skippedByPattern, nil
	case len(x.Path) > 0 && x.Path[len(x.Path)-1].Name == contract.StateGone:
		return "gone: the object was deleted before its delivery ran", nil
	}
	intact := func(path string) string {
		got, err := os.ReadFile(path)
		switch {
		case err != nil:
			return safe(err.Error())
		case !bytes.Equal(got, want):
			return safe(path) + " differs from the upload"
		}
		return ""
	}
	if len(places.all) > 0 {
		for _, path := range places.all {
			if problem := intact(path); problem != "" {
				return problem, nil
			}
		}
		return "", places.all
	}
	problem := "no board is configured"
	for _, path := range places.any {
		if problem = intact(path); problem == "" {
			return "", []string{path}
		}
	}
	return problem, nil
}

// printer writes execution progress; lines of concurrent executions never
// interleave mid-line.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	fleet   fleetView
}

func (p *printer) printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, a...)
}

func (p *printer) event(exec string, e asl.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	where := "[" + exec + "]"
	if e.Iteration != "" { // inside a Map iteration: which one, for which board
		where += " " + e.Iteration
		if b := p.fleet.iterationBoard(exec, e); b != "" {
			where += " board " + safe(b)
		}
	}
	switch e.Kind {
	case asl.EventStateExited:
		p.fleet.note(exec, e)
		fmt.Fprintf(p.w, "  %s %-18s %-7s %8s\n", where, e.State, e.Type, e.Duration.Round(10*time.Microsecond))
	case asl.EventStateFailed:
		fmt.Fprintf(p.w, "  %s %-18s failed: %s\n", where, e.State, safe(e.Error))
	case asl.EventRetryScheduled:
		fmt.Fprintf(p.w, "  %s %-18s retry in %s\n", where, e.State, e.Duration.Round(time.Millisecond))
	}
}

func (p *printer) taskLog(id, line string) {
	if p.verbose {
		p.printf("      task %s: %s\n", id[:8], safe(line))
	}
}

// result prints a finished execution, with one line per board of a fleet
// execution (the single-board pipeline's one outcome without a board), in
// words, and returns the boards' outcomes.
func (p *printer) result(r localrun.Result) []contract.Outcome {
	x := r.Execution
	object := safe("s3://" + r.Event.Bucket + "/" + r.Event.Key)
	switch {
	case r.Event.Key == "" && r.Rule != "":
		object = safe(r.StateMachine) + " (rule " + safe(r.Rule) + ")"
	case r.Event.Key == "":
		object = safe(r.StateMachine) + " (started by hand)"
	case r.Event.Deleted:
		object += " (deleted)"
	}
	if x == nil {
		p.printf("%s: no rule matched, no execution (the rule's event pattern filters it)\n", object)
		return nil
	}
	p.mu.Lock()
	outcomes := p.fleet.take(x.Name)
	p.mu.Unlock()
	defer func() {
		for _, o := range outcomes {
			p.printf("  board %s: %s\n", safe(o.Board), safe(o.Words()))
		}
		if o, ok := asOutcome(x.Output); ok && len(outcomes) == 0 {
			p.printf("  outcome: %s\n", safe(o.Words()))
		}
	}()
	var path []string
	for _, s := range x.Path {
		path = append(path, s.Name)
	}
	p.printf("execution %s for %s: %s in %s\n  path: %s\n", x.Name, object, x.Status,
		x.StopTime.Sub(x.StartTime).Round(time.Millisecond), strings.Join(path, " → "))
	if x.Error == "" {
		return outcomes
	}
	// One line: the state machine's cause (exit code, class and words in
	// the cloud too) and the task's own reason.
	line := "  " + x.Error + ": " + safe(x.Cause)
	if r.TaskReason != "" {
		line += "; the task said: " + safe(r.TaskReason)
	}
	p.printf("%s\n", line)
	if p.verbose { // what ECS reported: the stopped task as JSON
		for _, s := range x.Path {
			if s.Type == "Task" && s.Error != "" {
				p.printf("  %s %s: %s\n", s.Name, s.Error, safe(s.Cause))
			}
		}
	}
	return outcomes
}

// safe prints a key, cause or log line so that it cannot rewrite the
// terminal: as is when every character is printable, else Go-quoted
// (control characters, escape sequences, newlines and invalid UTF-8
// escaped).
func safe(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}
