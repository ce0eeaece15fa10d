package download

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/edge-drop/edge-drop/contract"
)

// Limiter is the task's bandwidth budget: one token bucket
// (golang.org/x/time/rate) that every part worker of every delivery takes
// its bytes from, so EDGE_DROP_MAX_RATE holds for the task as a whole,
// sync included. A timetable (EDGE_DROP_RATE_SCHEDULE, the board's local
// time) changes the rate at its entries; the lower of the two applies.
type Limiter struct {
	max   int64
	table contract.RateSchedule
	log   *slog.Logger
	now   func() time.Time

	lim   *rate.Limiter
	chunk atomic.Int64 // bytes a worker reads before it waits: a buffer, at most the bucket
	rate  atomic.Int64 // in force (0: none)
	stop  chan struct{}
	once  sync.Once
}

// NewLimiter returns the budget of max bytes per second (0: none) and the
// timetable, or nil when neither limits anything.
func NewLimiter(max int64, table contract.RateSchedule, log *slog.Logger) *Limiter {
	return newLimiter(max, table, log, time.Now)
}

func newLimiter(max int64, table contract.RateSchedule, log *slog.Logger, now func() time.Time) *Limiter {
	if max == 0 && len(table) == 0 {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{max: max, table: table, log: log, now: now, lim: rate.NewLimiter(rate.Inf, bufSize), stop: make(chan struct{})}
	next := l.apply()
	if len(table) > 0 {
		zone, _ := l.now().Zone()
		log.Info("bandwidth timetable", "schedule", table.String(), "time_zone", zone, "max_rate", contract.FormatRate(max))
		go l.follow(next)
	}
	return l
}

// apply sets the rate in force now and returns when it next changes.
func (l *Limiter) apply() time.Time {
	r, next := l.table.At(l.now())
	if l.max > 0 && (r == 0 || l.max < r) {
		r = l.max
	}
	if old := l.rate.Swap(r); old != r && len(l.table) > 0 {
		l.log.Info("bandwidth limit", "rate", contract.FormatRate(r), "bytes_per_s", r, "until", next.Format(time.RFC3339))
	}
	if r == 0 {
		l.lim.SetLimit(rate.Inf)
		l.chunk.Store(bufSize)
		return next
	}
	// The bucket holds an eighth of a second of bytes (at least 4 KiB):
	// a worker the scheduler held back that long catches up, so the rate
	// holds on a busy board (a bucket of one 64 KiB buffer, 4 ms at
	// 16 MiB/s, lost every longer wait: 1.2x the time under load), and the
	// link sees no burst longer than that. A read takes at most a buffer,
	// and no more than the bucket, so it is never refused.
	b := max(r/8, 4<<10)
	l.lim.SetBurst(int(b))
	l.lim.SetLimit(rate.Limit(r))
	l.chunk.Store(min(b, bufSize))
	return next
}

// follow changes the rate at each of the timetable's entries.
func (l *Limiter) follow(next time.Time) {
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-t.C:
			next = l.apply()
		}
	}
}

// Close stops following the timetable.
func (l *Limiter) Close() {
	if l != nil {
		l.once.Do(func() { close(l.stop) })
	}
}

// Chunk is how many bytes a worker may read at once.
func (l *Limiter) Chunk() int {
	if l == nil {
		return bufSize
	}
	return int(l.chunk.Load())
}

// Rate is the limit in force, in bytes per second (0: none).
func (l *Limiter) Rate() int64 {
	if l == nil {
		return 0
	}
	return l.rate.Load()
}

// Wait takes n bytes from the budget, waiting as long as the rate needs.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	for n > 0 {
		k := min(n, l.lim.Burst())
		if k <= 0 { // no limit
			return nil
		}
		if err := l.lim.WaitN(ctx, k); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if _, deadline := ctx.Deadline(); deadline {
				// WaitN refuses a wait past the deadline: the overall
				// timeout will end the task before these bytes are due.
				<-ctx.Done()
				return context.Cause(ctx)
			}
			continue // the timetable shrank the bucket meanwhile: take less
		}
		n -= k
	}
	return nil
}
