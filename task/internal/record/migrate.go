package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// byPathMarker, in the records dir, says every record is named by its path
// (versions before issue 17 named records by key; for routed keys, whose
// path is the key without its routing components, that differs).
const byPathMarker = ".named-by-path"

// migrateLock names the lock taken while records are renamed (no key or
// path contains a NUL, so no delivery uses it).
const migrateLock = "\x00records named by path"

// Locker takes the lock of name (a path relative to the data dir: the
// same lock a delivery to that path takes) and returns its release.
type Locker func(ctx context.Context, name string) (unlock func(), err error)

// Migrate renames records named by their key (before issue 17) to the name
// of their path, once per data dir: a marker file says it is done, so later
// calls cost one Lstat. Each record moves under its path's lock. Two old
// records of one path (two routed keys that landed on one file) keep the
// one delivered last, which is the one whose bytes are there. It returns
// how many records it moved (or dropped).
func (s *Store) Migrate(ctx context.Context, lock Locker) (int, error) {
	marker := path.Join(Dir, byPathMarker)
	if _, err := s.root.Lstat(marker); err == nil {
		return 0, nil
	}
	if _, err := s.root.Lstat(Dir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil // no record yet: nothing to rename (the next task marks it)
	}
	unlock, err := lock(ctx, migrateLock)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if _, err := s.root.Lstat(marker); err == nil { // another task did it meanwhile
		return 0, nil
	}
	moved, err := s.rename(ctx, lock)
	if err != nil {
		return moved, err
	}
	f, err := s.root.OpenFile(marker, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return moved, fmt.Errorf("mark records as named by path: %w", err)
	}
	f.Close()
	return moved, s.SyncDir()
}

func (s *Store) rename(ctx context.Context, lock Locker) (int, error) {
	d, err := s.root.Open(Dir)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	moved := 0
	for {
		ents, err := d.ReadDir(listBatch)
		for _, e := range ents {
			if ctx.Err() != nil {
				return moved, context.Cause(ctx)
			}
			if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
				continue
			}
			old := path.Join(Dir, e.Name())
			r, rerr := s.decodeFile(old)
			if rerr != nil || e.Name() == Name(r.LocalPath()) {
				continue // named by path already, or unusable (readers ignore it)
			}
			ok, merr := s.move(ctx, lock, old, r.LocalPath())
			if merr != nil {
				return moved, merr
			}
			if ok {
				moved++
			}
		}
		if errors.Is(err, io.EOF) {
			return moved, nil
		}
		if err != nil {
			return moved, fmt.Errorf("list delivery records: %w", err)
		}
	}
}

// move renames the old record to its path's name under the path's lock,
// unless that name already holds a record delivered later.
func (s *Store) move(ctx context.Context, lock Locker, old, rel string) (bool, error) {
	unlock, err := lock(ctx, rel)
	if err != nil {
		return false, err
	}
	defer unlock()
	r, err := s.decodeFile(old)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // moved by a delivery meanwhile
	}
	if err != nil {
		return false, nil
	}
	if cur, ok, _ := s.Read(rel); ok && cur.DeliveredAt.After(r.DeliveredAt) {
		return true, s.root.Remove(old)
	}
	if err := s.root.Rename(old, Path(rel)); err != nil {
		return false, fmt.Errorf("rename delivery record %s: %w", old, err)
	}
	return true, s.SyncDir()
}

func (s *Store) decodeFile(name string) (Record, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	return decode(f)
}
