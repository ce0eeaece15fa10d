package statedir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edge-drop/edge-drop/task/internal/dirfd"
	"github.com/edge-drop/edge-drop/task/internal/flock"
)

// Suffixes of a partial's files in TmpDir.
const (
	partSuffix     = ".part"
	progressSuffix = ".resume"
	newSuffix      = ".new" // a progress record being written
)

// maxProgressBytes bounds what Progress reads: a record of 10,000 parts
// (S3's most) is well under it.
const maxProgressBytes = 4 << 20

// Partial is the download in progress of one path, .edge-drop/tmp/<h>.part,
// with its progress record beside it. Its writer holds a lock on it (flock)
// from OpenPartial to Rename, Discard or Keep, so a task start never takes
// a live one.
type Partial struct {
	dir  *os.Root
	fd   *os.File // the tmp dir
	base string
	File *os.File
	// Fresh: the file was created now (empty); a progress record found
	// beside it belongs to an earlier one and is not to be trusted.
	Fresh bool
	// saved: a progress record may be beside it (one was written, or the
	// partial is an earlier delivery's).
	saved bool
}

// OpenPartial opens, or creates, the partial of the path rel and locks it.
// The caller holds the path's lock, so the only other holder can be a task
// start deciding whether to reclaim it (briefly); ctx ends that wait.
func (d *Dir) OpenPartial(ctx context.Context, rel string) (*Partial, error) {
	dir, fd, err := d.tmpDirs(true)
	if err != nil {
		return nil, err
	}
	base := Name(rel)
	name := base + partSuffix
	for range 3 {
		fresh := true
		f, err := dirfd.Open(fd, name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			fresh = false
			f, err = dirfd.Open(fd, name, os.O_RDWR, 0)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // reclaimed between the two opens
		}
		if err != nil {
			return nil, fmt.Errorf("open temp file: %w", err)
		}
		if err := flock.Lock(ctx, f, nil); err != nil {
			f.Close()
			return nil, err
		}
		// A task start may have reclaimed it meanwhile (it removes the
		// name while it holds the lock): then open it anew.
		if same, _ := sameFile(dir, name, f); same {
			return &Partial{dir: dir, fd: fd, base: base, File: f, Fresh: fresh, saved: !fresh}, nil
		}
		f.Close()
	}
	return nil, errors.New("open temp file: removed by a concurrent task start three times")
}

// Name is the partial's path relative to the data dir.
func (p *Partial) Name() string { return path.Join(TmpDir, p.base+partSuffix) }

// Progress returns the progress record beside the partial (nil if none).
func (p *Partial) Progress() ([]byte, error) {
	f, err := p.dir.Open(p.base + progressSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProgressBytes+1))
	if err == nil && len(b) > maxProgressBytes {
		err = fmt.Errorf("progress record larger than %d bytes", maxProgressBytes)
	}
	return b, err
}

// SaveProgress replaces the progress record atomically (a new file renamed
// over it). It is not fsynced: a record lost or torn by a power cut means
// less to resume, never more, as long as the parts it names were made
// durable before it was written (the caller's job) and a torn one does not
// parse.
func (p *Partial) SaveProgress(b []byte) error {
	p.saved = true
	tmp := p.base + progressSuffix + newSuffix
	if err := p.dir.WriteFile(tmp, b, 0o644); err != nil {
		p.dir.Remove(tmp)
		return err
	}
	return p.dir.Rename(tmp, p.base+progressSuffix)
}

// DropProgress removes the progress record (the partial starts over).
func (p *Partial) DropProgress() error {
	if !p.saved {
		return nil
	}
	err := p.dir.Remove(p.base + progressSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Rename moves the partial to base in the directory dir (renameat: no path
// is walked again) and removes its progress record. The file stays open,
// and locked, until Close.
func (p *Partial) Rename(dir *os.File, base string) error {
	if err := renameat(p.fd, p.base+partSuffix, dir, base); err != nil {
		return err
	}
	p.DropProgress()
	return nil
}

// Close releases the partial (after Rename, or to keep it for resuming).
func (p *Partial) Close() error { return p.File.Close() }

// Discard removes the partial and its progress (still holding its lock, so
// no task start races with it) and closes it.
func (p *Partial) Discard() error {
	p.DropProgress()
	err := p.dir.Remove(p.base + partSuffix)
	p.File.Close()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func renameat(fromDir *os.File, from string, toDir *os.File, to string) error {
	err := syscall.Renameat(int(fromDir.Fd()), from, int(toDir.Fd()), to)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// Chtimes sets the partial's access and modification times (one
// utimensat on the tmp dir: the name is ours, no path to walk).
func (p *Partial) Chtimes(t time.Time) error {
	ts := syscall.NsecToTimespec(t.UnixNano())
	err := unix.UtimesNanoAt(int(p.fd.Fd()), p.base+partSuffix, []unix.Timespec{unix.Timespec(ts), unix.Timespec(ts)}, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return &os.PathError{Op: "chtimes", Path: p.Name(), Err: err}
	}
	return nil
}
