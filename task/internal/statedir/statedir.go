// Package statedir owns the task's hidden directory in the data dir,
// .edge-drop/ (the only writable place in the read-only container):
//
//	.edge-drop/locks/<sha256 of path>.lock   per-path lock files (flock)
//	.edge-drop/tmp/.edge-drop-<rand>.part    downloads in progress
//	.edge-drop/records/<sha256 of path>.json delivery records (package record)
//
// A lock file lives only while a task holds or waits for its lock (its
// holder removes it on release; a task start removes those left by a
// killed holder); a temp file lives only while its writer
// holds a lock on it, so any temp file nobody holds a lock on was
// abandoned (its task was killed) and is removed by the next task start.
package statedir

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/flock"
)

// Directories of the state dir, relative to the data dir.
const (
	LocksDir = contract.StateDirName + "/locks"
	TmpDir   = contract.StateDirName + "/tmp"
)

// Temp file names: the old prefix is kept so that people (and scripts)
// who know ".edge-drop-*.part" recognise them.
const (
	tmpPrefix = ".edge-drop-"
	tmpSuffix = ".part"
)

// MaxReclaim bounds the work of one Reclaim: a task start never scans
// more entries than this (abandoned temp files are rare: one per killed
// task; a later start removes the rest).
const MaxReclaim = 1000

// KeyLock is a held lock of one path of the data dir; Unlock releases it
// (the kernel releases it too when the process dies).
type KeyLock struct {
	root *os.Root
	name string
	f    *os.File
}

// Lock waits for the exclusive lock of of, the path relative to the
// data dir that a delivery, delete or record migration is about to touch
// (a hex SHA-256 names the lock file, so every path maps to a short safe
// name). Every key that maps to the path is serialised on it: routed keys
// of a board and of its group that land on one file, too. An unrouted
// key's path is the key, so its lock file is the one versions before
// issue 17 used (they locked by key). onWait is called once if another
// task holds it. ctx ends the wait.
func Lock(ctx context.Context, root *os.Root, of string, onWait func()) (*KeyLock, error) {
	if err := root.MkdirAll(LocksDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", LocksDir, err)
	}
	sum := sha256.Sum256([]byte(of))
	name := path.Join(LocksDir, hex.EncodeToString(sum[:])+".lock")
	waited := false
	wait := func() {
		if !waited && onWait != nil {
			onWait()
		}
		waited = true
	}
	for {
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
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
		same, err := sameFile(root, name, f)
		if same {
			return &KeyLock{root: root, name: name, f: f}, nil
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
// pile up, one per key ever delivered. The name goes while the lock is
// still held (see LockKey). If the removal fails the file stays and is
// simply reused by the next lock of the key, or removed by Reclaim.
func (l *KeyLock) Unlock() {
	l.root.Remove(l.name)
	l.f.Close()
}

// Temp is a download in progress, locked by this process until Commit or
// Discard.
type Temp struct {
	root *os.Root
	Name string // relative to the data dir
	File *os.File
}

// CreateTemp creates and locks a new temp file in TmpDir.
func CreateTemp(root *os.Root) (*Temp, error) {
	if err := root.MkdirAll(TmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", TmpDir, err)
	}
	for range 3 {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		name := path.Join(TmpDir, tmpPrefix+hex.EncodeToString(rnd[:])+tmpSuffix)
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, fmt.Errorf("create temp file: %w", err)
		}
		ok, err := flock.TryLock(f)
		if err != nil {
			f.Close()
			root.Remove(name)
			return nil, fmt.Errorf("lock temp file: %w", err)
		}
		// A task start may have seen the new file before it was locked and
		// reclaimed it (it holds its lock, or has removed the name): then
		// start over with a new name.
		if same, _ := sameFile(root, name, f); ok && same {
			return &Temp{root: root, Name: name, File: f}, nil
		}
		f.Close()
	}
	return nil, errors.New("create temp file: removed by a concurrent task start three times")
}

func sameFile(root *os.Root, name string, f *os.File) (bool, error) {
	a, err := root.Lstat(name)
	if err != nil {
		return false, err
	}
	b, err := f.Stat()
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// Commit renames the temp file to target (relative to the data dir),
// then closes it, which releases its lock: the name is gone by then. It
// returns the file's FileInfo from after the rename (which sets its
// ctime): what the delivery record then names as the file's identity.
func (t *Temp) Commit(target string) (fs.FileInfo, error) {
	if err := t.root.Rename(t.Name, target); err != nil {
		return nil, err
	}
	fi, err := t.File.Stat()
	if cerr := t.File.Close(); err == nil {
		err = cerr
	}
	return fi, err
}

// Locker returns Lock as a function of the name alone (record migration
// takes the same locks as deliveries).
func Locker(root *os.Root) func(ctx context.Context, name string) (func(), error) {
	return func(ctx context.Context, name string) (func(), error) {
		l, err := Lock(ctx, root, name, nil)
		if err != nil {
			return nil, err
		}
		return l.Unlock, nil
	}
}

// Discard removes the temp file (still holding its lock, so no reclaimer
// races with it) and closes it.
func (t *Temp) Discard() error {
	err := t.root.Remove(t.Name)
	t.File.Close()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Reclaimed says what Reclaim removed.
type Reclaimed struct {
	Files int
	Bytes int64 // their allocated size (preallocated temp files are full size)
	InUse int   // temp files skipped: a running task holds them
	Locks int   // lock files nobody held: a killed holder's, or left by versions that kept them
}

// Reclaim removes abandoned temp files from TmpDir: those whose lock it
// can take (a killed task's lock died with it); then the lock files in
// LocksDir whose lock it can take, as their holder would have on release.
// It looks at no more than MaxReclaim entries of each.
func Reclaim(root *os.Root) (Reclaimed, error) {
	var r Reclaimed
	names, err := reclaimable(root, TmpDir, tmpPrefix, tmpSuffix)
	if err != nil {
		return r, fmt.Errorf("reclaim temp files: %w", err)
	}
	var errs []error
	for _, name := range names {
		removed, bytes, err := reclaimOne(root, name)
		switch {
		case err != nil:
			errs = append(errs, err)
		case removed:
			r.Files++
			r.Bytes += bytes
		default:
			r.InUse++
		}
	}
	names, err = reclaimable(root, LocksDir, "", ".lock")
	if err != nil {
		errs = append(errs, fmt.Errorf("reclaim lock files: %w", err))
	}
	for _, name := range names {
		removed, _, err := reclaimOne(root, name)
		if err != nil {
			errs = append(errs, err)
		} else if removed {
			r.Locks++
		}
	}
	return r, errors.Join(errs...)
}

// reclaimable lists up to MaxReclaim regular files of dir named
// <prefix>…<suffix>; a missing dir has none.
func reclaimable(root *os.Root, dir, prefix, suffix string) ([]string, error) {
	d, err := root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(MaxReclaim)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), suffix) {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	return names, nil
}

// reclaimOne removes name if it can take its lock, and only while it holds
// it: the protocol of KeyLock.Unlock, so a lock file is safe to reclaim too.
func reclaimOne(root *os.Root, name string) (removed bool, bytes int64, err error) {
	f, err := root.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, 0, nil // committed, discarded or released meanwhile
	}
	if err != nil {
		return false, 0, fmt.Errorf("reclaim %s: %w", name, err)
	}
	defer f.Close()
	ok, err := flock.TryLock(f)
	if !ok || err != nil {
		return false, 0, err // a live task holds it
	}
	// Holding the lock, the name can still have been committed (renamed
	// away) by its finished writer, or a lock file removed by its holder
	// and created anew: remove only if it is still this file.
	if same, _ := sameFile(root, name, f); !same {
		return false, 0, nil
	}
	bytes = allocated(f)
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, 0, fmt.Errorf("reclaim %s: %w", name, err)
	}
	return true, bytes, nil
}
