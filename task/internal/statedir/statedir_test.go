package statedir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/flock"
)

func openRoot(t *testing.T) (*os.Root, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, dir
}

func TestReclaimRemovesOnlyAbandonedTempFiles(t *testing.T) {
	root, dir := openRoot(t)
	live, err := CreateTemp(root)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Discard()
	live.File.Write(make([]byte, 1<<20))
	// An abandoned temp file: its writer died, so nobody holds its lock.
	abandoned := filepath.Join(dir, TmpDir, ".edge-drop-0123456789abcdef.part")
	if err := os.WriteFile(abandoned, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not ours: left alone.
	other := filepath.Join(dir, TmpDir, "notes.txt")
	os.WriteFile(other, []byte("x"), 0o644)

	r, err := Reclaim(root)
	if err != nil {
		t.Fatal(err)
	}
	if r.Files != 1 || r.InUse != 1 || r.Bytes < 1<<20 {
		t.Fatalf("Reclaim = %+v, want 1 file of >= 1 MiB removed and 1 in use", r)
	}
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("abandoned temp file still there (%v)", err)
	}
	for _, p := range []string{filepath.Join(dir, live.Name), other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// The live writer commits; the name is gone, nothing to reclaim.
	if _, err := live.Commit("done.bin"); err != nil {
		t.Fatal(err)
	}
	if r, err := Reclaim(root); err != nil || r != (Reclaimed{}) {
		t.Fatalf("second Reclaim = %+v, %v", r, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "done.bin")); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("committed file: %v", err)
	}
}

// A lock file nobody holds (its holder was killed, or a version that kept
// lock files made it) is removed by a task start; a held one stays.
func TestReclaimRemovesUnheldLockFiles(t *testing.T) {
	root, dir := openRoot(t)
	held, err := Lock(context.Background(), root, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	locks := filepath.Join(dir, LocksDir)
	left := filepath.Join(locks, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.lock")
	other := filepath.Join(locks, "notes.txt")
	for _, p := range []string{left, other} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := Reclaim(root); err != nil || r != (Reclaimed{Locks: 1}) {
		t.Fatalf("Reclaim = %+v, %v; want 1 lock file removed", r, err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("unheld lock file still there (%v)", err)
	}
	held.Unlock()
	if ents, err := os.ReadDir(locks); err != nil || len(ents) != 1 || ents[0].Name() != "notes.txt" {
		t.Fatalf("locks dir: %v, %v; want only notes.txt (the held lock's file removed on release)", ents, err)
	}
}

func TestReclaimWithoutStateDir(t *testing.T) {
	root, _ := openRoot(t)
	if r, err := Reclaim(root); err != nil || r != (Reclaimed{}) {
		t.Fatalf("Reclaim = %+v, %v", r, err)
	}
}

func TestLockKeySerialises(t *testing.T) {
	root, dir := openRoot(t)
	a, err := Lock(context.Background(), root, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	other, err := Lock(context.Background(), root, "k2", func() { t.Error("k2 waited for k") })
	if err != nil {
		t.Fatal(err)
	}
	other.Unlock()
	waiting := make(chan struct{})
	got := make(chan error)
	go func() {
		b, err := Lock(context.Background(), root, "k", func() { close(waiting) })
		if err == nil {
			b.Unlock()
		}
		got <- err
	}()
	<-waiting
	a.Unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// Each holder removed its lock file on release: none piles up.
	if ents, err := os.ReadDir(filepath.Join(dir, LocksDir)); err != nil || len(ents) != 0 {
		t.Fatalf("locks dir after every release: %v, %v; want empty", ents, err)
	}
}

// lockRaceDir, when set, makes TestLockKeyExcludesWhileFilesGo a helper
// process contending in that data dir.
const lockRaceDir = "EDGE_DROP_TEST_LOCK_RACE_DIR"

// Holders remove the lock file on release while others wait on it or open
// it anew: still no two holders of one key are ever inside at once, in
// one process or across processes.
func TestLockKeyExcludesWhileFilesGo(t *testing.T) {
	const workers, rounds, helpers = 6, 40, 2
	if dir := os.Getenv(lockRaceDir); dir != "" {
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		if err := contend(root, workers, rounds); err != nil {
			t.Fatal(err)
		}
		return
	}
	root, dir := openRoot(t)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range helpers {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
		cmd.Env = append(os.Environ(), lockRaceDir+"="+dir)
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	if err := contend(root, workers, rounds); err != nil {
		t.Error(err)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v\n%s", err, outs[i])
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "count"))
	if n, _ := strconv.Atoi(string(b)); err != nil || n != (1+helpers)*workers*rounds {
		t.Errorf("counter = %q, %v; want %d (an update was lost: two holders at once)", b, err, (1+helpers)*workers*rounds)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, LocksDir)); err != nil || len(ents) != 0 {
		t.Errorf("locks dir: %v, %v; want empty", ents, err)
	}
}

// contend runs workers goroutines that each take key "k" rounds times
// and, holding it, claim a marker file exclusively and bump a counter
// file with a plain read-modify-write, while Reclaim runs in a loop.
func contend(root *os.Root, workers, rounds int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make([]error, workers+1)
	var wg sync.WaitGroup
	// A task start's Reclaim sweeps the locks dir meanwhile.
	done := make(chan struct{})
	sweeper := make(chan struct{})
	go func() {
		defer close(sweeper)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := Reclaim(root); err != nil {
				errs[workers] = err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				l, err := Lock(ctx, root, "k", nil)
				if err != nil {
					errs[w] = err
					return
				}
				err = inside(root)
				l.Unlock()
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	<-sweeper
	return errors.Join(errs...)
}

func inside(root *os.Root) error {
	m, err := root.OpenFile("inside", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("two holders of one key at once: %w", err)
	}
	m.Close()
	b, err := root.ReadFile("count")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	n, _ := strconv.Atoi(string(b))
	time.Sleep(100 * time.Microsecond) // widen the window a second holder would use
	if err := root.WriteFile("count", []byte(strconv.Itoa(n+1)), 0o644); err != nil {
		return err
	}
	return root.Remove("inside")
}

// The writer holds a temp file's lock from creation to commit, so a
// concurrent Reclaim cannot take it.
func TestTempIsLockedFromCreation(t *testing.T) {
	root, dir := openRoot(t)
	tmp, err := CreateTemp(root)
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Discard()
	f, err := os.Open(filepath.Join(dir, tmp.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := flock.TryLock(f); ok || err != nil {
		t.Fatalf("TryLock on a live temp file = %v, %v; want held", ok, err)
	}
}
