// Package prune removes a delivered file whose object is gone from the
// bucket: delete mode (one key, from an S3 Object Deleted event) and a
// sync's mirrored deletes. It only ever removes what this project
// delivered: under the key's lock, after S3 confirms the object is gone
// (404), a file that the key's delivery record describes (same bucket,
// regular file, recorded size and the mtime the task set). Anything else
// in the data dir, a file a person put there or replaced, is kept. A gone
// folder marker ("photos/") takes its directory only if that is empty.
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
	"github.com/edge-drop/edge-drop/task/internal/state"
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
	// StripComponents as in download mode: where a folder marker's
	// directory is (files have their path in the delivery record).
	StripComponents int
	Logger          *slog.Logger
}

// Outcome says what a delete did.
type Outcome string

// Outcomes; only Removed touched the data dir's files.
const (
	Removed     Outcome = "removed"             // the delivered file and its record are gone
	NotOurs     Outcome = "kept: not ours"      // a file is there that this project did not deliver (or a person changed)
	ObjectThere Outcome = "kept: object exists" // S3 has the key again (a re-upload raced the delete)
	Nothing     Outcome = "nothing delivered"   // no file and no record: nothing to do
	NotEmpty    Outcome = "kept: not empty"     // a gone folder marker's directory still holds something
)

// Result describes a finished delete.
type Result struct {
	Key     string
	Path    string
	Outcome Outcome
	Bytes   int64 // size of the removed file
	Reason  string
}

// Run deletes the delivered file of o.Key if its object is gone. Errors
// carry an exit code: 3 for an unsafe key, 5 when S3 answers 403 (gone or
// not cannot be confirmed; nothing is removed), 6 for local I/O.
func Run(ctx context.Context, api API, o Options) (Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cands := keypath.Candidates(o.Key)
	if o.ExactKey {
		cands = []string{o.Key}
	}
	validate := keypath.Validate
	if keypath.IsFolder(cands[0]) {
		validate = func(k string) (string, error) { return keypath.Dir(k, o.StripComponents) }
	}
	if _, err := validate(cands[0]); err != nil {
		return Result{}, exitcode.New(exitcode.UnsafeKey, err)
	}
	root, err := os.OpenRoot(o.DataDir)
	if err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "open data dir: %w", err)
	}
	defer root.Close()
	store := record.New(root)

	// An event key names the decoded key, or (rarely) the raw one: the
	// delivery record says which of the two this board delivered.
	key := cands[0]
	if len(cands) > 1 {
		if _, ok, _ := store.Read(key); !ok {
			if _, err := keypath.Validate(cands[1]); err == nil {
				if _, ok, _ := store.Read(cands[1]); ok {
					key = cands[1]
				}
			}
		}
	}
	return Key(ctx, api, root, store, o, key)
}

// Key deletes the delivered file of the validated key in root.
func Key(ctx context.Context, api API, root *os.Root, store *record.Store, o Options, key string) (Result, error) {
	res := Result{Key: key, Path: path.Join(o.DataDir, key)}
	lock, err := state.LockKey(ctx, root, key, func() {
		o.Logger.Info("waiting for another delivery of this key", "key", key)
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
	_, err = api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.Bucket, Key: aws.String(key)})
	switch code := download.Classify(ctx, err); {
	case err == nil:
		res.Outcome, res.Reason = ObjectThere, "S3 has the key again (re-uploaded after the delete); nothing deleted"
		return res, nil
	case code == exitcode.NotFound:
	case code == exitcode.Denied:
		return res, exitcode.Errorf(exitcode.Denied, "cannot confirm that s3://%s/%s is gone: %w (the task role needs s3:ListBucket on the prefix so that a missing key answers 404); nothing deleted", o.Bucket, key, err)
	default:
		return res, exitcode.New(code, fmt.Errorf("head s3://%s/%s: %w", o.Bucket, key, err))
	}

	if keypath.IsFolder(key) {
		return removeFolder(root, o, key, res)
	}

	// 2. Did this project deliver the file that is there? It is at the
	// record's path (the key, or the key without its routing components).
	rec, haveRec, rerr := store.Read(key)
	file := key
	if haveRec {
		file = rec.LocalPath()
		res.Path = path.Join(o.DataDir, file)
	}
	fi, err := root.Lstat(file)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, download.RootErr(fmt.Errorf("inspect %s: %w", file, err))
	}
	switch {
	case rerr != nil:
		res.Outcome, res.Reason = NotOurs, rerr.Error()
		if !exists {
			res.Outcome = Nothing
		}
		return res, nil
	case !haveRec && !exists:
		res.Outcome, res.Reason = Nothing, "no file and no delivery record"
		return res, nil
	case !haveRec:
		res.Outcome, res.Reason = NotOurs, "no delivery record for this key"
		return res, nil
	case rec.Bucket != "" && rec.Bucket != o.Bucket:
		res.Outcome, res.Reason = NotOurs, fmt.Sprintf("delivered from bucket %q, not %q", rec.Bucket, o.Bucket)
		return res, nil
	}
	if why := notDelivered(fi, exists, rec); why != "" {
		// The record describes nothing on disk any more: drop it, keep the file.
		res.Outcome, res.Reason = NotOurs, why
		if !exists {
			res.Outcome = Nothing
		}
		if err := store.Remove(key); err != nil {
			return res, exitcode.New(exitcode.LocalIO, err)
		}
		return res, nil
	}

	// 3. Remove the file, then the record, then the directories the
	// delivery left empty.
	if err := root.Remove(file); err != nil {
		return res, download.RootErr(fmt.Errorf("remove %s: %w", file, err))
	}
	syncDir(root, path.Dir(file))
	if err := store.Remove(key); err != nil {
		// The file is gone; a record without its file reads as "not
		// delivered" and the next delete or sync drops it.
		o.Logger.Warn("delivery record not removed", "key", key, "error", err.Error())
	}
	removeEmptyParents(root, file)
	res.Outcome, res.Bytes = Removed, rec.Size
	return res, nil
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
	res.Path = path.Join(o.DataDir, rel)
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

// notDelivered says why the file at the key is not the one the record
// describes ("" if it is).
func notDelivered(fi fs.FileInfo, exists bool, rec record.Record) string {
	switch {
	case !exists:
		return "the delivered file is already gone"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	case fi.Size() != rec.Size:
		return fmt.Sprintf("size %d, delivered %d: replaced since the delivery", fi.Size(), rec.Size)
	case !rec.LastModified.IsZero() && !fi.ModTime().Equal(rec.LastModified):
		return fmt.Sprintf("mtime %s, delivered %s: replaced since the delivery", fi.ModTime().UTC().Format("2006-01-02T15:04:05.999Z"), rec.LastModified.Format("2006-01-02T15:04:05.999Z"))
	}
	return ""
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
