// Package record keeps one small JSON file per delivered key in the data
// dir's state directory (.edge-drop/records/<sha256 of key>.json): which
// version of the object the file on the board is. The task reads it to
// decide "already up to date" (same ETag and version id, file present with
// the recorded size); a sync mode can list the directory to learn what the
// board holds without reading the data files.
//
// Records are written after the data file is renamed into place, so a
// crash between the two leaves an older record (the next delivery
// downloads again: safe), never a record ahead of its file.
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
	"os"
	"path"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

// Dir is the records directory, relative to the data dir.
const Dir = contract.StateDirName + "/records"

// maxRecordBytes bounds what Read accepts: a record is well under 2 KiB
// (the key is at most 1024 bytes), anything larger is not ours.
const maxRecordBytes = 16 << 10

// listBatch is how many directory entries List reads at a time, so listing
// a data dir with millions of keys needs little memory.
const listBatch = 256

// Record says which version of an object the board holds for Key.
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
	// Sequencer of the S3 event that triggered the delivery, when given.
	Sequencer   string    `json:"sequencer,omitempty"`
	DeliveredAt time.Time `json:"delivered_at"`
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

// Name is the record's file name for key: the hex SHA-256 of the key, so
// every key (up to 1024 bytes, any characters) maps to one short, safe name.
func Name(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:]) + ".json"
}

// Path is the record's path relative to the data dir.
func Path(key string) string { return path.Join(Dir, Name(key)) }

// Store reads and writes records under a data dir opened as an os.Root.
type Store struct{ root *os.Root }

// New returns the store of the data dir root.
func New(root *os.Root) *Store { return &Store{root: root} }

// Read returns the record of key. ok is false when there is none; err
// wraps ErrCorrupt when one exists but is unusable.
func (s *Store) Read(key string) (r Record, ok bool, err error) {
	f, err := s.root.Open(Path(key))
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
	if r.Key != key {
		return Record{}, false, fmt.Errorf("%w: %s holds key %q, not %q", ErrCorrupt, Path(key), r.Key, key)
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
// rename over the old record, fsync of the directory. Writers of one key
// must be serialised by the caller (the task holds the key's lock), which
// is why the temp name can be fixed per key.
func (s *Store) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.root.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", Dir, err)
	}
	name := Path(r.Key)
	tmp := strings.TrimSuffix(name, ".json") + ".tmp"
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write delivery record: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, name)
	}
	if err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("write delivery record: %w", err)
	}
	return syncDir(s.root, Dir)
}

// Remove deletes the record of key (no error if there is none) and fsyncs
// the directory. The caller holds the key's lock and has removed the file
// first: a crash in between leaves a record without its file, which every
// reader treats as "not delivered".
func (s *Store) Remove(key string) error {
	if err := s.root.Remove(Path(key)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove delivery record: %w", err)
	}
	return syncDir(s.root, Dir)
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
				r, rerr := s.readFile(path.Join(Dir, e.Name()))
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

func (s *Store) readFile(name string) (Record, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return Record{}, fmt.Errorf("read delivery record: %w", err)
	}
	defer f.Close()
	r, err := decode(f)
	if err == nil && path.Base(name) != Name(r.Key) {
		err = fmt.Errorf("%w: %s holds key %q", ErrCorrupt, name, r.Key)
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// CompareSequencers orders two S3 event sequencers of the same key: -1 if
// a is older, 0 if equal, +1 if a is newer. Sequencers are hexadecimal
// strings of varying length; S3's documentation says to left-pad the
// shorter with zeros and compare the strings. ok is false when either is
// empty or not hexadecimal (nothing can be said).
func CompareSequencers(a, b string) (cmp int, ok bool) {
	if !isHex(a) || !isHex(b) {
		return 0, false
	}
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := max(len(a), len(b)); len(a) < n {
		a = strings.Repeat("0", n-len(a)) + a
	} else if len(b) < n {
		b = strings.Repeat("0", n-len(b)) + b
	}
	return strings.Compare(a, b), true
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdefABCDEF") == ""
}
