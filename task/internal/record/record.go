// Package record keeps one small JSON file per delivered path in the data
// dir's state directory (.edge-drop/records/<sha256 of the path>.json):
// which key and version of the object the file at that path is, and what
// identifies that file on disk (device, inode, size, mtime, ctime). The
// task reads it to decide "already up to date" (same version, and the
// file's identity unchanged since delivery: no hashing); a sync can list
// the directory to learn what the board holds without reading the data
// files. One record per path makes one owner per path: two keys that map
// to the same path (routing strips to/<board>/ and to/<group>/) meet here.
//
// A record's space is reserved before the data file is renamed into place
// (Reserve, a pending record), and the record is completed right after
// (Complete, Commit): a full disk fails the delivery before anything
// changed, never between the two, and a crash between the two leaves a
// pending record that names the delivery (see Record.Pending).
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/dirfd"
	"github.com/edge-drop/edge-drop/task/internal/fsync"
)

// Dir is the records directory, relative to the data dir.
const Dir = contract.StateDirName + "/records"

// maxRecordBytes bounds what Read accepts: a record is well under 2 KiB
// (the key is at most 1024 bytes), anything larger is not ours.
const maxRecordBytes = 16 << 10

// listBatch is how many directory entries List reads at a time, so listing
// a data dir with millions of keys needs little memory.
const listBatch = 256

// Record says which version of which object the file at its path is.
type Record struct {
	Key string `json:"key"`
	// Bucket the object was delivered from (absent in records written
	// before sync and delete modes existed).
	Bucket string `json:"bucket,omitempty"`
	// Path is where the file is, relative to the data dir, when it is
	// not the key (routing by key strips leading components).
	Path         string    `json:"path,omitempty"`
	ETag         string    `json:"etag"`
	VersionID    string    `json:"version_id,omitempty"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified,omitzero"`
	// Checksum is "<algorithm>:<value as S3 gives it>" when the download
	// was verified, e.g. "crc32c:yZRlqg==".
	Checksum string `json:"checksum,omitempty"`
	// PartSize is the upload's part size when Checksum is per part
	// (composite checksum, multipart ETag) and the parts are uniform (the
	// last one shorter): what a later check of the file on disk needs.
	PartSize int64 `json:"part_size,omitempty"`
	// Sequencer of the S3 event that triggered the delivery, when given.
	Sequencer   string    `json:"sequencer,omitempty"`
	DeliveredAt time.Time `json:"delivered_at"`
	// File is the delivered file's identity right after its commit (absent
	// in records written before issue 17: such a file is verified once).
	File *Identity `json:"file,omitempty"`
	// Previous is what edge-drop had delivered at the path before this
	// delivery replaced it: should a crash make this record durable but
	// not the file's rename, the file still at the path is known as
	// edge-drop's, not a person's.
	Previous *Delivered `json:"previous,omitempty"`
	// Pending: the record of a delivery written before its file is renamed
	// into place and completed (File set, Pending gone) after it. Found
	// after a crash, it says the file at the path may be this delivery:
	// the next delivery checks that file against Checksum (or Staged) and
	// treats it as edge-drop's when it matches, never as a person's.
	Pending bool `json:"pending,omitempty"`
	// Staged is the identity of a pending delivery's file before its
	// rename (ctime aside, which the rename sets).
	Staged *Identity `json:"staged,omitempty"`
}

// Delivered is what tells a file as edge-drop's delivery: its checksum
// (with the part size of a per-part one) or its identity.
type Delivered struct {
	Size     int64     `json:"size"`
	Checksum string    `json:"checksum,omitempty"`
	PartSize int64     `json:"part_size,omitempty"`
	File     *Identity `json:"file,omitempty"`
}

// Delivered returns what tells the record's file.
func (r Record) Delivered() Delivered {
	return Delivered{Size: r.Size, Checksum: r.Checksum, PartSize: r.PartSize, File: r.File}
}

// MatchesStaged reports whether fi is the staged file id names, renamed
// (same device, inode, size and mtime; the rename set its ctime).
func (id *Identity) MatchesStaged(fi fs.FileInfo) bool {
	if id == nil || fi == nil {
		return false
	}
	got, ok := IdentityOf(fi)
	return ok && got.Dev == id.Dev && got.Ino == id.Ino && got.Size == id.Size && got.MtimeNs == id.MtimeNs
}

// Holds reports whether the record names this version of the object:
// same ETag (quotes aside), version id and size.
func (r Record) Holds(etag, versionID string, size int64) bool {
	return strings.Trim(r.ETag, `"`) == strings.Trim(etag, `"`) && r.VersionID == versionID && r.Size == size
}

// Identity is what tells one file on disk apart from any other, and from
// itself after a change: a write changes mtime and ctime, a replacement
// the inode, and ctime cannot be set back by a user (touch -r, cp -p and
// rsync -t restore mtime, not ctime). Any difference means the file was
// touched after delivery.
type Identity struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
}

// Matches reports whether fi (from Lstat or Stat) is the file id names,
// untouched. A nil id (an old record) matches nothing.
func (id *Identity) Matches(fi fs.FileInfo) bool {
	if id == nil || fi == nil {
		return false
	}
	got, ok := IdentityOf(fi)
	return ok && got == *id
}

// LocalPath is the file's path relative to the data dir.
func (r Record) LocalPath() string {
	if r.Path != "" {
		return r.Path
	}
	return r.Key
}

// ErrCorrupt is wrapped when a record exists but cannot be used; callers
// treat the key as not delivered (a fresh download rewrites the record).
var ErrCorrupt = errors.New("delivery record unreadable")

// Name is the record's file name for the local path rel (relative to the
// data dir): its hex SHA-256, so every path (up to 1024 bytes, any
// characters) maps to one short, safe name. Unrouted keys are their path,
// so their records keep the name versions before issue 17 gave them.
func Name(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return hex.EncodeToString(sum[:]) + ".json"
}

// Path is the record's path relative to the data dir.
func Path(rel string) string { return path.Join(Dir, Name(rel)) }

// Store reads and writes records under a data dir opened as an os.Root.
type Store struct {
	root *os.Root
	mu   sync.Mutex
	dir  *os.Root // the records dir, opened by the first Read that finds it
	dirF *os.File // the same, as an open directory (dirfd: one openat a record)
}

// New returns the store of the data dir root. Close releases what Read
// keeps open.
func New(root *os.Root) *Store { return &Store{root: root} }

// Close closes the records dir that Read keeps open.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == nil {
		return nil
	}
	err := errors.Join(s.dir.Close(), s.dirF.Close())
	s.dir, s.dirF = nil, nil
	return err
}

// records returns the records dir, opened once (created first when create
// is set): a sync reads a record per listed key, and one openat beats
// walking .edge-drop/records/ each time.
func (s *Store) records(create bool) (*os.Root, error) {
	d, _, err := s.recordsDir(create)
	return d, err
}

// recordsDir is records, with the directory open as a file too.
func (s *Store) recordsDir(create bool) (*os.Root, *os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != nil {
		return s.dir, s.dirF, nil
	}
	if create {
		if err := s.root.MkdirAll(Dir, 0o755); err != nil {
			return nil, nil, err
		}
	}
	d, err := s.root.OpenRoot(Dir)
	if err != nil {
		return nil, nil, err
	}
	f, err := d.Open(".")
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	s.dir, s.dirF = d, f
	return d, f, nil
}

// Read returns the record of the local path rel. ok is false when there
// is none; err wraps ErrCorrupt when one exists but is unusable.
func (s *Store) Read(rel string) (r Record, ok bool, err error) {
	_, dir, err := s.recordsDir(false)
	var f *os.File
	if err == nil {
		f, err = dirfd.Open(dir, Name(rel), os.O_RDONLY, 0)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read delivery record: %w", err)
	}
	defer f.Close()
	r, err = decode(f)
	if err != nil {
		return Record{}, false, err
	}
	if r.LocalPath() != rel {
		return Record{}, false, fmt.Errorf("%w: %s is the record of %q, not %q", ErrCorrupt, Path(rel), r.LocalPath(), rel)
	}
	return r, true, nil
}

func decode(rd io.Reader) (Record, error) {
	b, err := io.ReadAll(io.LimitReader(rd, maxRecordBytes+1))
	if err != nil {
		return Record{}, fmt.Errorf("read delivery record: %w", err)
	}
	if len(b) > maxRecordBytes {
		return Record{}, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, maxRecordBytes)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if r.Key == "" || r.Size < 0 {
		return Record{}, fmt.Errorf("%w: no key or negative size", ErrCorrupt)
	}
	return r, nil
}

// Write stores r atomically: a temp file in the records dir, fsync,
// rename over the old record, fsync of the directory. Writers of one path
// must be serialised by the caller (the task holds the path's lock), which
// is why the temp name can be fixed per path.
func (s *Store) Write(r Record) error {
	rv, err := s.reserve(r, false)
	if err != nil {
		return err
	}
	if err := rv.f.Sync(); err != nil {
		rv.Cancel()
		return fmt.Errorf("write delivery record: %w", err)
	}
	if err := rv.rename(); err != nil {
		return err
	}
	return s.SyncDir()
}

// Reservation is a delivery's record from before the data file's rename
// until after it: written at once as a pending record (Pending, no File)
// at the size the finished record can need, so completing it allocates
// nothing, and so that until it is complete the path is known to hold,
// or be about to hold, this delivery (see Record.Pending).
type Reservation struct {
	s    *Store
	r    Record
	tmp  string
	f    *os.File
	size int
}

// Reserve writes r's pending record (r without File; Complete adds it) at
// its full size, in the records dir as <name>.tmp. A full disk fails here,
// before the caller has changed anything. It is not fsynced (Sync).
// Writers of one path must be serialised (the path's lock).
func (s *Store) Reserve(r Record) (*Reservation, error) { return s.reserve(r, true) }

// widest is an identity whose every number is as long as JSON makes it.
var widest = Identity{Dev: math.MaxUint64, Ino: math.MaxUint64, Size: math.MinInt64, MtimeNs: math.MinInt64, CtimeNs: math.MinInt64}

// timeSlack covers DeliveredAt growing from its value at Reserve to the
// longest RFC 3339 time with nanoseconds.
const timeSlack = 16

func (s *Store) reserve(r Record, pending bool) (*Reservation, error) {
	if pending {
		r.Pending, r.File = true, nil
	}
	widened := r
	widened.File, widened.Staged, widened.PartSize = &widest, &widest, math.MaxInt64
	b, err := json.Marshal(widened)
	if err != nil {
		return nil, err
	}
	size := len(b) + timeSlack + 1
	if !pending {
		size = 0 // Write: exactly the record
	}
	_, dir, err := s.recordsDir(true)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", Dir, err)
	}
	tmp := strings.TrimSuffix(Name(r.LocalPath()), ".json") + ".tmp"
	f, err := dirfd.Open(dir, tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("write delivery record: %w", err)
	}
	rv := &Reservation{s: s, r: r, tmp: tmp, f: f, size: size}
	// The write allocates the blocks (ext4's delayed allocation reserves
	// them here too, and fails here with ENOSPC); Complete overwrites them.
	if err := rv.write(r); err != nil {
		rv.Cancel()
		return nil, fmt.Errorf("write delivery record: %w", err)
	}
	return rv, nil
}

// write puts r at the start of the reserved bytes, padded with spaces.
func (rv *Reservation) write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if rv.size == 0 {
		_, err := rv.f.Write(append(b, '\n'))
		return err
	}
	if len(b)+1 > rv.size {
		return fmt.Errorf("record of %d bytes exceeds its reservation of %d", len(b)+1, rv.size)
	}
	pad := make([]byte, rv.size)
	copy(pad, b)
	for i := len(b); i < len(pad)-1; i++ {
		pad[i] = ' '
	}
	pad[len(pad)-1] = '\n'
	_, err = rv.f.WriteAt(pad, 0)
	return err
}

// Stage rewrites the pending record as r, which names the file about to be
// renamed into place: its checksum, and in r.Staged its identity (a
// rename keeps its device, inode, size and mtime), what tells the file at
// the path as this delivery's when there is no checksum to verify.
func (rv *Reservation) Stage(r Record) error {
	r.Pending, r.File = true, nil
	rv.r = r
	if err := rv.write(rv.r); err != nil {
		return fmt.Errorf("write delivery record: %w", err)
	}
	return nil
}

// Sync makes the pending record durable (fdatasync).
func (rv *Reservation) Sync() error { return fsync.Data(rv.f) }

// Complete writes the finished record (with the file's identity, nil where
// identities are unknown) into the reserved bytes and renames it over the
// path's record. It does not sync: Commit does, or the caller's one flush
// for many (see package download).
func (rv *Reservation) Complete(id *Identity) error {
	r := rv.r
	r.Pending, r.Staged, r.File = false, nil, id
	r.DeliveredAt = time.Now().UTC()
	if err := rv.write(r); err != nil {
		rv.Cancel()
		return fmt.Errorf("write delivery record: %w", err)
	}
	return rv.rename()
}

// Commit is Complete, then fdatasync of the record and fsync of the records
// directory: the record is durable when it returns.
func (rv *Reservation) Commit(id *Identity) error {
	if err := rv.Complete(id); err != nil {
		return err
	}
	_, dir, err := rv.s.recordsDir(false)
	if err == nil {
		var f *os.File
		if f, err = dirfd.Open(dir, Name(rv.r.LocalPath()), os.O_RDONLY, 0); err == nil {
			err = fsync.Data(f)
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("write delivery record: %w", err)
	}
	return rv.s.SyncDir()
}

// rename closes the temp file and renames it over the record.
func (rv *Reservation) rename() error {
	err := rv.f.Close()
	if err == nil {
		var dir *os.Root
		if dir, err = rv.s.records(false); err == nil {
			err = dir.Rename(rv.tmp, Name(rv.r.LocalPath()))
		}
	}
	if err != nil {
		rv.s.removeTmp(rv.tmp)
		return fmt.Errorf("write delivery record: %w", err)
	}
	return nil
}

// Cancel gives the reserved space back: the pending record is removed.
func (rv *Reservation) Cancel() {
	rv.f.Close()
	rv.s.removeTmp(rv.tmp)
}

func (s *Store) removeTmp(name string) {
	if dir, err := s.records(false); err == nil {
		dir.Remove(name)
	}
}

// ReadPending returns the pending record of the path rel: a reservation
// left by a delivery that did not finish (or any record a crashed Write
// left in its temp file). ok is false when there is none or it does not
// parse (a torn write).
func (s *Store) ReadPending(rel string) (Record, bool) {
	_, dir, err := s.recordsDir(false)
	if err != nil {
		return Record{}, false
	}
	f, err := dirfd.Open(dir, strings.TrimSuffix(Name(rel), ".json")+".tmp", os.O_RDONLY, 0)
	if err != nil {
		return Record{}, false
	}
	defer f.Close()
	r, err := decode(f)
	if err != nil || r.LocalPath() != rel {
		return Record{}, false
	}
	return r, true
}

// DropPending removes the pending record of rel (the caller holds the
// path's lock and has used what it said).
func (s *Store) DropPending(rel string) { s.removeTmp(strings.TrimSuffix(Name(rel), ".json") + ".tmp") }

// SyncDir fsyncs the records directory: renames and removals in it are
// durable when it returns.
func (s *Store) SyncDir() error {
	_, dir, err := s.recordsDir(false)
	if err != nil {
		return err
	}
	return dir.Sync()
}

// Remove deletes the record of the path rel (no error if there is none)
// and fsyncs the directory. The caller holds the path's lock and has
// removed the file first: a crash in between leaves a record without its
// file, which every reader treats as "not delivered".
func (s *Store) Remove(rel string) error {
	if err := s.root.Remove(Path(rel)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove delivery record: %w", err)
	}
	return s.SyncDir()
}

// All yields every record in the store, reading the directory in batches
// (memory does not grow with the number of keys), in directory order. An
// unreadable record is yielded as an error and the listing goes on; a
// failure to read the directory ends it.
func (s *Store) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		d, err := s.root.Open(Dir)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield(Record{}, fmt.Errorf("list delivery records: %w", err))
			return
		}
		defer d.Close()
		for {
			ents, err := d.ReadDir(listBatch)
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
					continue // a crashed writer's .tmp
				}
				r, rerr := s.readFile(d, e.Name())
				if !yield(r, rerr) {
					return
				}
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("list delivery records: %w", err))
				return
			}
		}
	}
}

// readFile reads the record named base in the records dir d.
func (s *Store) readFile(d *os.File, base string) (Record, error) {
	name := path.Join(Dir, base)
	f, err := dirfd.Open(d, base, os.O_RDONLY, 0)
	if err != nil {
		return Record{}, fmt.Errorf("read delivery record: %w", err)
	}
	defer f.Close()
	r, err := decode(f)
	if err == nil && base != Name(r.LocalPath()) {
		err = fmt.Errorf("%w: %s holds the record of %q", ErrCorrupt, name, r.LocalPath())
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// CompareSequencers orders two S3 event sequencers of the same key
// (contract.CompareSequencers, the one implementation the state machine's
// batches and the board share).
func CompareSequencers(a, b string) (cmp int, ok bool) { return contract.CompareSequencers(a, b) }
