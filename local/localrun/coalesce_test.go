package localrun

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// burst is a coalesced burst's figures.
type burst struct {
	uploads, executions, failed int
	tasks                       int64
	intact, lost, corrupt       int
	elapsed, last               time.Duration
}

// coalescedBurst uploads n keys (one of them twice: the second version must
// win) over spread to three boards with deliverTo=all and coalesceWindow,
// waits for every batch's execution and checks every board's files.
func coalescedBurst(t testing.TB, n int, spread time.Duration, window string, size int) burst {
	asm := synthFleet(t, map[string]string{"deliverTo": "all", "coalesceWindow": window})
	var tasks atomic.Int64
	h := start(t, asm, Options{ObjectDir: t.TempDir(), TaskSlots: 4, Boards: threeBoards, Observer: func(_ string, e asl.Event) {
		if e.Kind == asl.EventStateEntered && e.State == contract.StateDeliverBoard {
			tasks.Add(1)
		}
	}})
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = randomBytes(size)
	}
	newer := randomBytes(size + 1) // key 0, uploaded again at the end
	begin := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		at := begin.Add(spread * time.Duration(i) / time.Duration(n))
		wg.Go(func() {
			time.Sleep(time.Until(at))
			sem <- struct{}{}
			defer func() { <-sem }()
			h.put(fmt.Sprintf("demo-burst/%04d.txt", i), bodies[i])
		})
	}
	wg.Wait()
	h.put("demo-burst/0000.txt", newer)
	bodies[0] = newer
	b := burst{uploads: n + 1}
	for seen := 0; seen < b.uploads; {
		select {
		case r := <-h.p.Results():
			b.executions++
			seen += max(len(r.Batch), 1)
			if r.Execution == nil || r.Execution.Status != asl.StatusSucceeded {
				b.failed++
				if r.Execution != nil {
					t.Logf("batch of %d: %s %s %s", len(r.Batch), r.Execution.Status, r.Execution.Error, r.Execution.Cause)
				}
			}
		case <-time.After(5 * time.Minute):
			t.Fatalf("%d of %d uploads' executions ended in 5 minutes", seen, b.uploads)
		}
	}
	b.elapsed = time.Since(begin)
	b.tasks = tasks.Load()
	for _, board := range []string{"a", "b", "c"} {
		for i := range n {
			got, err := os.ReadFile(filepath.Join(h.data, board, fmt.Sprintf("demo-burst/%04d.txt", i)))
			switch {
			case err != nil:
				b.lost++
			case !bytes.Equal(got, bodies[i]):
				b.corrupt++
			default:
				b.intact++
			}
		}
		if tmp, _ := os.ReadDir(filepath.Join(h.data, board, contract.StateDirName, "tmp")); len(tmp) > 0 {
			t.Errorf("board %s: %d temp files left", board, len(tmp))
		}
	}
	return b
}

// A burst of 60 uploads in a second, coalesced with a 1-s window: every
// board holds every file, the re-uploaded key in its newest version; a
// tenth of the executions and of the board tasks.
func TestCoalescedBurstDeliversEveryKeyToEveryBoard(t *testing.T) {
	b := coalescedBurst(t, 60, time.Second, "1s", 4<<10)
	if b.failed > 0 || b.lost > 0 || b.corrupt > 0 || b.intact != 180 {
		t.Fatalf("%+v: want 180 intact files, no failed execution", b)
	}
	if b.executions*10 > b.uploads || int(b.tasks)*10 > b.uploads*3 {
		t.Errorf("%d executions and %d board tasks for %d uploads to 3 boards: want at most a tenth of each", b.executions, b.tasks, b.uploads)
	}
	t.Logf("%d uploads: %d executions, %d board tasks, %.1f s", b.uploads, b.executions, b.tasks, b.elapsed.Seconds())
}

// BenchmarkCoalescedBurst: 1,000 uploads in 10 s to 3 boards with
// coalesceWindow=5s (issue 22's proof). Run with -benchtime 1x; it prints
// a table.
func BenchmarkCoalescedBurst(b *testing.B) {
	for range b.N {
		r := coalescedBurst(b, 1000, 10*time.Second, "5s", 4<<10)
		fmt.Printf("\nBenchmarkCoalescedBurst: 1,000 uploads (+1 re-upload) of 4 KiB in 10 s, deliverTo=all, 3 boards x 4 task slots, coalesceWindow=5s, batch %d\n", pipeline.CoalesceBatchSize)
		fmt.Printf("| uploads | executions | board tasks | files expected | intact | lost | corrupt | failed executions | seconds to the last file |\n")
		fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		fmt.Printf("| %d | %d (%.3f per upload) | %d (%.3f per upload per board) | %d | %d | %d | %d | %d | %.1f |\n", r.uploads, r.executions,
			float64(r.executions)/float64(r.uploads), r.tasks, float64(r.tasks)/float64(r.uploads*3), 3000, r.intact, r.lost, r.corrupt, r.failed, r.elapsed.Seconds())
		if r.failed > 0 || r.lost > 0 || r.corrupt > 0 || r.executions*10 > r.uploads || int(r.tasks)*10 > r.uploads*3 {
			b.Fatalf("%+v", r)
		}
	}
}
