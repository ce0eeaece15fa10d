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

func TestReclaimRemovesOnlyAbandonedFiles(t *testing.T) {
	root, dir := openRoot(t)
	d := Open(root)
	defer d.Close()
	ctx := context.Background()
	live, err := d.OpenPartial(ctx, "live.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Discard()
	live.File.Write(make([]byte, 1<<20))
	tmp := filepath.Join(dir, TmpDir)
	write := func(name string, n int) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Abandoned: a temp file of a version before resuming; a partial
	// without progress (nothing to resume); a progress record without its
	// partial.
	old := write(".edge-drop-0123456789abcdef.part", 1<<20)
	bare := write(Name("bare.bin")+".part", 1<<20)
	orphan := write(Name("gone.bin")+".resume", 10)
	// Kept for resuming: a partial with progress.
	resumable := write(Name("big.bin")+".part", 1<<20)
	progress := write(Name("big.bin")+".resume", 10)
	// Not ours: left alone.
	other := write("notes.txt", 1)

	r, err := d.Reclaim(Bounds{MaxAge: time.Hour, MaxBytes: 1 << 30}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Files != 2 || r.InUse != 1 || r.Bytes < 2<<20 || r.Kept != 1 || r.KeptBytes < 1<<20 {
		t.Fatalf("Reclaim = %+v, want 2 files of >= 2 MiB removed, 1 in use, 1 kept", r)
	}
	for _, p := range []string{old, bare, orphan} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("abandoned %s still there (%v)", p, err)
		}
	}
	for _, p := range []string{filepath.Join(dir, live.Name()), resumable, progress, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// Too old: a partial not written for longer than MaxAge goes, with its
	// progress.
	if r, err := d.Reclaim(Bounds{MaxAge: time.Hour, MaxBytes: 1 << 30}, time.Now().Add(2*time.Hour)); err != nil || r.Files != 1 || r.Kept != 0 {
		t.Fatalf("Reclaim two hours later = %+v, %v; want the resumable partial removed", r, err)
	}
	for _, p := range []string{resumable, progress} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	// The live writer commits: the name is gone, nothing to reclaim.
	df, err := root.Open(".")
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	if err := live.Rename(df, "done.bin"); err != nil {
		t.Fatal(err)
	}
	live.Close()
	if r, err := d.Reclaim(Bounds{MaxAge: time.Hour, MaxBytes: 1 << 30}, time.Now()); err != nil || r != (Reclaimed{}) {
		t.Fatalf("last Reclaim = %+v, %v", r, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "done.bin")); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("committed file: %v", err)
	}
}

// Kept partials fit MaxBytes (the oldest go first), and Evict frees space
// for a delivery, never taking the partial of the path being delivered.
func TestPartialsBoundedAndEvicted(t *testing.T) {
	root, dir := openRoot(t)
	d := Open(root)
	defer d.Close()
	tmp := filepath.Join(dir, TmpDir)
	os.MkdirAll(tmp, 0o755)
	for i, rel := range []string{"a", "b", "c"} {
		os.WriteFile(filepath.Join(tmp, Name(rel)+".part"), make([]byte, 1<<20), 0o644)
		os.WriteFile(filepath.Join(tmp, Name(rel)+".resume"), []byte("{}"), 0o644)
		if i < 2 {
			time.Sleep(20 * time.Millisecond) // distinct ctimes: a is the oldest
		}
	}
	r, err := d.Reclaim(Bounds{MaxAge: time.Hour, MaxBytes: 2<<20 + 1<<19}, time.Now())
	if err != nil || r.Files != 1 || r.Kept != 2 {
		t.Fatalf("Reclaim = %+v, %v; want the oldest removed, two kept", r, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, Name("a")+".part")); !os.IsNotExist(err) {
		t.Errorf("the oldest partial is still there")
	}
	r, err = d.Evict(1, "b")
	if err != nil || r.Files != 1 {
		t.Fatalf("Evict = %+v, %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, Name("b")+".part")); err != nil {
		t.Errorf("Evict took the partial of the path being delivered: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, Name("c")+".part")); !os.IsNotExist(err) {
		t.Errorf("Evict left c")
	}
}

// A lock file nobody holds (its holder was killed, or a version that kept
// lock files made it) is removed by a task start; a held one stays.
func TestReclaimRemovesUnheldLockFiles(t *testing.T) {
	root, dir := openRoot(t)
	d := Open(root)
	defer d.Close()
	held, err := d.Lock(context.Background(), "held", nil)
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
	if r, err := d.Reclaim(Bounds{}, time.Now()); err != nil || r != (Reclaimed{Locks: 1}) {
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
	if r, err := Open(root).Reclaim(Bounds{}, time.Now()); err != nil || r != (Reclaimed{}) {
		t.Fatalf("Reclaim = %+v, %v", r, err)
	}
}

func TestLockKeySerialises(t *testing.T) {
	root, dir := openRoot(t)
	d := Open(root)
	defer d.Close()
	a, err := d.Lock(context.Background(), "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	other, err := d.Lock(context.Background(), "k2", func() { t.Error("k2 waited for k") })
	if err != nil {
		t.Fatal(err)
	}
	other.Unlock()
	waiting := make(chan struct{})
	got := make(chan error)
	go func() {
		b, err := d.Lock(context.Background(), "k", func() { close(waiting) })
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
	d := Open(root)
	defer d.Close()
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
			if _, err := d.Reclaim(Bounds{}, time.Now()); err != nil {
				errs[workers] = err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for range rounds {
				l, err := d.Lock(ctx, "k", nil)
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

// The writer holds a partial's lock from its open to its commit, so a
// concurrent Reclaim cannot take it.
func TestPartialIsLockedFromCreation(t *testing.T) {
	root, dir := openRoot(t)
	p, err := Open(root).OpenPartial(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Discard()
	if !p.Fresh {
		t.Error("a new partial is not Fresh")
	}
	f, err := os.Open(filepath.Join(dir, p.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := flock.TryLock(f); ok || err != nil {
		t.Fatalf("TryLock on a live partial = %v, %v; want held", ok, err)
	}
}
