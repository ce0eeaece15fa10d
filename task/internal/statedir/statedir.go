// Package statedir owns the task's hidden directory in the data dir,
// .edge-drop/ (the only writable place in the read-only container):
//
//	.edge-drop/locks/<h>.lock     per-path lock files (flock)
//	.edge-drop/tmp/<h>.part       a path's download in progress, or an
//	                              interrupted one kept for resuming
//	.edge-drop/tmp/<h>.resume     its progress (package download writes it)
//	.edge-drop/records/<h>.json   delivery records (package record)
//
// where <h> is the hex SHA-256 of the path relative to the data dir (Name):
// every path maps to one short, safe name, the same in each directory.
//
// A lock file lives only while a task holds or waits for its lock (its
// holder removes it on release; a task start removes those left by a
// killed holder). A partial is locked by its writer while it is written;
// one nobody holds was interrupted: a task start keeps it (for the next
// delivery of its path to resume) while it has progress, is younger than
// the age bound and fits the size bound, and removes it otherwise.
package statedir

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"

	"github.com/edge-drop/edge-drop/contract"
)

// Directories of the state dir, relative to the data dir.
const (
	LocksDir = contract.StateDirName + "/locks"
	TmpDir   = contract.StateDirName + "/tmp"
)

// Name is the state dir's name for the path rel (relative to the data dir):
// its hex SHA-256.
func Name(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return hex.EncodeToString(sum[:])
}

// Dir is the state dir of one data dir, for one task: its directories are
// created and opened once, so each lock or partial costs one openat.
type Dir struct {
	root *os.Root

	mu       sync.Mutex
	locks    *os.Root
	locksDir *os.File // the locks dir itself: openat
	tmp      *os.Root
	tmpDir   *os.File // the tmp dir itself: openat, renameat's source
}

// Open returns the state dir of the data dir root (its directories are
// made when first needed). Close releases what it opened.
func Open(root *os.Root) *Dir { return &Dir{root: root} }

// Close closes the directories it opened.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range []*os.Root{d.locks, d.tmp} {
		if r != nil {
			r.Close()
		}
	}
	for _, f := range []*os.File{d.locksDir, d.tmpDir} {
		if f != nil {
			f.Close()
		}
	}
	d.locks, d.locksDir, d.tmp, d.tmpDir = nil, nil, nil, nil
	return nil
}

// Root is the data dir.
func (d *Dir) Root() *os.Root { return d.root }

// sub opens (creating it when create is set) one of the state dir's
// directories, once.
func (d *Dir) sub(name string, dst **os.Root, create bool) (*os.Root, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if *dst != nil {
		return *dst, nil
	}
	if create {
		if err := d.root.MkdirAll(name, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
	}
	r, err := d.root.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	*dst = r
	return r, nil
}

// lockDirs returns the locks dir as a root and as an open directory.
func (d *Dir) lockDirs(create bool) (*os.Root, *os.File, error) {
	return d.dirs(LocksDir, &d.locks, &d.locksDir, create)
}

// tmpDirs returns the tmp dir as a root and as an open directory.
func (d *Dir) tmpDirs(create bool) (*os.Root, *os.File, error) {
	return d.dirs(TmpDir, &d.tmp, &d.tmpDir, create)
}

func (d *Dir) dirs(name string, root **os.Root, file **os.File, create bool) (*os.Root, *os.File, error) {
	r, err := d.sub(name, root, create)
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if *file == nil {
		if *file, err = r.Open("."); err != nil {
			return nil, nil, err
		}
	}
	return r, *file, nil
}

func sameFile(dir *os.Root, name string, f *os.File) (bool, error) {
	a, err := dir.Lstat(name)
	if err != nil {
		return false, err
	}
	b, err := f.Stat()
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}
