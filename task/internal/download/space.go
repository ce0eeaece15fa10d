package download

import (
	"fmt"
	"os"
	"sync"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// recordSlack is what a delivery needs beside its file: its record (and
// the file system's own blocks for the names).
const recordSlack = 16 << 10

// space keeps the free-space floor. Deliveries of one task reserve their
// bytes one at a time (check, then allocate), so two of a sync cannot both
// pass the check with room for one; on tmpfs, where nothing is allocated
// up front, the bytes promised but not yet written are counted here.
type space struct {
	mu       sync.Mutex
	promised int64
}

// reserve makes room for the partial f of a size-byte object that holds
// have bytes already (a resumed download): the floor first (evicting kept
// partials of other paths if that makes room), then preallocation. The
// returned release gives back what was promised; mem says the file system
// is memory-backed (tmpfs, ramfs).
func (d *delivery) reserve(f *os.File, fresh bool, size int64, rel, what string) (release func(), mem bool, err error) {
	s := &d.b.space
	s.mu.Lock()
	defer s.mu.Unlock()
	need := size
	if !fresh {
		need = max(size-allocated(f), 0)
	}
	total, free, mem, err := fsSpace(f)
	if err == nil && d.o.Floor != nil {
		floor := d.o.Floor(total)
		if left := free - s.promised - need - recordSlack; left < floor {
			if r, _ := d.b.state.Evict(floor-left, rel); r.Files > 0 {
				d.o.Logger.Info("removed interrupted downloads to make room", "files", r.Files, "bytes", r.Bytes, "for", what)
				total, free, _, _ = fsSpace(f)
			}
		}
		if left := free - s.promised - need - recordSlack; left < floor {
			return nil, mem, exitcode.Errorf(exitcode.LocalIO, "not enough free space in %s: %s needs %s more and would leave %s of %s free, below the floor of %s (%s=%s); %s free now; nothing written",
				d.o.DataDir, what, human(need), human(max(left, 0)), human(total), human(floor), contract.EnvMinFree, d.o.FloorSetting, human(max(free-s.promised, 0)))
		}
	}
	if err := allocate(f, size, mem, free-s.promised); err != nil {
		return nil, mem, exitcode.Errorf(exitcode.LocalIO, "reserve %d bytes for %s: %w", size, what, err)
	}
	if !mem {
		return func() {}, false, nil
	}
	s.promised += need
	return func() {
		s.mu.Lock()
		s.promised -= need
		s.mu.Unlock()
	}, true, nil
}

// human writes a byte count for people: 1.5 GiB, 256 MiB, 12 KiB, 7 B.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
