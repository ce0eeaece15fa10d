package download_test

import (
	"bytes"
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A download runs at most two checkpoints ahead of the disk: while a
// checkpoint is held, a delivery on a disk stops fetching. On tmpfs, whose
// flush writes nothing and whose page cache is the file, nothing waits for
// the checkpointer (a busy machine may not run it for a while): there the
// delivery fetches to the end meanwhile (it waited, 1.32x s5cmd's time for
// 1 GiB on tmpfs under load, before).
func TestDurabilityWindow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tmpfs bool
	}{{"disk", false}, {"tmpfs", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var st syscall.Statfs_t
			if tc.tmpfs {
				e.dir = mountTmpfs(t, "16m")
			} else if syscall.Statfs(e.dir, &st) != nil || st.Type == 0x01021994 {
				t.Skip("the test's temp dir is on tmpfs")
			}
			const size = 4 << 20
			data := randBytes(size, 71)
			e.srv.Put(t, bucket, "w.bin", data, nil)
			e.srv.SetRule(nil)
			o := e.resumable() // a checkpoint every 128 KiB: a window of 256 KiB
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			o.Hooks.Checkpoint = func(int64) { once.Do(func() { close(held); <-release }) }
			done := make(chan error, 1)
			go func() { _, err := e.runOpts(context.Background(), "w.bin", o); done <- err }()
			<-held

			// Parts are 64 KiB, three workers: on a disk the server sends
			// the window and the parts in flight, far from the whole.
			deadline := time.Now().Add(10 * time.Second)
			if !tc.tmpfs {
				deadline = time.Now().Add(500 * time.Millisecond)
			}
			for e.srv.BodyBytes() < size && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sent := e.srv.BodyBytes()
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.content("w.bin"), data) {
				t.Fatal("content differs")
			}
			switch {
			case tc.tmpfs && sent < size:
				t.Errorf("tmpfs: %d of %d bytes fetched while a checkpoint was held: the download waited for it", sent, size)
			case !tc.tmpfs && sent > 1<<20:
				t.Errorf("disk: %d of %d bytes fetched while a checkpoint was held: the window did not hold", sent, size)
			}
		})
	}
}
