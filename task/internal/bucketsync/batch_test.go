package bucketsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
)

// A sync makes its files durable in batches: for 200 new objects a
// handful of flushes (syncfs), not one (or four) per file; the next sync,
// with nothing to deliver, flushes nothing.
func TestSyncFlushesInBatches(t *testing.T) {
	e := newEnv(t)
	const n = 200
	for i := range n {
		e.put(fmt.Sprintf("demo-%03d.txt", i), content(i, 1))
	}
	sum := e.mustRun()
	if sum.New != n {
		t.Fatalf("new %d, want %d", sum.New, n)
	}
	for i := range n {
		if got, ok := e.file(fmt.Sprintf("demo-%03d.txt", i)); !ok || string(got) != string(content(i, 1)) {
			t.Fatalf("demo-%03d.txt: %q", i, got)
		}
	}
	t.Logf("%d flushes for %d files", sum.Flushes, n)
	if sum.Flushes < 1 || sum.Flushes > n*5/100 {
		t.Errorf("%d flushes for %d files, want at most 5 per 100", sum.Flushes, n)
	}
	if again := e.mustRun(); again.Flushes != 0 || again.Downloaded != 0 {
		t.Errorf("no-change sync: %d flushes, %d downloaded", again.Flushes, again.Downloaded)
	}
}

// The bandwidth budget is the task's, shared by the sync's workers: four
// objects of 512 KiB at once at 1 MiB/s take about 2 s (only a lower bound
// is asserted: a loaded machine only makes it slower).
func TestSyncSharesTheBudget(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		e.put(fmt.Sprintf("demo-%d.txt", i), make([]byte, 512<<10))
	}
	e.o.Download.Limiter = download.NewLimiter(1<<20, nil, nil)
	defer e.o.Download.Limiter.Close()
	start := time.Now()
	if sum, err := e.run(); err != nil || sum.New != 4 {
		t.Fatalf("sync: %v, %+v", err, sum)
	}
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Fatalf("2 MiB at 1 MiB/s took %v: the workers do not share the budget", took)
	}
}
