package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
	if err := live.Commit("done.bin"); err != nil {
		t.Fatal(err)
	}
	if r, err := Reclaim(root); err != nil || r != (Reclaimed{}) {
		t.Fatalf("second Reclaim = %+v, %v", r, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "done.bin")); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("committed file: %v", err)
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
	a, err := LockKey(context.Background(), root, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	other, err := LockKey(context.Background(), root, "k2", func() { t.Error("k2 waited for k") })
	if err != nil {
		t.Fatal(err)
	}
	other.Unlock()
	waiting := make(chan struct{})
	got := make(chan error)
	go func() {
		b, err := LockKey(context.Background(), root, "k", func() { close(waiting) })
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
	ents, _ := os.ReadDir(filepath.Join(dir, LocksDir))
	if len(ents) != 2 {
		t.Fatalf("locks dir: %v", ents)
	}
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
