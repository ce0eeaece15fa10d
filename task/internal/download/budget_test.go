package download_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/logtest"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// The bandwidth budget holds for all the task's downloads together: two
// deliveries at once share one limit. Only a lower bound on the time is
// asserted (a loaded machine only makes it slower); without the limit the
// same deliveries take a few milliseconds. The speed itself is measured in
// bench/budget.sh.
func TestBandwidthBudgetShared(t *testing.T) {
	e := newEnv(t)
	const size, rate = 1 << 20, 1 << 20 // two objects of 1 MiB at 1 MiB/s: at least ~2 s
	a, b := randBytes(size, 51), randBytes(size, 52)
	e.srv.Put(t, bucket, "a.bin", a, nil)
	e.srv.Put(t, bucket, "b.bin", b, nil)
	var logs logtest.Buffer
	lim := download.NewLimiter(rate, nil, logs.Logger())
	defer lim.Close()
	o := e.o
	o.Limiter = lim
	o.Logger = logs.Logger()
	start := time.Now()
	var wg sync.WaitGroup
	for _, k := range []string{"a.bin", "b.bin"} {
		wg.Go(func() {
			if _, err := e.runOpts(context.Background(), k, o); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Fatalf("2 MiB at 1 MiB/s took %v: the budget is not shared (or not applied)", took)
	}
	if !bytes.Equal(e.content("a.bin"), a) || !bytes.Equal(e.content("b.bin"), b) {
		t.Fatal("content differs")
	}
	// Progress lines: a bounded number, with the limit in force.
	progress := logs.Lines("progress")
	if len(progress) == 0 || len(progress) > 2*11 {
		t.Fatalf("%d progress lines, want some and at most 11 per delivery", len(progress))
	}
	if progress[0]["rate_limit"] != float64(rate) || progress[0]["of"] != float64(size) {
		t.Errorf("progress line %v", progress[0])
	}
}

// A delivery that would leave less free space than the floor fails before
// the first byte, with the numbers; kept partials of other paths give way
// first.
func TestFreeSpaceFloor(t *testing.T) {
	e := newEnv(t)
	e.dir = mountTmpfs(t, "8m")
	data := randBytes(3<<20, 61)
	e.srv.Put(t, bucket, "big.bin", data, nil)

	o := e.o
	o.Floor, o.FloorSetting = func(total int64) int64 { return total * 3 / 4 }, "75%"
	e.srv.SetRule(nil)
	_, err := e.runOpts(context.Background(), "big.bin", o)
	if exitcode.Of(err) != exitcode.LocalIO || e.srv.Count(http.MethodGet) != 0 {
		t.Fatalf("exit %d (%v) after %d GETs, want 6 before the first", exitcode.Of(err), err, e.srv.Count(http.MethodGet))
	}
	for _, want := range []string{"not enough free space in ", "needs 3 MiB more and would leave", "of 8 MiB free, below the floor of 6 MiB (EDGE_DROP_MIN_FREE=75%)", "nothing written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	e.noTemp()

	// An interrupted download of another path holds ~2.5 MiB; with a 3 MiB
	// floor the new delivery fits only if that partial goes.
	other := randBytes(4<<20, 62)
	e.srv.Put(t, bucket, "other.bin", other, nil)
	e.interrupt("other.bin", int64(len(other)), 40, 0.55)
	o = e.resumable()
	o.Floor, o.FloorSetting = func(int64) int64 { return 3 << 20 }, "3MiB"
	e.srv.SetRule(nil)
	if _, err := e.runOpts(context.Background(), "big.bin", o); err != nil {
		t.Fatalf("the kept partial did not give way: %v", err)
	}
	if !bytes.Equal(e.content("big.bin"), data) {
		t.Fatal("content differs")
	}
	if _, err := os.Stat(filepath.Join(e.dir, statedir.TmpDir, statedir.Name("other.bin")+".part")); !os.IsNotExist(err) {
		t.Fatalf("the other path's partial is still there: %v", err)
	}
}
