// Package prune removes a delivered file whose object is gone from the
// bucket: delete mode (one key, from an S3 Object Deleted event) and a
// sync's mirrored deletes. It only ever removes what this project
// delivered: under the path's lock, after S3 confirms the object is gone
// (404), a file whose identity (device, inode, size, mtime, ctime) is the
// one the path's delivery record names for this key and bucket. Anything
// else in the data dir is kept, and the outcome says why: a file a person
// put there (no record), one changed since its delivery, another key's
// delivery. A gone folder marker ("photos/") takes its directory only if
// that is empty.
package prune

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// API is the part of *s3.Client used here.
type API interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Options describe one delete.
type Options struct {
	Bucket  string
	Key     string // as in the event (URL-encoded), or exact with ExactKey
	DataDir string
	// ExactKey: Key is the key as S3 lists it (a sync), never decoded.
	ExactKey bool
	// StripComponents as in download mode: where the key's file (or a
	// folder marker's directory) is.
	StripComponents int
	// Partials bound the interrupted downloads kept for resuming (the
	// board is swept at the start as in every mode).
	Partials statedir.Bounds
	Logger   *slog.Logger
}

// Outcome says what a delete did.
type Outcome string

// Outcomes; only Removed touched the data dir's files. Each is also the
// message of its log line.
const (
	Removed     Outcome = "removed"                           // the delivered file and its record are gone
	KeptChanged Outcome = "kept (changed since delivery)"     // the delivered file was changed (or replaced) since: a person's bytes now
	NotOurs     Outcome = "kept (not delivered by edge-drop)" // a file is there that no record of this key describes
	OtherKey    Outcome = "kept (another key's delivery)"     // the path holds the delivery of another key that maps to it
	Unverified  Outcome = "kept (cannot tell whether it changed since delivery)"
	ObjectThere Outcome = "kept (object exists)" // S3 has the key again (a re-upload raced the delete)
	NotEmpty    Outcome = "kept (not empty)"     // a gone folder marker's directory still holds something
	Nothing     Outcome = "nothing delivered"    // no file and no record: nothing to do
	Unsafe      Outcome = "skipped (unsafe key)" // no board path can hold the key: nothing was ever delivered for it
)

// Kept reports whether the outcome kept a file that is there.
func (o Outcome) Kept() bool {
	return o != Removed && o != Nothing && o != Unsafe
}

// Result describes a finished delete.
type Result struct {
	Key     string
	Path    string // in the data dir
	Rel     string // relative to the data dir
	Outcome Outcome
	Bytes   int64 // size of the removed file
	Reason  string
}

// Run deletes the delivered file of o.Key if its object is gone. A key
// no board path can hold (unsafe) is skipped: nothing can have been
// delivered for it (outcome Unsafe, no error). Errors carry an exit code:
// 5 when S3 answers 403 (gone or not cannot be confirmed; nothing is
// removed), 6 for local I/O.
func Run(ctx context.Context, api API, o Options) (Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cands := keypath.Candidates(o.Key)
	if o.ExactKey {
		cands = []string{o.Key}
	}
	rel, err := localPath(cands[0], o.StripComponents)
	if err != nil {
		return Result{Key: cands[0], Outcome: Unsafe, Reason: "no board path can hold the key: " + err.Error()}, nil
	}
	b, err := download.OpenBoard(ctx, download.Options{DataDir: o.DataDir, Logger: o.Logger, Partials: o.Partials})
	if err != nil {
		return Result{}, err
	}
	defer b.Close()
	store := b.Records()

	// An event key names the decoded key, or (rarely) the raw one: the
	// path's delivery record says which of the two this board delivered.
	key := cands[0]
	if len(cands) > 1 {
		if rec, ok, _ := store.Read(rel); !ok || rec.Key != key {
			if raw, err := localPath(cands[1], o.StripComponents); err == nil {
				if rec, ok, _ := store.Read(raw); ok && rec.Key == cands[1] {
					key, rel = cands[1], raw
				}
			}
		}
	}
	return Key(ctx, api, b, o, key, rel)
}

// localPath is where key's file (or a folder key's directory) is.
func localPath(key string, strip int) (string, error) {
	if keypath.IsFolder(key) {
		return keypath.Dir(key, strip)
	}
	return keypath.Local(key, strip)
}

// Key deletes the delivered file of the validated key at rel (its path
// relative to the data dir) on the board b.
func Key(ctx context.Context, api API, b *download.Board, o Options, key, rel string) (Result, error) {
	res := Result{Key: key, Path: path.Join(o.DataDir, rel), Rel: rel}
	lock, err := b.State().Lock(ctx, rel, func() {
		o.Logger.Info("waiting for another delivery of this key", "key", key, "path", rel)
	})
	if err != nil {
		if ctx.Err() != nil {
			return res, exitcode.New(download.Classify(ctx, err), err)
		}
		return res, download.RootErr(err)
	}
	defer lock.Unlock()
	// 1. Is the object really gone? Under the lock, so a delivery of a
	// re-upload cannot interleave.
	if there, err := gone(ctx, api, o, key); err != nil || there {
		if there {
			res.Outcome, res.Reason = ObjectThere, "S3 has the key again (re-uploaded after the delete); nothing deleted"
		}
		return res, err
	}
	if keypath.IsFolder(key) {
		return removeFolder(b.Root(), o, key, res)
	}
	// 2. Did this project deliver the file that is there, for this key,
	// and is it untouched since?
	rec, kept, err := ours(ctx, b, o, key, rel, &res)
	if err != nil || kept {
		return res, err
	}
	// 3. Remove the file, then the record, then the directories the
	// delivery left empty.
	root := b.Root()
	if err := root.Remove(rel); err != nil {
		return res, download.RootErr(fmt.Errorf("remove %s: %w", rel, err))
	}
	syncDir(root, path.Dir(rel))
	if err := b.Records().Remove(rel); err != nil {
		// The file is gone; a record without its file reads as "not
		// delivered" and the next delete or sync drops it.
		o.Logger.Warn("delivery record not removed", "key", key, "error", err.Error())
	}
	removeEmptyParents(root, rel)
	res.Outcome, res.Bytes = Removed, rec.Size
	return res, nil
}

// gone asks S3 whether key is gone (404): there says it exists again; 403
// cannot tell (exit 5).
func gone(ctx context.Context, api API, o Options, key string) (there bool, err error) {
	_, err = api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.Bucket, Key: aws.String(key)})
	switch code := download.Classify(ctx, err); {
	case err == nil:
		return true, nil
	case code == exitcode.NotFound:
		return false, nil
	case code == exitcode.Denied:
		return false, exitcode.Errorf(exitcode.Denied, "cannot confirm that s3://%s/%s is gone: %w (the task role needs s3:ListBucket on the prefix so that a missing key answers 404); nothing deleted", o.Bucket, key, err)
	default:
		return false, exitcode.New(code, fmt.Errorf("head s3://%s/%s: %w", o.Bucket, key, err))
	}
}

// ours says whether the file at rel is key's delivery, untouched since:
// when it is not (kept), res says why; a record that no longer describes
// the file is dropped (the file stays).
func ours(ctx context.Context, b *download.Board, o Options, key, rel string, res *Result) (record.Record, bool, error) {
	root, store := b.Root(), b.Records()
	rec, haveRec, rerr := store.Read(rel)
	fi, err := root.Lstat(rel)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rec, true, download.RootErr(fmt.Errorf("inspect %s: %w", rel, err))
	}
	keep := func(outcome Outcome, why string) (record.Record, bool, error) {
		res.Outcome, res.Reason = outcome, why
		if !exists {
			res.Outcome = Nothing
		}
		return rec, true, nil
	}
	switch {
	case rerr != nil:
		return keep(NotOurs, rerr.Error())
	case !haveRec:
		return keep(NotOurs, "no delivery record for this path")
	case rec.Key != key:
		return keep(OtherKey, fmt.Sprintf("the path holds the delivery of %s, not of %s", rec.Key, key))
	case rec.Bucket != "" && rec.Bucket != o.Bucket:
		return keep(OtherKey, fmt.Sprintf("delivered from bucket %q, not %q", rec.Bucket, o.Bucket))
	}
	outcome, why, err := changed(ctx, root, rel, fi, exists, rec)
	if err != nil {
		return rec, true, err
	}
	if why == "" {
		return rec, false, nil
	}
	// The record describes nothing on disk any more: drop it, keep the file.
	res.Outcome, res.Reason = outcome, why
	if err := store.Remove(rel); err != nil {
		return rec, true, exitcode.New(exitcode.LocalIO, err)
	}
	return rec, true, nil
}

// removeFolder removes the directory of a gone folder marker ("photos/")
// if it is empty; anything in it belongs to other keys or to people, so a
// directory that is not empty stays. Markers have no record: the
// directory is all there is.
func removeFolder(root *os.Root, o Options, key string, res Result) (Result, error) {
	rel, err := keypath.Dir(key, o.StripComponents)
	if err != nil {
		return res, exitcode.New(exitcode.UnsafeKey, err)
	}
	res.Path, res.Rel = path.Join(o.DataDir, rel), rel
	if rel == "." {
		res.Outcome, res.Reason = Nothing, "the routing folder's marker: its directory is the data dir, which stays"
		return res, nil
	}
	fi, err := root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Outcome, res.Reason = Nothing, "no directory"
		return res, nil
	case err != nil:
		return res, download.RootErr(fmt.Errorf("inspect %s: %w", rel, err))
	case !fi.IsDir():
		res.Outcome, res.Reason = NotOurs, "not a directory"
		return res, nil
	}
	if err := root.Remove(rel); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			res.Outcome, res.Reason = NotEmpty, "the folder's directory is not empty"
			return res, nil
		}
		return res, download.RootErr(fmt.Errorf("remove %s: %w", rel, err))
	}
	syncDir(root, path.Dir(rel))
	removeEmptyParents(root, rel)
	res.Outcome, res.Reason = Removed, "empty folder marker directory"
	return res, nil
}

// changed says why the file at rel is not the one rec describes (why is
// "" if it is): its identity differs from the record's (any change since
// the delivery), or, for a record without identity (written before issue
// 17), its content is not the recorded checksum or cannot be checked.
func changed(ctx context.Context, root *os.Root, rel string, fi fs.FileInfo, exists bool, rec record.Record) (Outcome, string, error) {
	switch {
	case !exists:
		return Nothing, "the delivered file is already gone", nil
	case !fi.Mode().IsRegular():
		return KeptChanged, "not a regular file: replaced since the delivery", nil
	case rec.File != nil && rec.File.Matches(fi):
		return "", "", nil
	case rec.File != nil:
		return KeptChanged, describe(fi, rec), nil
	}
	v, err := download.VerifyDelivered(ctx, root, rel, fi, rec)
	switch {
	case err != nil:
		return "", "", err
	case v == download.Same:
		return "", "", nil
	case v == download.Differs:
		return KeptChanged, "its content is not what was delivered (" + rec.Checksum + ")", nil
	}
	return Unverified, "its delivery record predates file identities and has no checksum this board can check", nil
}

// describe says how the file differs from its record's identity.
func describe(fi fs.FileInfo, rec record.Record) string {
	got, _ := record.IdentityOf(fi)
	want := *rec.File
	switch {
	case got.Dev != want.Dev || got.Ino != want.Ino:
		return "another file is at the path (replaced since the delivery)"
	case got.Size != want.Size:
		return fmt.Sprintf("size %d, delivered %d", got.Size, want.Size)
	case got.MtimeNs != want.MtimeNs:
		return "modified since the delivery (mtime)"
	}
	return "modified since the delivery (ctime: written, or its times or mode set since)"
}

// removeEmptyParents removes the key's parent directories that are now
// empty, deepest first, never the data dir itself, never through a
// symlink (Lstat: a link is not a directory here).
func removeEmptyParents(root *os.Root, key string) {
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		fi, err := root.Lstat(dir)
		if err != nil || !fi.IsDir() || root.Remove(dir) != nil {
			return // not empty (or not ours to judge): stop
		}
		syncDir(root, path.Dir(dir))
	}
}

// syncDir makes a removal durable; a failure only risks the name
// reappearing after a power cut, which the next delete handles.
func syncDir(root *os.Root, dir string) {
	if d, err := root.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
