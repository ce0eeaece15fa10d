package download

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// Board is one task's data dir: opened once (the root, the state dir, the
// records), swept once (temp and lock files killed tasks left behind,
// records of old versions), and shared by every delivery of the task,
// with its free-space floor. Its methods are safe for concurrent use.
type Board struct {
	dataDir string
	root    *os.Root
	state   *statedir.Dir
	records *record.Store
	space   space
	// Fetched counts the bytes every delivery on the board fetched.
	Fetched atomic.Int64
}

// OpenBoard opens the data dir of o and sweeps it: abandoned temp files
// and lock files are removed, interrupted downloads kept within
// o.Partials, records named by key renamed by path.
func OpenBoard(ctx context.Context, o Options) (*Board, error) {
	root, err := os.OpenRoot(o.DataDir)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.LocalIO, "open data dir: %w", err)
	}
	b := &Board{dataDir: o.DataDir, root: root, state: statedir.Open(root), records: record.New(root)}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b.reclaim(o.Partials, log)
	b.migrate(ctx, log)
	return b, nil
}

// Close closes what the board opened.
func (b *Board) Close() error {
	return errors.Join(b.records.Close(), b.state.Close(), b.root.Close())
}

// Root is the data dir.
func (b *Board) Root() *os.Root { return b.root }

// Records is the data dir's delivery records.
func (b *Board) Records() *record.Store { return b.records }

// State is the data dir's state dir.
func (b *Board) State() *statedir.Dir { return b.state }

// reclaim removes temp and lock files that killed tasks left behind, and
// interrupted downloads out of bounds.
func (b *Board) reclaim(bounds statedir.Bounds, log *slog.Logger) {
	r, err := b.state.Reclaim(bounds, time.Now())
	if r.Files > 0 {
		log.Info("reclaimed abandoned temp files", "files", r.Files, "bytes", r.Bytes, "in_use", r.InUse)
	}
	if r.Kept > 0 {
		log.Info("interrupted downloads kept for resuming", "files", r.Kept, "bytes", r.KeptBytes)
	}
	if r.Locks > 0 {
		log.Info("removed lock files nobody held", "files", r.Locks)
	}
	if err != nil {
		log.Warn("could not reclaim every abandoned temp or lock file", "error", err.Error())
	}
}

// migrate renames the delivery records of versions before issue 17 (named
// by key) to their path's name, once per data dir (record.Migrate). A
// failure is logged and retried by the next task: until then a routed
// key's old record is not found, and its file is verified by content.
func (b *Board) migrate(ctx context.Context, log *slog.Logger) {
	n, err := b.records.Migrate(ctx, b.state.Locker())
	if n > 0 {
		log.Info("delivery records renamed by path", "records", n)
	}
	if err != nil && ctx.Err() == nil {
		log.Warn("could not rename every delivery record by its path; the next task tries again", "error", err.Error())
	}
}
