package statedir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/edge-drop/edge-drop/task/internal/dirfd"
	"github.com/edge-drop/edge-drop/task/internal/flock"
)

// KeyLock is a held lock of one path of the data dir; Unlock releases it
// (the kernel releases it too when the process dies).
type KeyLock struct {
	dir  *os.Root
	name string
	f    *os.File
}

// Lock waits for the exclusive lock of rel, the path relative to the data
// dir that a delivery, delete or record migration is about to touch. Every
// key that maps to the path is serialised on it: routed keys of a board and
// of its group that land on one file, too. An unrouted key's path is the
// key, so its lock file is the one versions before issue 17 used (they
// locked by key). onWait is called once if another task holds it. ctx ends
// the wait.
func (d *Dir) Lock(ctx context.Context, rel string, onWait func()) (*KeyLock, error) {
	locks, dir, err := d.lockDirs(true)
	if err != nil {
		return nil, err
	}
	name := Name(rel) + ".lock"
	waited := false
	wait := func() {
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
	}
	for {
		f, err := dirfd.Open(dir, name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open key lock: %w", err)
		}
		if err := flock.Lock(ctx, f, wait); err != nil {
			f.Close()
			return nil, err
		}
		// The holder we waited for removed the name before releasing: our
		// lock is then on a file nobody else can open, and a newcomer may
		// already hold a new file of that name. Only the lock on the file
		// the name still points to counts.
		same, err := sameFile(locks, name, f)
		if same {
			return &KeyLock{dir: locks, name: name, f: f}, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("check key lock: %w", err)
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
	}
}

// Unlock removes the lock file and releases the lock, so lock files do not
// pile up, one per path ever delivered. The name goes while the lock is
// still held (see Lock). If the removal fails the file stays and is
// simply reused by the next lock of the path, or removed by Reclaim.
func (l *KeyLock) Unlock() {
	l.dir.Remove(l.name)
	l.f.Close()
}

// Locker returns Lock as a function of the path alone (record migration
// takes the same locks as deliveries).
func (d *Dir) Locker() func(ctx context.Context, rel string) (func(), error) {
	return func(ctx context.Context, rel string) (func(), error) {
		l, err := d.Lock(ctx, rel, nil)
		if err != nil {
			return nil, err
		}
		return l.Unlock, nil
	}
}
