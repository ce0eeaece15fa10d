package download

import (
	"context"
	"errors"
	"os"
	"path"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/fsync"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// Commit (7.). A staged delivery is a verified file in the path's partial
// with its pending record written; committing it takes four steps:
//
//  1. flush: the file's bytes and the pending record are made durable;
//  2. place: the file at the path is kept aside if it must be (a conflict
//     copy), the partial renamed over the path, its identity read;
//  3. record: the record completed with that identity, renamed into place;
//  4. flush: the rename and the record are made durable; only then is the
//     delivery reported done (and its path's lock released).
//
// Alone (download mode), 1 and 4 are fdatasync/fsync of the delivery's own
// files and directories. A Batch (sync mode) commits many deliveries with
// one syncfs per batch: step 4 of one batch is step 1 of the next.
//
// What a crash leaves, at each point (record.Record.Pending, Previous):
// before 1 completes, a partial and maybe a pending record (the path holds
// what it held); after 1, the pending record names this delivery's
// checksum and the partial's identity, so whether or not the rename and
// the record reached the disk, the next delivery finds at the path either
// the file that was there (known by the old record, or the new record's
// Previous) or this delivery's (known by the pending record, or the new
// record): never a file it takes for a person's.

// committer makes staged deliveries durable and recorded, then calls their
// done (maybe later, from another goroutine).
type committer interface{ commit(*staged) }

// staged is a delivery between its verified download and its commit.
type staged struct {
	d         *delivery
	ctx       context.Context
	rel, base string
	keep      bool // keep the file at rel as a conflict copy
	ours      bool // rel's record was this key's
	res       Result
	done      func(Result, error)

	lock    *statedir.KeyLock // rel's; released after the commit
	dir     *os.File          // rel's directory
	part    *statedir.Partial
	release func() // gives back the space reserved
	mem     bool   // the data dir is memory-backed (tmpfs): no flush to wait for
	nr      record.Record
	rv      *record.Reservation

	kept    *aside // the file that was at rel, under its conflict copy's name
	id      *record.Identity
	placed  bool
	resumed bool // the partial held an interrupted download of this version
}

// alone commits one delivery with its own flushes, so a single download
// never waits for what other programs wrote to the file system.
type alone struct{}

func (alone) commit(s *staged) {
	err := s.flushFile()
	if err == nil {
		err = s.place(true)
	}
	if err == nil {
		err = s.record(true)
	}
	if err == nil {
		if err = s.dir.Sync(); err != nil {
			err = exitcode.Errorf(exitcode.LocalIO, "fsync %s: %w", path.Dir(s.rel), err)
		}
	}
	s.finish(err)
}

// flushFile makes the file's bytes and the pending record durable.
func (s *staged) flushFile() error {
	if err := fsync.Data(s.part.File); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "fsync: %w", err)
	}
	if err := s.rv.Sync(); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "fsync the pending record of %s: %w", s.rel, err)
	}
	return nil
}

// place keeps the file at rel aside if it must be (a hard link named as a
// conflict copy, so rel never goes missing), renames the partial over rel
// and reads the new file's identity (the rename set its ctime). With
// lastChance, a SIGTERM that came meanwhile stops it cleanly first.
func (s *staged) place(lastChance bool) error {
	root := s.d.b.root
	if s.keep {
		var err error
		if s.kept, err = keepAside(root, s.rel); err != nil {
			return err
		}
	}
	if ctx := s.ctx; lastChance && ctx.Err() != nil {
		s.kept.undo(false)
		return exitcode.New(classify(ctx, ctx.Err()), context.Cause(ctx))
	}
	if err := s.part.Rename(s.dir, s.base); err != nil {
		s.kept.undo(false)
		if errors.Is(err, syscall.EXDEV) {
			return exitcode.Errorf(exitcode.LocalIO, "rename into place: %s is on another file system than %s; the data dir must be one file system",
				path.Dir(path.Join(s.d.o.DataDir, s.rel)), path.Join(s.d.o.DataDir, statedir.TmpDir))
		}
		return rootErr(err)
	}
	s.placed = true
	if fi, err := s.part.File.Stat(); err == nil {
		if id, ok := record.IdentityOf(fi); ok {
			s.id = &id
		}
	}
	return nil
}

// record completes the record with the file's identity (and with sync
// makes it durable). If that fails the delivery is undone: a file no
// record describes would be taken for a person's, so what was at rel goes
// back (the kept file), or the new file and the old record go.
func (s *staged) record(sync bool) error {
	var err error
	if sync {
		err = s.rv.Commit(s.id)
	} else {
		err = s.rv.Complete(s.id)
	}
	s.rv = nil // completed or cancelled
	if err == nil {
		return nil
	}
	if s.kept != nil {
		err = errors.Join(err, s.kept.undo(true))
	} else {
		err = errors.Join(err, s.d.b.root.Remove(s.rel), s.d.b.records.Remove(s.rel))
	}
	return exitcode.Errorf(exitcode.LocalIO, "the delivery record of %s could not be written; the delivery was undone: %w", s.rel, err)
}

// finish releases what the delivery held and reports it.
func (s *staged) finish(err error) {
	if err != nil && !s.placed {
		s.abort(false)
	} else {
		s.close()
	}
	res := s.res
	if err == nil {
		if s.kept != nil {
			res.ConflictCopy = s.kept.name
		}
		s.d.noteConflict(&res, s.ours)
	}
	res.Elapsed = time.Since(s.d.start)
	s.done(res, err)
}

// close releases the delivery's files and lock (its partial was renamed).
func (s *staged) close() {
	if s.part != nil {
		s.part.Close()
		s.part = nil
	}
	s.abort(false)
}

// abort gives back everything a delivery that will not be committed took:
// the pending record, the space, the partial (kept for resuming, or
// removed), the directory, the lock.
func (s *staged) abort(keepPartial bool) {
	if s.rv != nil {
		s.rv.Cancel()
		s.rv = nil
	}
	if s.release != nil {
		s.release()
		s.release = nil
	}
	if s.part != nil {
		if keepPartial {
			s.part.Close()
		} else if err := s.part.Discard(); err != nil {
			s.d.o.Logger.Warn("could not remove temp file", "path", path.Join(s.d.o.DataDir, s.part.Name()), "error", err.Error())
		}
		s.part = nil
	}
	if s.dir != nil {
		s.dir.Close()
		s.dir = nil
	}
	if s.lock != nil {
		s.lock.Unlock()
		s.lock = nil
	}
}

// Batches: at most batchFiles deliveries or batchBytes share one flush; a
// batch is flushed as soon as no delivery is running, or when its first
// one has waited batchWait (a large download running beside it).
const (
	batchFiles = 64
	batchBytes = 256 << 20
	batchWait  = time.Second
)

// Batch commits the deliveries of a sync in groups that share their
// flushes: one syncfs(2) makes a whole batch's files and pending records
// durable, and also the renames and records of the batch before it. A
// delivery is reported done (its done called, its path's lock released)
// only once its rename and record are durable. Close flushes the rest.
type Batch struct {
	b   *Board
	fsF *os.File // any file on the data dir's file system, for syncfs

	mu       sync.Mutex
	queue    []*staged
	bytes    int64
	oldest   time.Time
	running  int
	closing  bool
	kick     chan struct{}
	finished chan struct{}
	// Flushes counts the syncfs calls (for tests and benchmarks).
	Flushes int
}

// NewBatch starts a batch committer for deliveries on b. Off Linux, where
// there is no syncfs, each delivery is committed alone.
func (b *Board) NewBatch() (*Batch, error) {
	bt := &Batch{b: b, kick: make(chan struct{}, 1), finished: make(chan struct{})}
	if runtime.GOOS != "linux" {
		close(bt.finished)
		return bt, nil
	}
	f, err := openDir(b.root, ".")
	if err != nil {
		return nil, exitcode.Errorf(exitcode.LocalIO, "open data dir: %w", err)
	}
	bt.fsF = f
	go bt.loop()
	return bt, nil
}

// Deliver runs one delivery (as Board.Deliver) whose commit joins a batch;
// done is called once it is durable, or failed.
func (bt *Batch) Deliver(ctx context.Context, api API, o Options, done func(Result, error)) {
	bt.mu.Lock()
	bt.running++
	bt.mu.Unlock()
	bt.b.deliver(ctx, api, o, bt, done)
	bt.mu.Lock()
	bt.running--
	bt.mu.Unlock()
	bt.wake()
}

// commit queues a staged delivery for the next batch.
func (bt *Batch) commit(s *staged) {
	if bt.fsF == nil {
		alone{}.commit(s)
		return
	}
	bt.mu.Lock()
	if len(bt.queue) == 0 {
		bt.oldest = time.Now()
	}
	bt.queue = append(bt.queue, s)
	bt.bytes += s.res.Bytes
	bt.mu.Unlock()
	bt.wake()
}

func (bt *Batch) wake() {
	select {
	case bt.kick <- struct{}{}:
	default:
	}
}

// Close commits what is queued, makes it durable, and stops the batch.
func (bt *Batch) Close() {
	bt.mu.Lock()
	bt.closing = true
	bt.mu.Unlock()
	bt.wake()
	<-bt.finished
	if bt.fsF != nil {
		bt.fsF.Close()
	}
}

// loop commits batches until Close: flush (this batch's files, the last
// batch's renames and records), report the last batch, place and record
// this one.
func (bt *Batch) loop() {
	defer close(bt.finished)
	var placed []*staged
	var placedAt time.Time
	for {
		items, last := bt.next(len(placed) > 0, placedAt)
		if len(items) == 0 && len(placed) == 0 && last {
			return
		}
		err := bt.flush()
		for _, s := range placed {
			s.finish(err)
		}
		placed = nil
		for _, s := range items {
			if err != nil {
				s.finish(err)
				continue
			}
			if err := s.place(false); err != nil {
				s.finish(err)
				continue
			}
			if err := s.record(false); err != nil {
				s.finish(err)
				continue
			}
			// Durable with the next flush; until then the file's lock is held.
			s.part.Close()
			s.part = nil
			s.dir.Close()
			s.dir = nil
			placed = append(placed, s)
		}
		placedAt = time.Now()
	}
}

// next waits for a batch to be due and takes it; last says Close was
// called (whatever is queued is taken then).
func (bt *Batch) next(havePlaced bool, placedAt time.Time) ([]*staged, bool) {
	for {
		bt.mu.Lock()
		n := len(bt.queue)
		idle := bt.running == 0
		due := bt.closing || n >= batchFiles || bt.bytes >= batchBytes ||
			n > 0 && (idle || time.Since(bt.oldest) >= batchWait) ||
			havePlaced && (idle || time.Since(placedAt) >= batchWait)
		if due {
			items, last := bt.queue, bt.closing
			bt.queue, bt.bytes = nil, 0
			bt.mu.Unlock()
			return items, last
		}
		bt.mu.Unlock()
		t := time.NewTimer(batchWait / 4)
		select {
		case <-bt.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// flush makes everything written to the data dir's file system durable.
func (bt *Batch) flush() error {
	bt.Flushes++
	if err := fsync.FileSystem(bt.fsF); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "syncfs: %w", err)
	}
	return nil
}
