// Package localrun wires the local stand-ins together in the order of the
// cloud data flow: bucket (embedded S3 server) → rule (EventBridge pattern,
// quamina) → state machine (ASL interpreter) → task (the task binary as a
// local process) → data directory. Everything it runs comes from a
// synthesized cloud assembly. A local Step Functions endpoint runs beside
// them: tasks send their reports there (their task token, the SDK pointed
// at it by AWS_ENDPOINT_URL_SFN), and make sync starts executions there.
package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/assembly"
	"github.com/edge-drop/edge-drop/local/bucket"
	"github.com/edge-drop/edge-drop/local/ecstask"
	"github.com/edge-drop/edge-drop/local/ledgerdb"
	"github.com/edge-drop/edge-drop/local/rule"
	"github.com/edge-drop/edge-drop/local/sfnapi"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// The local pipeline's region and account (ARNs, events, credential scope).
const (
	Region  = "eu-west-1"
	Account = "000000000000"
)

// Options configures a local pipeline.
type Options struct {
	// AssemblyDir holds the synthesized cloud assembly.
	AssemblyDir string
	// ObjectDir keeps the bucket's objects ("" = in memory).
	ObjectDir string
	// DataDir is the local directory that stands in for every host volume
	// of the assembly's task definitions (the board's data directory, e.g.
	// /data → ./data). The host paths come from the assembly, so a
	// synthesized -c dataDir=/srv/drop maps without being told. With
	// Boards, each board has its own: DataDir/<board>.
	DataDir string
	// Boards is the fleet (see ParseBoards); none: one board named
	// ecstask.DefaultBoard, in no group, whose data dir is DataDir.
	Boards []Board
	// TaskBinary is the task program built for this machine.
	TaskBinary string
	// Addr for the S3 server ("127.0.0.1:0" picks a port), or a Listener
	// already open.
	Addr     string
	Listener net.Listener
	// StepFunctionsAddr for the Step Functions endpoint ("" picks a
	// port on 127.0.0.1), or StepFunctionsListener already open.
	StepFunctionsAddr     string
	StepFunctionsListener net.Listener
	// Credentials every S3 and Step Functions request must be signed
	// with; the tasks get them. Empty: new ones (Pipeline.Credentials),
	// known to nobody else.
	Credentials sigv4.Credentials
	// CORSOrigin is the one web origin the S3 server answers with CORS
	// headers; empty: none.
	CORSOrigin string
	// TaskSlots bounds concurrent tasks per board (its capacity).
	TaskSlots int
	// Observer sees every state machine event, with the execution it
	// belongs to (for live printing).
	Observer func(exec string, e asl.Event)
	// OnTaskLog sees each line a task writes.
	OnTaskLog func(taskID, line string)
	Logger    *slog.Logger
	// RejectWhenBusy makes a RunTask with no free slot fail as ECS does
	// on a full board (AmazonECS.Unknown), so the state machine's Retry
	// handles it; by default it waits for a slot.
	RejectWhenBusy bool
	// Sleep replaces the state machine's real waits (Retry intervals);
	// tests use it to run backoff schedules quickly.
	Sleep func(ctx context.Context, d time.Duration) error
	// Paused holds events (they queue, none is lost) until Resume: to
	// change the bucket between an upload and its delivery, as happens when
	// a board is busy.
	Paused bool
	// Ledger, if set, is where the state machines' DynamoDB integrations
	// (the delivery ledger's writes) go: Start creates the assembly's
	// tables in it, from the template's properties. Unset, those writes
	// fail (DynamoDB.ResourceNotFoundException) and the state machines
	// count them and go on, as they would in the cloud.
	Ledger *ledgerdb.Server
	// StartLedger, when Ledger is nil, starts one (dynalite) with these
	// options if the assembly has a table, after the assembly loaded (a
	// bad assembly is reported as such, not as a missing Node.js); the
	// pipeline closes it (Pipeline.Ledger).
	StartLedger *ledgerdb.Options
	// ScheduleEvery, if set, replaces the rate of every scheduled rule of
	// the assembly (e.g. the sync schedule's rate(6 hours) by 10s), and is
	// required for a cron(...) schedule, which the local run does not
	// evaluate.
	ScheduleEvery time.Duration
}

// Result is one finished execution, or an upload no rule matched (Rule
// empty, Execution nil): in the cloud such an event costs nothing. A
// deletion no rule matched (mirrorDeletes off) is no result. Rule is the
// rule that started the execution ("" for StartExecution); Event is the
// S3 notification behind it (zero for a schedule or StartExecution).
type Result struct {
	Rule         string
	StateMachine string // its name
	Event        bucket.Notification
	// Batch is every notification of a coalesced batch (Event is the
	// first), nil without coalescing.
	Batch     []bucket.Notification
	Execution *asl.Execution
	// TaskReason is the last stderr line of the execution's last task that
	// failed: the task's own words for why (in the cloud, its log has it).
	TaskReason string
}

// Pipeline is a running local pipeline.
type Pipeline struct {
	S3      *bucket.Server
	Buckets []string
	// StepFunctions is the local Step Functions endpoint: the tasks'
	// reports (SendTaskSuccess with their task token) and make sync.
	StepFunctions *sfnapi.Server
	// Credentials are what clients of S3 and Step Functions (the tasks
	// too) sign with.
	Credentials sigv4.Credentials

	// HostPaths are the task definitions' host volume paths (sorted), each
	// mapped to a board's data dir.
	HostPaths []string
	// Boards are the fleet's boards, with their data dirs (absolute).
	Boards []BoardDir
	// Tables are the DynamoDB tables created in Ledger (the ledger's),
	// by name; Ledger is Options.Ledger or the one StartLedger started.
	Tables      []string
	Ledger      *ledgerdb.Server
	ownedLedger *ledgerdb.Server

	runner   *ecstask.Runner
	tokens   *asl.TaskTokens    // of every execution: tasks report with them
	machines map[string]machine // by ARN: every state machine of the assembly
	started  runs               // by StartExecution
	opts     Options
	log      *slog.Logger
	results  chan Result
	wg       sync.WaitGroup
	runCtx   context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	resume   chan struct{}
	resumed  sync.Once
	tasks    tasks
	closed   sync.Once
	closeErr error
	pipes    pipeBatchers // coalescing stand-ins (coalesce.go)
}

// tasks tracks running tasks. A stopped execution does not wait for its
// task to stop (neither does Step Functions), but Close does: the tasks get
// SIGTERM and their stop timeout to clean up, as ECS StopTask gives them.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
}

// start registers a task; false once Close began.
func (t *tasks) start() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.running.Add(1)
	return true
}

func (t *tasks) stopAndWait() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.running.Wait()
}

type target struct {
	rule    assembly.Rule
	matcher *rule.Rule
	machine machine
	// pipe, when set, batches the rule's events (coalesce.go).
	pipe *assembly.Pipe
}

// Start loads the assembly, starts the S3 server with the assembly's
// buckets and routes every completed upload through the rules.
func Start(ctx context.Context, opts Options) (*Pipeline, error) {
	a, err := loadApp(opts)
	if err != nil {
		return nil, err
	}
	var owned *ledgerdb.Server
	if opts.Ledger == nil && opts.StartLedger != nil && len(a.tables) > 0 {
		if owned, err = ledgerdb.Start(ctx, *opts.StartLedger); err != nil {
			return nil, err
		}
		opts.Ledger = owned
	}
	var tables []string
	if opts.Ledger != nil {
		for _, t := range a.tables {
			name, err := opts.Ledger.CreateTableFrom(ctx, t)
			if err != nil {
				if owned != nil {
					owned.Close()
				}
				return nil, err
			}
			tables = append(tables, name)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	p, err := startServers(runCtx, opts, a)
	if err != nil {
		cancel()
		if owned != nil {
			owned.Close()
		}
		return nil, err
	}
	p.Ledger, p.ownedLedger = opts.Ledger, owned
	p.cancel = cancel
	p.Tables = tables
	if !opts.Paused {
		p.Resume()
	}
	go p.route(runCtx, a.targets)
	for _, s := range a.schedules {
		p.wg.Add(1)
		go p.schedule(runCtx, s)
	}
	return p, nil
}

// app is what the pipeline runs, as the assembly defines it.
type app struct {
	buckets   []string
	defs      map[string]assembly.TaskDefinition
	clusters  []string
	machines  map[string]machine // by ARN
	targets   []target
	schedules []schedule
	boards    []ecstask.Board
	dirs      []BoardDir
	hostPaths []string
	tables    []map[string]any
}

// loadApp reads the assembly: buckets, rules and their state machines,
// schedules, task definitions, and the boards' data dirs.
func loadApp(opts Options) (app, error) {
	var a app
	asm, err := assembly.Load(opts.AssemblyDir, Region, Account)
	if err != nil {
		return a, err
	}
	if a.buckets, err = asm.Buckets(); err != nil {
		return a, err
	}
	rules, err := asm.Rules()
	if err != nil {
		return a, err
	}
	machines, err := asm.StateMachines()
	if err != nil {
		return a, err
	}
	if a.defs, err = asm.TaskDefinitions(); err != nil {
		return a, err
	}
	if a.clusters, err = asm.Clusters(); err != nil {
		return a, err
	}
	if a.machines, err = parseMachines(machines); err != nil {
		return a, err
	}
	pipes, err := asm.Pipes()
	if err != nil {
		return a, err
	}
	if a.targets, err = ruleTargets(rules, a.machines, pipes); err != nil {
		return a, err
	}
	if a.schedules, err = scheduled(asm, a.machines, opts.ScheduleEvery); err != nil {
		return a, err
	}
	a.tables = asm.Tables()
	a.boards, a.dirs, a.hostPaths, err = fleetVolumes(a.defs, opts.DataDir, opts.Boards, opts.TaskSlots)
	return a, err
}

// ruleTargets compiles the assembly's rules, each with its state machine.
func ruleTargets(rules []assembly.Rule, machines map[string]machine, pipes []assembly.Pipe) ([]target, error) {
	var targets []target
	for _, r := range rules {
		m, err := rule.Compile(r.Name, r.Pattern)
		if err != nil {
			return nil, err // e.g. an operator quamina lacks: fail, never silently match
		}
		pipe, err := pipeOf(r, pipes)
		if err != nil {
			return nil, err
		}
		if pipe != nil {
			r.StateMachineARN = pipe.StateMachineARN
		}
		sm, ok := machines[r.StateMachineARN]
		if !ok {
			return nil, fmt.Errorf("rule %s targets %s, which is not in the assembly", r.Name, r.StateMachineARN)
		}
		targets = append(targets, target{rule: r, matcher: m, machine: sm, pipe: pipe})
	}
	return targets, nil
}

// startServers starts the S3 server, the task runner and the Step Functions
// endpoint the tasks report to; they stop with runCtx.
func startServers(runCtx context.Context, opts Options, a app) (*Pipeline, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	keys := opts.Credentials
	if !keys.Valid() {
		keys = sigv4.NewCredentials()
	}
	srv, err := bucket.Start(runCtx, bucket.Options{Dir: opts.ObjectDir, Addr: addr, Listener: opts.Listener, Buckets: a.buckets,
		Credentials: keys, Region: Region, CORSOrigin: opts.CORSOrigin, Logger: logger})
	if err != nil {
		return nil, err
	}
	runner, err := newRunner(opts, a, srv.URL(), keys)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	p := &Pipeline{S3: srv, Buckets: a.buckets, Credentials: keys, HostPaths: a.hostPaths, Boards: a.dirs, runner: runner,
		tokens: asl.NewTaskTokens(), machines: a.machines, opts: opts, log: logger, runCtx: runCtx,
		results: make(chan Result, 1024), done: make(chan struct{}), resume: make(chan struct{})}
	// Tasks run here, so the endpoint their reports go to runs too.
	p.StepFunctions, err = sfnapi.Start(api{p}, sfnapi.Options{Listener: opts.StepFunctionsListener,
		Addr: opts.StepFunctionsAddr, Credentials: keys, Region: Region})
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	runner.StepFunctionsEndpoint = p.StepFunctions.URL()
	return p, nil
}

// newRunner runs the tasks on the boards, against the local S3.
func newRunner(opts Options, a app, s3URL string, keys sigv4.Credentials) (*ecstask.Runner, error) {
	runner, err := ecstask.NewFleetRunner(a.defs, opts.TaskBinary, []string{
		"AWS_ENDPOINT_URL_S3=" + s3URL, "AWS_REGION=" + Region, "AWS_S3_USE_PATH_STYLE=true",
		"AWS_ACCESS_KEY_ID=" + keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + keys.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}, a.boards)
	if err != nil {
		return nil, err
	}
	runner.Clusters = a.clusters
	runner.OnLog = opts.OnTaskLog
	runner.RejectWhenBusy = opts.RejectWhenBusy
	return runner, nil
}

// SetConnected takes a board offline (its agent disconnects: running tasks
// keep running, new ones fail placement with reason AGENT) or back online.
func (p *Pipeline) SetConnected(board string, connected bool) error {
	return p.runner.SetConnected(board, connected)
}

// BoardDir is a board and its local data dir.
type BoardDir struct {
	Board
	Dir string
}

// fleetVolumes gives each board its data dir (dataDir itself for the one
// default board, dataDir/<board> in a fleet) for every host path the task
// definitions mount.
func fleetVolumes(defs map[string]assembly.TaskDefinition, dataDir string, fleet []Board, slots int) ([]ecstask.Board, []BoardDir, []string, error) {
	single := len(fleet) == 0
	if single {
		fleet = []Board{{Name: ecstask.DefaultBoard}}
	}
	volumes, hostPaths, err := hostVolumes(defs, dataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	var boards []ecstask.Board
	var dirs []BoardDir
	for _, b := range fleet {
		v := map[string]string{}
		for host, dir := range volumes {
			if !single {
				dir = filepath.Join(dir, b.Name)
			}
			v[host] = dir
		}
		dir := ""
		if len(hostPaths) > 0 {
			dir = v[hostPaths[0]]
		}
		boards = append(boards, ecstask.Board{Name: b.Name, Groups: b.Groups, Volumes: v, Slots: slots})
		dirs = append(dirs, BoardDir{Board: b, Dir: dir})
	}
	if err := ecstask.CheckBoards(boards); err != nil {
		return nil, nil, nil, err
	}
	return boards, dirs, hostPaths, nil
}

// hostVolumes maps every host path the task definitions mount to dataDir,
// made absolute so tasks do not depend on their working directory.
func hostVolumes(defs map[string]assembly.TaskDefinition, dataDir string) (map[string]string, []string, error) {
	volumes := map[string]string{}
	var hostPaths []string
	for _, td := range defs {
		for _, host := range td.HostPaths {
			if _, seen := volumes[host]; !seen {
				volumes[host] = ""
				hostPaths = append(hostPaths, host)
			}
		}
	}
	sort.Strings(hostPaths)
	if len(hostPaths) == 0 {
		return volumes, nil, nil
	}
	if dataDir == "" {
		return nil, nil, fmt.Errorf("the task definitions mount %s: set a local data directory for it", strings.Join(hostPaths, ", "))
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, nil, err
	}
	for host := range volumes {
		volumes[host] = abs
	}
	return volumes, hostPaths, nil
}

// route turns each notification into an event, matches it against every
// rule and starts an execution per match — as EventBridge does.
func (p *Pipeline) route(ctx context.Context, targets []target) {
	defer close(p.done)
	select {
	case <-p.resume:
	case <-ctx.Done():
	}
	for o := range p.S3.Events() {
		event, _ := json.Marshal(rule.NewEvent(o, Account, Region))
		matched := false
		for _, t := range targets {
			ok, err := t.matcher.Matches(event)
			if err != nil {
				p.log.Error("rule match failed", "rule", t.rule.Name, "err", err)
				continue
			}
			if !ok {
				continue
			}
			matched = true
			if t.pipe != nil {
				p.enqueue(ctx, t, event, o)
				continue
			}
			in, err := targetInput(event, t.rule)
			if err != nil {
				p.log.Error("target input failed", "rule", t.rule.Name, "err", err)
				continue
			}
			name := fmt.Sprintf("%s-%s", time.Now().UTC().Format("150405"), o.Sequencer)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.results <- p.execute(ctx, t.machine, name, in, Result{Rule: t.rule.Name, Event: o}, nil)
			}()
		}
		if !matched && !o.Deleted {
			p.results <- Result{Event: o}
		}
	}
	p.flushAll(ctx)
}

// targetInput is what a rule's target receives for event.
func targetInput(event []byte, r assembly.Rule) (any, error) {
	input, err := rule.TargetInput(event, r.Input, r.InputPath, r.InputTransformer)
	if err != nil {
		return nil, err
	}
	var in any
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, err
	}
	return in, nil
}

// execute runs one execution of m to its end and returns r completed with
// it: the task calls go to the fleet runner. observe, if set, sees every
// event of the execution too.
func (p *Pipeline) execute(ctx context.Context, m machine, name string, in any, r Result, observe func(asl.Event)) Result {
	return p.executeAs(ctx, m, name, name, in, r, observe)
}

// executeAs is execute with Options.Observer told the events come from
// the execution as: a child execution (a paged delivery's page) reports
// as its parent, so that the demo sees one delivery with every board.
func (p *Pipeline) executeAs(ctx context.Context, m machine, name, as string, in any, r Result, observe func(asl.Event)) Result {
	var children atomic.Int64
	// A timed-out state does not wait for its task to stop, so the task
	// may still write this after the execution ended.
	var reason atomic.Pointer[string]
	r.StateMachine = m.name
	r.Execution = m.parsed.Execute(ctx, in, asl.Options{
		Task: func(ctx context.Context, resource string, params any) (any, error) {
			if resource == asl.ResourceStartExecutionSync2 {
				// A child execution (a paged delivery's page), in-process:
				// its tasks take slots as any execution's do.
				return asl.StartExecutionSync2(ctx, params, func(ctx context.Context, arn, _ string, in any) (*asl.Execution, error) {
					cm, ok := p.machines[arn]
					if !ok {
						return nil, fmt.Errorf("state machine %s is not in the assembly", arn)
					}
					child := fmt.Sprintf("%s-page-%d", name, children.Add(1))
					return p.executeAs(ctx, cm, child, as, in, Result{}, nil).Execution, nil
				})
			}
			if !p.tasks.start() {
				return nil, context.Canceled
			}
			defer p.tasks.running.Done()
			if ledgerdb.Serves(resource) {
				if p.opts.Ledger == nil {
					return nil, &asl.Error{Name: "DynamoDB.ResourceNotFoundException", Cause: "the local run has no ledger (Options.Ledger)"}
				}
				return p.opts.Ledger.Integration(ctx, resource, params)
			}
			out, err := p.runner.Handle(ctx, resource, params)
			if f := (*ecstask.Failure)(nil); errors.As(err, &f) {
				reason.Store(&f.LastStderr)
			}
			return out, err
		},
		Sleep:            p.opts.Sleep,
		Tokens:           p.tokens,
		Name:             name,
		StateMachineName: m.name,
		Observer: func(e asl.Event) {
			if p.opts.Observer != nil {
				p.opts.Observer(as, e)
			}
			if observe != nil {
				observe(e)
			}
		},
	})
	if s := reason.Load(); s != nil {
		r.TaskReason = *s
	}
	return r
}

// Resume starts delivering events held by Options.Paused.
func (p *Pipeline) Resume() { p.resumed.Do(func() { close(p.resume) }) }

// Results delivers each finished execution.
func (p *Pipeline) Results() <-chan Result { return p.results }

// Close stops the server, cancels running executions, waits for them and
// their tasks (which get SIGTERM) and closes Results; results nobody read by
// then are dropped. Later calls return the first one's error.
func (p *Pipeline) Close() error {
	p.closed.Do(func() { p.closeErr = p.close() })
	return p.closeErr
}

func (p *Pipeline) close() error {
	p.started.mu.Lock()
	p.started.closing = true // no StartExecution adds to p.wg from now on
	p.started.mu.Unlock()
	err := p.S3.Close()
	<-p.done
	p.cancel()
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	for waiting := true; waiting; {
		select {
		case <-finished:
			waiting = false
		case <-p.results:
		}
	}
	p.tasks.stopAndWait()
	_ = p.StepFunctions.Close() // after the tasks: a stopping task may still report
	if p.ownedLedger != nil {
		_ = p.ownedLedger.Close() // after the executions: nothing writes it any more
	}
	close(p.results)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
