// Command edge-drop-task downloads one S3 object into the data directory of
// an ECS Anywhere host. It is started by the edge-drop state machine with
// EDGE_DROP_BUCKET / EDGE_DROP_KEY (as in the S3 event, URL-encoded) and
// EDGE_DROP_DATA_DIR (default /data, a bind-mounted host volume).
// EDGE_DROP_MODE (or the first argument) selects the mode: download (the
// default), sync (deliver what the board lacks under a prefix) or delete
// (remove the delivered file of a deleted object).
//
// Logs are JSON lines (log/slog) on stdout; a failure also prints one line
// on stderr. The last stdout line of every run is its Report
// ("msg":"report", contract.Report), which is also sent to the state that
// started the task when it passed its task token (EDGE_DROP_TASK_TOKEN).
// Exit codes are listed in internal/exitcode and README.md.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "golang.org/x/crypto/x509roots/fallback" // CA roots independent of the image (scratch has none)

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/bucketsync"
	"github.com/edge-drop/edge-drop/task/internal/config"
	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/prune"
	"github.com/edge-drop/edge-drop/task/internal/report"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	tune()
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("%w (%s)", download.ErrSignal, s))
		signal.Stop(sigs) // a second signal kills the process the default way
	}()
	os.Exit(int(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)))
}

// tune: the start-up (SDK config, CA roots, HEAD) allocates a few MB that
// would trigger several GC cycles, ~6 ms of a 6-byte download. So the GC is
// off until the transfer starts (a memory limit is the backstop), and for a
// large object it then runs with a low target so the heap stays small and
// flat on a 512 MB board (the data streams through fixed buffers; the
// steady-state allocation rate is tiny). Explicit GOGC/GOMEMLIMIT win.
func tune() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}

// onTransfer re-enables the GC before a multi-megabyte transfer and hands
// the start-up garbage back to the OS, so the transfer's peak RSS starts
// from the live heap only.
func onTransfer(size int64) {
	if os.Getenv("GOGC") == "" && size > 4<<20 {
		debug.SetGCPercent(50)
		debug.FreeOSMemory()
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) exitcode.Code {
	log := slog.New(slog.NewJSONHandler(stdout, nil)).With("version", version)
	cfg, err := config.Parse(args, getenv, stderr)
	mode := contract.ModeDownload
	if slices.Contains(contract.Modes, cfg.Mode) { // also for a bad setting of a known mode
		mode = cfg.Mode
	}
	if errors.Is(err, config.ErrHelp) {
		return exitcode.OK
	}
	if err == nil && cfg.ShowVersion {
		fmt.Fprintln(stdout, "edge-drop-task", version)
		return exitcode.OK
	}
	r := &runner{cfg: cfg, mode: mode, getenv: getenv, log: log, stdout: stdout, stderr: stderr}
	var rep contract.Report
	if err != nil {
		rep = r.fail(exitcode.Usage, err)
	} else {
		rep = r.run(ctx)
	}
	r.finish(&rep)
	return exitcode.Code(rep.ExitCode)
}

// runner is one run after its configuration was read: every path ends in
// a Report (finish).
type runner struct {
	cfg    config.Config
	mode   string
	getenv func(string) string
	log    *slog.Logger
	stdout io.Writer
	stderr io.Writer
	aws    *aws.Config // loaded, for the report's Step Functions client
	end    time.Time   // the overall deadline (zero: none)
}

// fail logs a failure's line (and its one stderr line) and returns its report.
func (r *runner) fail(code exitcode.Code, err error, attrs ...any) contract.Report {
	r.log.Error(r.mode+" failed", append(attrs, "exit_code", int(code), "class", code.String(), "error", err.Error())...)
	stderrLine(r.stderr, code, err)
	return failed(r.mode, code, err)
}

func (r *runner) run(ctx context.Context) contract.Report {
	cfg := r.cfg
	if cfg.Timeout > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, cfg.Timeout)
		defer c()
		r.end = time.Now().Add(cfg.Timeout)
	}
	conns := cfg.Concurrency
	if cfg.Mode == contract.ModeSync {
		conns *= cfg.SyncObjects
	}
	so := s3conn.Options{RequestTimeout: cfg.RequestTimeout, Concurrency: conns, Logger: r.log}
	awsCfg, err := s3conn.Load(ctx, so)
	if err != nil {
		return r.fail(exitcode.Usage, fmt.Errorf("aws config: %w", err))
	}
	r.aws = &awsCfg
	api := s3conn.S3(awsCfg, so, r.getenv)
	dl := r.downloadOptions()
	defer dl.Limiter.Close()
	code := r.classifier(ctx)
	switch {
	case cfg.Mode == contract.ModeSync:
		return r.sync(ctx, api, dl, code)
	case len(cfg.Keys) > 0:
		return r.keyList(ctx, api, dl, code)
	case cfg.Mode == contract.ModeDelete:
		return r.deleteOne(ctx, api, dl, cfg.Key, code)
	}
	return r.downloadOne(ctx, api, dl, code)
}

// classifier returns the exit code of an error of the run: the context's
// cause when it ended (signal: 9, overall timeout: 7), no credentials (5,
// see download.Classify), else the error's own.
func (r *runner) classifier(ctx context.Context) func(error) (exitcode.Code, error) {
	return func(err error) (exitcode.Code, error) {
		c := exitcode.Of(err)
		if ctx.Err() != nil {
			c = download.Classify(ctx, ctx.Err())
			if c == exitcode.Network {
				err = fmt.Errorf("overall timeout %s exceeded: %w", r.cfg.Timeout, err)
			}
		} else if nc, ok := s3conn.NoCredentials(err); ok {
			// Whichever request met it, the message is the fix (the
			// wrappers' hints about keys and s3:ListBucket do not apply).
			c, err = exitcode.Denied, nc
		}
		return c, err
	}
}

// deleteOne removes the delivered file of key (a mirrored delete: delete
// mode, or a deleted key of a key list) and writes its one line.
func (r *runner) deleteOne(ctx context.Context, api *s3.Client, dl download.Options, key string, code func(error) (exitcode.Code, error)) contract.Report {
	cfg := r.cfg
	res, err := prune.Run(ctx, api, prune.Options{Bucket: cfg.Bucket, Key: key, DataDir: cfg.DataDir, StripComponents: cfg.StripComponents,
		Partials: dl.Partials, Logger: r.log})
	if err != nil {
		c, err := code(err)
		rep := r.fail(c, err, "bucket", cfg.Bucket, "key", key)
		rep.Key, rep.Path = cmp.Or(res.Key, keypath.Candidates(key)[0]), res.Rel
		return rep
	}
	r.log.Info(string(res.Outcome), "bucket", cfg.Bucket, "key", res.Key, "path", res.Path, "bytes", res.Bytes, "reason", orNone(res.Reason))
	return deleteReport(res)
}

// downloadOne delivers dl.Key (download mode, or a key of a key list) and
// writes its summary line.
func (r *runner) downloadOne(ctx context.Context, api *s3.Client, dl download.Options, code func(error) (exitcode.Code, error)) contract.Report {
	cfg := r.cfg
	res, err := download.Run(ctx, api, dl)
	if err != nil {
		c, err := code(err)
		rep := r.fail(c, err, "bucket", cfg.Bucket, "key", dl.Key)
		rep.Key = keypath.Candidates(dl.Key)[0] // as the event names it, decoded
		if c == exitcode.NotFound {
			rep = goneReport(cfg.Bucket, rep.Key, err)
		}
		return rep
	}
	if res.Folder {
		r.log.Info("folder marker", "bucket", cfg.Bucket, "key", res.Key, "path", res.Path, "reason", "zero-byte object whose key ends with /: its directory is there")
		return downloadReport(res)
	}
	secs := res.Elapsed.Seconds()
	mbps := 0.0
	if secs > 0 {
		mbps = float64(res.Bytes) / 1e6 / secs
	}
	msg := "download complete"
	switch {
	case res.Lost != "":
		msg = "not delivered: the path belongs to another key"
	case res.UpToDate:
		msg = "already up to date"
	}
	r.log.Info(msg,
		"bucket", cfg.Bucket, "key", res.Key, "path", res.Path, "bytes", res.Bytes,
		"seconds", round(secs, 3), "mb_per_s", round(mbps, 1),
		"verified", orNone(res.Verified), "resumed_parts", res.Resumes, "kept_bytes", res.Kept, "fetched_bytes", res.Fetched, "up_to_date", res.UpToDate,
		"reverified", res.Reverified, "conflict_copy", orNone(res.ConflictCopy),
		"superseded", res.Superseded, "restarts", res.Restarts, "record", orNone(res.Record))
	return downloadReport(res)
}

// downloadOptions are the settings every delivery of the run shares: the
// transfer's, the bandwidth budget, the free-space floor, the bounds of
// kept partials.
func (r *runner) downloadOptions() download.Options {
	cfg := r.cfg
	return download.Options{
		Bucket: cfg.Bucket, Key: cfg.Key, DataDir: cfg.DataDir,
		PartSize: cfg.PartSize, Concurrency: cfg.Concurrency,
		RequestTimeout: cfg.RequestTimeout, Logger: r.log, OnTransfer: onTransfer,
		MaxBytes: cfg.MaxBytes, StripComponents: cfg.StripComponents,
		Event: download.Event{Sequencer: cfg.Event.Sequencer, ETag: cfg.Event.ETag, Size: cfg.Event.Size},
		Floor: cfg.MinFree.Floor, FloorSetting: cfg.MinFree.String(),
		Partials: statedir.Bounds{MaxAge: cfg.PartialMaxAge, MaxBytes: cfg.PartialMaxBytes},
		Limiter:  download.NewLimiter(cfg.MaxRate, cfg.RateSchedule, r.log),
	}
}

// sync runs sync mode and writes its one summary line (with the exit
// code when it failed; each failed object has its own line before it).
func (r *runner) sync(ctx context.Context, api *s3.Client, dl download.Options, code func(error) (exitcode.Code, error)) contract.Report {
	cfg, log := r.cfg, r.log
	// Many objects: the GC runs from the start (tune switched it off for
	// the single download's start-up).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// Each object's own lines (key resolved, …) would repeat the sync's;
	// its warnings and errors are kept.
	dl.Logger = slog.New(minLevel{log.Handler(), slog.LevelWarn})
	dl.OnTransfer = nil
	sum, err := bucketsync.Run(ctx, api, bucketsync.Options{
		Bucket: cfg.Bucket, Prefix: cfg.Prefix, Pattern: cfg.Pattern, DataDir: cfg.DataDir,
		Objects: cfg.SyncObjects, MirrorDeletes: cfg.MirrorDeletes, Download: dl, Logger: log,
	})
	secs := sum.Elapsed.Seconds()
	attrs := []any{"bucket", cfg.Bucket, "prefix", cfg.Prefix, "pattern", cfg.Pattern, "mirror_deletes", cfg.MirrorDeletes,
		"listed", sum.Listed, "checked", sum.Checked, "downloaded", sum.Downloaded, "new", sum.New, "updated", sum.Updated,
		"folders", sum.Folders, "up_to_date", sum.UpToDate, "reverified", sum.Reverified, "conflicts", sum.Conflicts,
		"skipped", sum.Skipped, "skipped_unsafe", sum.Unsafe, "failed", sum.Failed, "vanished", sum.Vanished,
		"deleted", sum.Deleted, "kept", sum.Kept,
		"bytes", sum.Bytes, "flushes", sum.Flushes, "seconds", round(secs, 3), "files_per_s", round(float64(sum.Downloaded)/max(secs, 1e-9), 1)}
	if err == nil {
		log.Info("sync complete", attrs...)
		return syncReport(sum, exitcode.OK, nil)
	}
	c, err := code(err)
	log.Error("sync incomplete", append(attrs, "exit_code", int(c), "class", c.String(), "error", err.Error())...)
	stderrLine(r.stderr, c, err)
	return syncReport(sum, c, err)
}

// finish completes the report (task ARN, bounds), sends it to the state
// that started the task when it passed its token, and writes it as the
// last line on stdout. Neither changes the exit code.
func (r *runner) finish(rep *contract.Report) {
	rep.Mode = r.mode
	rep.Summary = contract.Cut(rep.Summary, contract.MaxSummary)
	rep.Reason = contract.Cut(rep.Reason, report.MaxReason)
	if len(rep.FailedKeys) > contract.MaxReportedKeys {
		rep.FailedKeys = rep.FailedKeys[:contract.MaxReportedKeys]
	}
	if arn, err := report.TaskARN(r.getenv, time.Second); err != nil {
		r.log.Warn("could not read the task's ARN from the task metadata endpoint", "error", err.Error())
	} else {
		rep.TaskArn = arn
	}
	if token := r.getenv(contract.EnvTaskToken); token != "" {
		if err := r.send(token, *rep); err != nil {
			r.log.Warn("could not send the report to Step Functions; the state machine falls back to the exit code",
				"error", err.Error(), "exit_code", rep.ExitCode)
		}
	}
	if err := report.Line(r.stdout, version, time.Now(), *rep); err != nil {
		fmt.Fprintf(r.stderr, "edge-drop-task: write report: %v\n", err)
	}
}

// send sends the report with the run's AWS configuration (or the SDK's
// defaults, when the run failed before loading it).
func (r *runner) send(token string, rep contract.Report) error {
	if r.aws == nil {
		cfg, err := s3conn.Load(context.Background(), s3conn.Options{Logger: r.log})
		if err != nil {
			return err
		}
		r.aws = &cfg
	}
	return report.Send(report.Client(*r.aws), token, rep, r.end)
}

// stderrLine writes a failure's one line on stderr and returns its code.
func stderrLine(stderr io.Writer, code exitcode.Code, err error) exitcode.Code {
	fmt.Fprintf(stderr, "edge-drop-task: %s (exit %d %s)\n", err, int(code), code)
	return code
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
