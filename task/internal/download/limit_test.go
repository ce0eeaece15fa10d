package download

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/edge-drop/edge-drop/contract"
)

// The rate in force follows the timetable in the board's local time,
// capped by the fixed rate; "off" in the timetable leaves the cap.
func TestLimiterFollowsTheTimetable(t *testing.T) {
	table, err := contract.ParseRateSchedule("08:00,512KiB 18:00,off")
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("board", 9*3600)
	for _, c := range []struct {
		max       int64
		at        string
		rate      int64
		limit     rate.Limit
		chunk     int
		nextAfter string
	}{
		{0, "12:00", 512 << 10, 512 << 10, 64 << 10, "18:00"},
		{0, "19:00", 0, rate.Inf, bufSize, "08:00"},
		{0, "07:00", 0, rate.Inf, bufSize, "08:00"},
		{256 << 10, "12:00", 256 << 10, 256 << 10, 32 << 10, "18:00"},
		{256 << 10, "19:00", 256 << 10, 256 << 10, 32 << 10, "08:00"},
		{16 << 20, "12:00", 512 << 10, 512 << 10, 64 << 10, "18:00"},
	} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-07 "+c.at, loc)
		l := newLimiter(c.max, table, nil, func() time.Time { return now })
		next := l.apply()
		l.Close()
		if l.Rate() != c.rate || l.lim.Limit() != c.limit || l.Chunk() != c.chunk || next.Format("15:04") != c.nextAfter {
			t.Errorf("max %d at %s: rate %d, limit %v, chunk %d, next %s; want %d, %v, %d, %s",
				c.max, c.at, l.Rate(), l.lim.Limit(), l.Chunk(), next.Format("15:04"), c.rate, c.limit, c.chunk, c.nextAfter)
		}
	}
	// At 16 MiB/s the bucket holds 2 MiB (an eighth of a second) and a
	// read takes one buffer: a worker held back by the scheduler up to
	// 125 ms catches up (the bucket used to be one buffer: 4 ms).
	l := NewLimiter(16<<20, nil, nil)
	l.Close()
	if l.lim.Burst() != 2<<20 || l.Chunk() != bufSize {
		t.Errorf("16 MiB/s: bucket %d, chunk %d; want 2 MiB, %d", l.lim.Burst(), l.Chunk(), bufSize)
	}
	if NewLimiter(0, nil, nil) != nil {
		t.Error("a limiter without a limit")
	}
	var none *Limiter
	if none.Wait(context.Background(), 1<<30) != nil || none.Chunk() != bufSize || none.Rate() != 0 {
		t.Error("a nil limiter limits")
	}
}

// Wait takes a read larger than the bucket in bucket-sized bites, and a
// canceled wait says why.
func TestLimiterWait(t *testing.T) {
	l := NewLimiter(64<<10, nil, nil)
	defer l.Close()
	if err := l.Wait(context.Background(), 96<<10); err != nil { // more than the 8 KiB bucket
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrSignal)
	if err := l.Wait(ctx, 1<<20); err != ErrSignal {
		t.Fatalf("canceled wait: %v", err)
	}
}
