package download

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/fsync"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// Resuming across crashes. While a download runs, its partial
// (.edge-drop/tmp/<h>.part) has a progress record beside it (<h>.resume):
// the object's version (bucket, key, ETag, version id, size), the check
// and the part layout, and for each part how many of its bytes are on disk
// with their hash's state (a complete part: its digest; a whole-object
// hash: its state after the first parts). A checkpoint first makes the
// partial's bytes durable (fdatasync), then replaces the record (a new
// file renamed over it): the record never names a byte that is not on
// disk, and a record lost or torn by a power cut (it does not parse) only
// means less to resume. The next delivery of the same version continues
// from it: each part it names is read back and hashed, and continues from
// its end when the hash is the recorded one (else it is fetched again);
// another version, another check or layout discards it.

// progressVersion is the record's format; another one is discarded.
const progressVersion = 1

// Checkpoints: after Options.CheckpointBytes (default 8 MiB) more bytes
// are on disk, or every checkpointEvery when fewer arrived. 8 MiB: at
// most that much (plus a MiB per worker) is fetched again after a crash,
// while a GiB costs 128 small records and flushes, which the disk does
// anyway.
const (
	defaultCheckpointBytes = 8 << 20
	checkpointEvery        = time.Second
)

// progress is a partial's progress record.
type progress struct {
	V         int    `json:"v"`
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	ETag      string `json:"etag"`
	VersionID string `json:"version_id,omitempty"`
	Size      int64  `json:"size"`
	// Check is the verifier ("<name>:<expected>"); PartHash what the
	// parts' digests and states are of.
	Check    string `json:"check"`
	PartHash string `json:"part_hash"`
	// PartSize: the parts are ranges of this size; Parts: the upload's
	// parts (byParts checks), their spans as learnt.
	PartSize int64          `json:"part_size,omitempty"`
	Layout   int            `json:"layout,omitempty"`
	Parts    []partProgress `json:"parts"`
	// Whole is a whole-object hash's state after its first WholeParts parts.
	WholeParts int    `json:"whole_parts,omitempty"`
	Whole      []byte `json:"whole,omitempty"`
}

// partProgress is what the record says of one part.
type partProgress struct {
	N     int    `json:"n"`
	Off   int64  `json:"off"`
	Len   int64  `json:"len"`
	Done  int64  `json:"done"`
	Sum   []byte `json:"sum,omitempty"`
	State []byte `json:"state,omitempty"`
	Want  string `json:"want,omitempty"`
}

// header is the record's identification of the download: what must match.
func (d *fetcher) header(partSize int64) progress {
	p := progress{V: progressVersion, Bucket: d.o.Bucket, Key: d.key, ETag: d.etag, VersionID: d.versionID, Size: d.size,
		Check: d.ver.Name + ":" + d.ver.Expected, PartHash: d.partHashName()}
	if d.ver.byParts {
		p.Layout = d.ver.parts
	} else {
		p.PartSize = partSize
	}
	return p
}

func (d *fetcher) partHashName() string {
	if d.ver.part != nil {
		return d.ver.Name
	}
	return "crc32c"
}

// record is the progress now: the header and every part with bytes on
// disk (as the workers last noted them).
func (d *fetcher) record(h progress) progress {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, p := range d.parts {
		if p.written == 0 || (p.sum == nil && p.state == nil) {
			continue
		}
		h.Parts = append(h.Parts, partProgress{N: i, Off: p.span.off, Len: p.span.n, Done: p.written, Sum: p.sum, State: p.state, Want: p.want})
	}
	if d.whole != nil {
		h.WholeParts, h.Whole = d.whole.parts, d.whole.state
	}
	return h
}

// bytes counts what a record names.
func (p progress) bytes() int64 {
	var n int64
	for _, pp := range p.Parts {
		n += pp.Done
	}
	return n
}

// resume lays the parts out from an earlier delivery's record when it is
// of this very download (version, check, layout); it reports whether it
// did.
func (d *fetcher) resume(raw []byte) bool {
	var p progress
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return false
	}
	h := d.header(p.PartSize)
	if p.V != h.V || p.Bucket != h.Bucket || p.Key != h.Key || p.ETag != h.ETag || p.VersionID != h.VersionID ||
		p.Size != h.Size || p.Check != h.Check || p.PartHash != h.PartHash || p.Layout != h.Layout ||
		(!d.ver.byParts && p.PartSize <= 0) {
		return false
	}
	d.plan(p.PartSize)
	for _, pp := range p.Parts {
		if pp.N < 0 || pp.N >= len(d.parts) || pp.Done <= 0 || pp.Done > pp.Len || pp.Off < 0 || pp.Off+pp.Len > d.size {
			return false
		}
		cur := &d.parts[pp.N]
		if cur.known && cur.span != (span{pp.Off, pp.Len}) {
			return false
		}
		*cur = part{span: span{pp.Off, pp.Len}, known: true, written: pp.Done, sum: pp.Sum, state: pp.State, want: pp.Want, kept: true}
	}
	if p.WholeParts > 0 && p.WholeParts <= len(d.parts) && d.ver.whole != nil {
		for i := range p.WholeParts {
			if !d.parts[i].kept || d.parts[i].written != d.parts[i].span.n {
				return true // the hash's state is of parts it no longer has: hashed again
			}
		}
		d.whole = &wholeState{parts: p.WholeParts, state: p.Whole}
	}
	return true
}

// checkpointer writes a download's progress record while it runs. It also
// keeps the download at most window bytes ahead of the disk: a worker that
// would run further waits for the next flush. So a crash costs at most
// that much (and a MiB per worker), and on a board whose network is
// faster than its card the page cache does not fill with bytes that only
// the final flush would write (a 512 MB board has little to spare).
type checkpointer struct {
	f      *fetcher
	p      *statedir.Partial
	every  int64 // a flush and a record after this many bytes noted
	window int64 // how far the noted bytes may run ahead of the flushed ones
	header progress
	hook   func(int64)
	kick   chan struct{}
	stop   chan struct{}
	done   sync.WaitGroup

	mu       sync.Mutex
	noted    int64         // bytes the workers noted
	synced   int64         // of those, flushed and recorded
	advanced chan struct{} // closed when synced moves (or the checkpoints stop)
	stopped  bool
	lastTime time.Time
	last     int64 // bytes the last record named
}

// startCheckpoints records the fetcher's progress in the partial's record
// until end; with gated, the workers stay within the window of the disk.
// On tmpfs nothing is gated: its flush writes nothing and its page cache
// is the file itself, so a worker waiting for the checkpointer (which a
// busy machine may not run for a while) would only slow the download
// (1.32x s5cmd's time for 1 GiB, against 0.96x without resuming).
func startCheckpoints(f *fetcher, p *statedir.Partial, partSize int64, gated bool, hook func(int64)) *checkpointer {
	every := cmp.Or(f.o.CheckpointBytes, defaultCheckpointBytes)
	c := &checkpointer{f: f, p: p, every: every, window: 2 * every, header: f.header(partSize), hook: hook,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), advanced: make(chan struct{}), lastTime: time.Now()}
	f.progressed, f.noteEvery = c.note, min(every/8, snapshotEvery)
	if gated {
		f.gate = c.wait
	}
	c.done.Go(c.loop)
	return c
}

// note is called by the workers with the bytes they noted.
func (c *checkpointer) note(n int64) {
	c.mu.Lock()
	c.noted += n
	due := c.noted-c.synced >= c.every
	c.mu.Unlock()
	if due {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// wait holds a worker while the noted bytes are more than a window ahead
// of the flushed ones.
func (c *checkpointer) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.stopped || c.noted-c.synced <= c.window {
			c.mu.Unlock()
			return nil
		}
		ch := c.advanced
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *checkpointer) loop() {
	defer c.release()
	tick := time.NewTicker(checkpointEvery / 4)
	defer tick.Stop()
	for {
		c.mu.Lock()
		due := c.noted-c.synced >= c.every || c.noted > c.synced && time.Since(c.lastTime) >= checkpointEvery
		c.mu.Unlock()
		if !due {
			select {
			case <-c.stop:
				return
			case <-c.kick:
			case <-tick.C:
			}
			continue
		}
		if err := c.checkpoint(); err != nil {
			c.f.o.Logger.Warn("could not record the download's progress; an interruption now restarts from the last record", "error", err.Error())
			return
		}
	}
}

// release lets every waiting worker go: no more flushes will come.
func (c *checkpointer) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.advanced)
	}
}

// checkpoint makes the noted bytes durable, then records them.
func (c *checkpointer) checkpoint() error {
	c.mu.Lock()
	target := c.noted
	c.lastTime = time.Now()
	c.mu.Unlock()
	rec := c.f.record(c.header) // noted before the flush: durable after it
	if err := fsync.Data(c.p.File); err != nil {
		return err
	}
	if n := rec.bytes(); n != c.last {
		b, err := json.Marshal(rec)
		if err == nil {
			err = c.p.SaveProgress(b)
		}
		if err != nil {
			return err
		}
		c.last = n
		if c.hook != nil {
			c.hook(n)
		}
	}
	c.mu.Lock()
	c.synced = max(c.synced, target)
	if !c.stopped {
		close(c.advanced)
		c.advanced = make(chan struct{})
	}
	c.mu.Unlock()
	return nil
}

// end stops the checkpoints; with keep, one last checkpoint records what
// the workers left (the partial is kept for the next delivery), and it
// reports whether anything is recorded to resume from.
func (c *checkpointer) end(keep bool) bool {
	close(c.stop)
	c.done.Wait()
	if !keep {
		return false
	}
	if err := c.checkpoint(); err != nil {
		c.f.o.Logger.Warn("could not record the download's progress", "error", err.Error())
	}
	return c.last > 0
}

// resumable reports whether a failed download's partial is worth keeping
// for the next delivery of the same version: it stopped (signal, timeout,
// network), it was not wrong.
func resumable(ctx context.Context, err error) bool {
	if errors.Is(err, errObjectChanged) {
		return false
	}
	switch classify(ctx, err) {
	case exitcode.Network, exitcode.Canceled:
		return true
	}
	return false
}
