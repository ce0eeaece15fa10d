// Package download delivers S3 objects into files under a data directory.
// A Board is one task's data dir (opened once: the state dir, the records,
// the bandwidth budget, the free-space floor); each delivery, under its
// path's lock (package statedir), HEADs the object and, unless the delivery
// record (package record) says the board has that version, runs concurrent
// ranged GETs pinned to the object's ETag with If-Match, written at their
// offsets into the path's locked partial, resumed mid-part after a dropped
// connection and, after a crash, from the partial's progress record by the
// next delivery of the same version (resume.go); verified against the
// object's checksum or ETag; then committed: made durable, atomically
// renamed into place and recorded, alone (download mode) or in batches that
// share one flush (sync; commit.go). An object replaced during the download
// restarts the delivery (deliver.go). Verification runs inline: every part
// is hashed by its worker as the bytes arrive, against the object's
// full-object or composite checksum or its ETag (verify.go, multipart.go,
// fetch.go).
//
// Why not feature/s3/manager or feature/s3/transfermanager: both restart a
// failed part from its first byte (no mid-part resume, none across a
// crash), neither verifies a whole-object checksum on ranged downloads,
// and pinning every part with If-Match needs per-request option plumbing;
// the loop here is a few hundred lines over the plain SDK client, which
// still does signing, endpoint resolution and retries with backoff for
// every request.
package download

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// API is the subset of *s3.Client used here (the real client is always
// used; the interface only keeps the dependency narrow).
type API interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options describe one download.
type Options struct {
	Bucket string
	Key    string // as received; may be URL-encoded
	// ExactKey: Key is the object's key as S3 lists it (a sync), not an
	// event's encoded key, so it is used as is and never decoded.
	ExactKey    bool
	DataDir     string
	PartSize    int64
	Concurrency int
	// HashWindow: with a whole-object hash (read back in order), how many
	// parts may be downloading or waiting to be hashed at once; 0 means
	// Concurrency+2 (with 8 MiB parts, 48 MiB of page cache ahead of the
	// hash, and each worker has its next part ready when the hash moves on).
	HashWindow int
	// RequestTimeout is the longest a body read may stall before the
	// attempt is abandoned and resumed.
	RequestTimeout time.Duration
	// MaxStalls is how many consecutive attempts of one part may end
	// without delivering a byte before the part fails (0 means 5).
	MaxStalls int
	// RetryDelay is the base delay before resuming a part (0 means 200ms;
	// it grows linearly with consecutive failures).
	RetryDelay time.Duration
	Logger     *slog.Logger
	// OnTransfer, if set, is called with the object size just before the
	// body transfer starts (main uses it to re-enable the GC).
	OnTransfer func(size int64)
	// MaxBytes is the largest object accepted (0 = no limit): a larger
	// one fails with exit 10 before anything is written.
	MaxBytes int64
	// StripComponents leading components of the key are not part of the
	// local path (routing by key); the lock and record stay keyed by the
	// key, the record remembers the path.
	StripComponents int
	// Floor is the free space a delivery must leave on the data dir's file
	// system of total bytes (nil: none); FloorSetting names where it came
	// from, for the error.
	Floor        func(total int64) int64
	FloorSetting string
	// Partials bound the interrupted downloads kept for resuming (MaxAge
	// 0: none is kept, and no progress is recorded).
	Partials statedir.Bounds
	// CheckpointBytes is how many bytes arrive between two progress
	// records (0 means 8 MiB); a part's progress is noted every eighth of
	// it, at most every MiB.
	CheckpointBytes int64
	// Limiter is the bandwidth budget all downloads of the task share (nil:
	// none).
	Limiter *Limiter
	// Event is what the triggering S3 event said of the object (optional).
	Event Event
	// Hooks let tests stop a delivery at a chosen point (nil in production).
	Hooks Hooks
}

// Event is what the S3 event said of the object; empty fields are unknown.
type Event struct {
	Sequencer string
	ETag      string
	Size      int64 // -1 = unknown
}

// Hooks are called at fixed points of a delivery, for tests.
type Hooks struct {
	// LockWait is called once when another delivery holds the key's lock.
	LockWait func()
	// BeforeCommit is called when the data is downloaded and verified,
	// before the fsync and rename.
	BeforeCommit func()
	// Checkpoint is called after each progress record is written, with
	// the bytes it names.
	Checkpoint func(bytes int64)
}

// Result describes a finished download.
type Result struct {
	Key  string // the key that was fetched
	Path string // the target file
	Rel  string // the target file relative to the data dir
	// ETag and VersionID of the version delivered (or found up to date).
	ETag, VersionID string
	Bytes           int64
	Elapsed         time.Duration
	Verified        string // name of the integrity check, "" if none was possible
	// UpToDate: the board already held this version: the record names it
	// and the file is untouched since its delivery, or the file's content
	// was verified against the object (Reverified).
	UpToDate bool
	// New: there was nothing at the path before (else an older version,
	// or a file a person put there, was replaced).
	New bool
	// Reverified: the file at the path was not known untouched (its
	// identity differs from the record's, or there was no record) and its
	// content was checked against the object's checksum.
	Reverified bool
	// Adopted: such a file already held the object's bytes; it was kept
	// as it is and the record now names it.
	Adopted bool
	// ConflictCopy is the name (relative to the data dir) under which the
	// bytes that were at the path were kept: a file edge-drop did not
	// deliver, or one changed since its delivery.
	ConflictCopy string
	// Lost: another key that maps to the same path owns it (its object has
	// the newer LastModified); nothing was written. Lost is that key.
	Lost string
	// Displaced: this key took the path from another key (Displaced), by
	// the same rule.
	Displaced string
	// Reason says why, in words, for a conflict.
	Reason  string
	Resumes int // parts resumed mid-stream
	// Kept is how many bytes an earlier, interrupted delivery of this
	// version had left (checked again) that were not fetched again;
	// Fetched how many bytes were fetched.
	Kept, Fetched int64
	// Restarts is how often the object changed during the download and
	// the delivery started over on the new version.
	Restarts int
	// Superseded: the event's version is no longer the current one (a
	// newer upload replaced it); the current version was delivered.
	Superseded bool
	Record     string // the delivery record's path
	// Folder: the key was a folder marker ("photos/", zero bytes); Path is
	// its directory, created or already there. No record is written.
	Folder bool
}

// ErrIntegrity is wrapped by every integrity failure.
var ErrIntegrity = errors.New("integrity check failed")

const bufSize = 64 << 10 // per worker; larger buffers measured no faster but cost RSS

// rootErr classifies an error from an os.Root operation.
func rootErr(err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "path escapes from parent") || errors.Is(err, syscall.ELOOP) {
		return exitcode.Errorf(exitcode.UnsafeKey, "%w: %w", keypath.ErrUnsafe, err)
	}
	return exitcode.New(exitcode.LocalIO, err)
}
