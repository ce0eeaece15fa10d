package statedir

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/flock"
)

// MaxReclaim bounds the work of one Reclaim: a task start never scans
// more entries of a directory than this (abandoned files are rare: one per
// killed task; a later start looks at the rest).
const MaxReclaim = 1000

// oldPrefix names the temp files of versions before resuming
// (".edge-drop-<random>.part"): never resumed, always reclaimed.
const oldPrefix = ".edge-drop-"

// Bounds limit the interrupted downloads kept for resuming.
type Bounds struct {
	// MaxAge: a partial not written for longer is removed (0: none kept).
	MaxAge time.Duration
	// MaxBytes: the space partials may take in all; the oldest go first.
	MaxBytes int64
}

// Reclaimed says what Reclaim removed and kept.
type Reclaimed struct {
	Files int   // temp files and partials removed
	Bytes int64 // their allocated size
	InUse int   // partials a running task holds
	Locks int   // lock files nobody held: a killed holder's, or left by versions that kept them
	// Kept partials (and their bytes) wait for their path's next delivery.
	Kept      int
	KeptBytes int64
}

// partialInfo is an interrupted download found in TmpDir.
type partialInfo struct {
	base  string
	bytes int64
	ctime time.Time
}

// Reclaim runs at a task start. It removes the partials nobody holds that
// have no progress record, are older than b.MaxAge, or (oldest first) do
// not fit b.MaxBytes, with progress records whose partial is gone; and the
// lock files in LocksDir whose lock it can take, as their holder would have
// on release. It looks at no more than MaxReclaim entries of each dir.
func (d *Dir) Reclaim(b Bounds, now time.Time) (Reclaimed, error) {
	var r Reclaimed
	var errs []error
	if dir, _, err := d.tmpDirs(false); err == nil {
		kept, err := d.reclaimTmp(dir, b, now, &r)
		errs = append(errs, err)
		errs = append(errs, shrink(dir, kept, b.MaxBytes, &r))
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reclaim temp files: %w", err))
	}
	if dir, _, err := d.lockDirs(false); err == nil {
		errs = append(errs, reclaimLocks(dir, &r))
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reclaim lock files: %w", err))
	}
	return r, errors.Join(errs...)
}

// Evict removes kept partials, oldest first, except the one of the path
// except, until need bytes are freed (or none is left): a delivery that
// needs the space comes before a download that might be resumed.
func (d *Dir) Evict(need int64, except string) (Reclaimed, error) {
	var r Reclaimed
	dir, _, err := d.tmpDirs(false)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	kept, err := d.reclaimTmp(dir, Bounds{MaxAge: 1<<63 - 1, MaxBytes: 1<<63 - 1}, time.Now(), &r)
	if i := slices.IndexFunc(kept, func(p partialInfo) bool { return p.base == Name(except) }); i >= 0 {
		kept = slices.Delete(kept, i, i+1)
	}
	var total int64
	for _, p := range kept {
		total += p.bytes
	}
	return r, errors.Join(err, shrink(dir, kept, max(total-need, 0), &r))
}

// reclaimTmp sweeps TmpDir: abandoned files go, partials within b are
// returned (their locks released again).
func (d *Dir) reclaimTmp(dir *os.Root, b Bounds, now time.Time, r *Reclaimed) ([]partialInfo, error) {
	names, err := list(dir)
	if err != nil {
		return nil, fmt.Errorf("reclaim temp files: %w", err)
	}
	var kept []partialInfo
	var errs []error
	for _, name := range names {
		base, suffix := split(name)
		switch {
		case strings.HasPrefix(name, oldPrefix) && suffix == partSuffix:
			errs = append(errs, reclaimOne(dir, name, r, nil))
		case suffix == partSuffix && isName(base):
			keep := func(f *os.File) bool {
				bytes, ctime := usage(f)
				_, err := dir.Lstat(base + progressSuffix)
				if err != nil || b.MaxAge <= 0 || now.Sub(ctime) > b.MaxAge {
					return false
				}
				kept = append(kept, partialInfo{base, bytes, ctime})
				return true
			}
			errs = append(errs, reclaimOne(dir, name, r, keep))
		case (suffix == progressSuffix || suffix == progressSuffix+newSuffix) && isName(base):
			// A progress record whose partial is gone (a crash between the
			// commit's rename and its removal).
			if _, err := dir.Lstat(base + partSuffix); errors.Is(err, fs.ErrNotExist) {
				dir.Remove(name)
			}
		}
	}
	return kept, errors.Join(errs...)
}

// shrink removes kept partials, oldest first, until they take at most
// limit bytes.
func shrink(dir *os.Root, kept []partialInfo, limit int64, r *Reclaimed) error {
	slices.SortFunc(kept, func(a, b partialInfo) int { return a.ctime.Compare(b.ctime) })
	var total int64
	for _, p := range kept {
		total += p.bytes
	}
	var errs []error
	for _, p := range kept {
		if total <= limit {
			r.Kept++
			r.KeptBytes += p.bytes
			continue
		}
		before := r.Files
		err := reclaimOne(dir, p.base+partSuffix, r, nil)
		errs = append(errs, err)
		if r.Files > before {
			dir.Remove(p.base + progressSuffix)
			total -= p.bytes
		}
	}
	return errors.Join(errs...)
}

// reclaimLocks removes the lock files nobody holds.
func reclaimLocks(dir *os.Root, r *Reclaimed) error {
	names, err := list(dir)
	if err != nil {
		return fmt.Errorf("reclaim lock files: %w", err)
	}
	var errs []error
	for _, name := range names {
		if strings.HasSuffix(name, ".lock") {
			var lr Reclaimed
			errs = append(errs, reclaimOne(dir, name, &lr, nil))
			r.Locks += lr.Files
		}
	}
	return errors.Join(errs...)
}

// list returns up to MaxReclaim names of regular files in dir.
func list(dir *os.Root) ([]string, error) {
	f, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(MaxReclaim)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, cmp.Compare) // a partial before its progress record
	return names, nil
}

// split cuts a tmp dir name into its base and suffix (".part", ".resume",
// ".resume.new").
func split(name string) (string, string) {
	for _, s := range []string{progressSuffix + newSuffix, progressSuffix, partSuffix} {
		if base, ok := strings.CutSuffix(name, s); ok {
			return base, s
		}
	}
	return name, ""
}

func isName(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// reclaimOne removes name if it can take its lock, and only while it holds
// it (the protocol of KeyLock.Unlock, so lock files are safe to reclaim
// too), unless keep says to keep it. A live holder's file counts as in use.
func reclaimOne(dir *os.Root, name string, r *Reclaimed, keep func(*os.File) bool) error {
	f, err := dir.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // committed, discarded or released meanwhile
	}
	if err != nil {
		return fmt.Errorf("reclaim %s: %w", name, err)
	}
	defer f.Close()
	ok, err := flock.TryLock(f)
	if err != nil {
		return err
	}
	if !ok {
		r.InUse++
		return nil
	}
	// Holding the lock, the name can still have been renamed away by its
	// finished writer, or a lock file removed by its holder and created
	// anew: remove only if it is still this file.
	if same, _ := sameFile(dir, name, f); !same {
		return nil
	}
	if keep != nil && keep(f) {
		return nil
	}
	bytes, _ := usage(f)
	if err := dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reclaim %s: %w", name, err)
	}
	r.Files++
	r.Bytes += bytes
	return nil
}
