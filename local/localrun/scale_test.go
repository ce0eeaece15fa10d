package localrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// fleetRun is one delivery of one upload to a local fleet of n boards with
// real task processes: what it cost and what landed.
type fleetRun struct {
	boards, intact, executions int
	transitions                int64
	wall                       time.Duration
	status                     string
	peakRSSKiB                 int64
	summary                    contract.FleetSummary // a paged delivery's output
}

// deliverToFleet starts the pipeline synthesized with ctx on n boards
// (b1…bn, via the -boards range parser), uploads one object and waits for
// its execution; every board's file is then read back.
func deliverToFleet(t testing.TB, n int, ctx map[string]string) fleetRun {
	t.Helper()
	boards, err := ParseBoards(fmt.Sprintf("b[1-%d]", n))
	if err != nil {
		t.Fatal(err)
	}
	asm := synthFleet(t, ctx)
	var transitions atomic.Int64
	execs := map[string]bool{}
	var mu sync.Mutex
	h := start(t, asm, Options{ObjectDir: t.TempDir(), TaskSlots: 2, Boards: boards,
		Observer: func(exec string, e asl.Event) {
			if e.Kind == asl.EventStateEntered {
				transitions.Add(1)
			}
			if e.Kind == asl.EventExecutionStarted { // a paged delivery's children report as their parent
				mu.Lock()
				execs[fmt.Sprint(exec, len(execs))] = true
				mu.Unlock()
			}
		}})
	body := []byte("one object for every board of the fleet\n")
	began := time.Now()
	h.put("demo-scale.txt", body)
	var r Result
	select {
	case r = <-h.p.Results():
	case <-time.After(30 * time.Minute):
		t.Fatal("the delivery did not end within 30 minutes")
	}
	mu.Lock()
	run := fleetRun{boards: n, wall: time.Since(began), transitions: transitions.Load(), status: r.Execution.Status, executions: len(execs)}
	mu.Unlock()
	for _, b := range boards {
		got, err := os.ReadFile(filepath.Join(h.data, b.Name, "demo-scale.txt"))
		if err == nil && bytes.Equal(got, body) {
			run.intact++
		}
	}
	run.peakRSSKiB = peakRSS()
	if out, ok := r.Execution.Output.(map[string]any); ok {
		b, _ := json.Marshal(out)
		_ = json.Unmarshal(b, &run.summary)
	}
	if r.Execution.Status != asl.StatusSucceeded {
		t.Errorf("%d boards: %s %s %s", n, r.Execution.Status, r.Execution.Error, r.Execution.Cause)
	}
	return run
}

// peakRSS is this process's high-water resident set (VmHWM), in KiB; the
// task processes are not in it.
func peakRSS() int64 {
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// A fleet made with a range gets the file on every board, real task
// processes and all: the small version of BenchmarkFleetAtSize.
func TestFleetOfFiftyBoardsFromARange(t *testing.T) {
	if testing.Short() {
		t.Skip("50 task processes")
	}
	run := deliverToFleet(t, 50, map[string]string{"deliverTo": "all"})
	if run.intact != 50 || run.status != asl.StatusSucceeded {
		t.Errorf("%d of 50 boards hold the file (%s)", run.intact, run.status)
	}
}

// BenchmarkFleetAtSize delivers one upload to EDGE_DROP_BENCH_BOARDS
// boards (default 2,000) with real task processes, as
// `demo -boards 'b[1-2000]' -c deliverTo=all -once` does, and prints a
// table: wall time, state transitions, executions, peak RSS of the
// pipeline process. EDGE_DROP_BENCH_MAX_BOARDS sets -c maxBoards.
//
//	make bench-fleet
func BenchmarkFleetAtSize(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("EDGE_DROP_BENCH_BOARDS")); err == nil && v > 0 {
		n = v
	}
	ctx := map[string]string{"deliverTo": "all"}
	if v := os.Getenv("EDGE_DROP_BENCH_MAX_BOARDS"); v != "" {
		ctx["maxBoards"] = v
	}
	for range b.N {
		run := deliverToFleet(b, n, ctx)
		fmt.Printf("\nBenchmarkFleetAtSize: one upload, deliverTo=all, real task processes, %v\n", ctx)
		fmt.Printf("| boards | intact | status | executions | state transitions | transitions/board | wall s | boards/s | peak RSS MiB (pipeline) |\n|---:|---:|---|---:|---:|---:|---:|---:|---:|\n")
		fmt.Printf("| %d | %d | %s | %d | %d | %.1f | %.1f | %.1f | %.0f |\n", run.boards, run.intact, run.status, run.executions, run.transitions,
			float64(run.transitions)/float64(n), run.wall.Seconds(), float64(run.intact)/run.wall.Seconds(), float64(run.peakRSSKiB)/1024)
		b.ReportMetric(run.wall.Seconds(), "s/delivery")
		b.ReportMetric(float64(run.transitions), "transitions")
		if run.intact != n {
			b.Fatalf("%d of %d boards hold the file", run.intact, n)
		}
	}
}

// A paged delivery (maxBoards past one execution's bounds) runs one child
// execution per page of 100 in-process, real tasks on every board, and
// its output is the fleet's summary.
func TestPagedDeliveryReachesEveryBoardOfAFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("250 task processes")
	}
	run := deliverToFleet(t, 250, map[string]string{"deliverTo": "all", "maxBoards": "10000"})
	if run.intact != 250 || run.status != asl.StatusSucceeded {
		t.Errorf("%d of 250 boards hold the file (%s)", run.intact, run.status)
	}
	if run.executions != 1+3 { // the parent and one child per page of 100
		t.Errorf("%d executions, want the parent and 3 children", run.executions)
	}
	if run.summary.Boards != 250 || run.summary.Counts["delivered"] != 250 || run.summary.Undelivered != 0 {
		t.Errorf("summary %+v", run.summary)
	}
}
