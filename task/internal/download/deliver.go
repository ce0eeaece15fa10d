package download

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/state"
)

// MaxRestarts is how often one delivery starts over on a new version when
// the object is replaced during the download (412 on If-Match) before it
// gives up with exit 8. Each restart means another upload landed within
// one download's time; a key that changes that often has no "newest
// version" to deliver.
const MaxRestarts = 3

// errTryRaw: the decoded key is not in the bucket; try the raw key.
var errTryRaw = errors.New("decoded key not found")

// delivery is one Run: what every attempt shares.
type delivery struct {
	api     API
	o       Options
	root    *os.Root
	records *record.Store
	start   time.Time
}

// Run delivers the object: under the key's lock it asks S3 for the
// current version (HEAD), returns at once if the delivery record says the
// board has it, else downloads it into a locked temp file, commits it with
// an atomic rename and writes the record. Errors carry an exitcode.
func Run(ctx context.Context, api API, o Options) (Result, error) {
	start := time.Now()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxStalls <= 0 {
		o.MaxStalls = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 200 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.PartSize <= 0 {
		return Result{}, exitcode.Errorf(exitcode.Usage, "part size must be positive")
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}

	// 1. The key that will be tried first must be safe before anything
	// touches S3 or disk; the raw key is checked only if it is tried.
	cands := keypath.Candidates(o.Key)
	if o.ExactKey {
		cands = []string{o.Key}
	}
	if _, err := localPath(cands[0], o.StripComponents); err != nil {
		return Result{}, exitcode.New(exitcode.UnsafeKey, err)
	}

	// 2. The data dir is opened as an os.Root: every later path operation
	// is confined to it, symlinks included.
	root, err := os.OpenRoot(o.DataDir)
	if err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "open data dir: %w", err)
	}
	defer root.Close()
	d := &delivery{api: api, o: o, root: root, records: record.New(root), start: start}
	d.reclaim()

	// 3. Decoded key first, raw key if S3 does not have the decoded one.
	for i, k := range cands {
		if i > 0 {
			if _, err := localPath(k, o.StripComponents); err != nil {
				return Result{}, exitcode.Errorf(exitcode.UnsafeKey, "decoded key %q not found, raw key: %w", cands[0], err)
			}
		}
		res, err := d.deliverKey(ctx, k, i == len(cands)-1)
		if !errors.Is(err, errTryRaw) {
			return res, err
		}
	}
	// deliverKey answers errTryRaw only while candidates remain.
	return Result{}, exitcode.Errorf(exitcode.NotFound, "s3://%s/%s not found", o.Bucket, o.Key)
}

// reclaim removes temp and lock files that killed tasks left behind.
func (d *delivery) reclaim() {
	r, err := state.Reclaim(d.root)
	if r.Files > 0 {
		d.o.Logger.Info("reclaimed abandoned temp files", "files", r.Files, "bytes", r.Bytes, "in_use", r.InUse)
	}
	if r.Locks > 0 {
		d.o.Logger.Info("removed lock files nobody held", "files", r.Locks)
	}
	if err != nil {
		d.o.Logger.Warn("could not reclaim every abandoned temp or lock file", "error", err.Error())
	}
}

// deliverKey delivers key under its lock, starting over (at most
// MaxRestarts times) when the object changes during the download.
func (d *delivery) deliverKey(ctx context.Context, key string, last bool) (Result, error) {
	lock, err := state.LockKey(ctx, d.root, key, func() {
		d.o.Logger.Info("waiting for another delivery of this key", "key", key)
		if d.o.Hooks.LockWait != nil {
			d.o.Hooks.LockWait()
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, exitcode.New(classify(ctx, err), err)
		}
		return Result{}, rootErr(err)
	}
	defer lock.Unlock()

	head, err := d.head(ctx, key)
	if err != nil {
		// Without s3:ListBucket, S3 answers a HEAD of a missing key with
		// 403, not 404: both mean "try the raw key".
		code := exitcode.Of(err)
		if _, ok := s3conn.NoCredentials(err); ok {
			return Result{}, err // no answer from S3 about this key, nor about the raw one
		}
		if (code == exitcode.NotFound || code == exitcode.Denied) && !last {
			d.o.Logger.Info("decoded key not found, trying raw key", "decoded_key", key, "raw_key", d.o.Key, "status", code.String())
			return Result{}, errTryRaw
		}
		if code == exitcode.Denied {
			err = fmt.Errorf("%w (S3 also answers 403 for a missing key when the role lacks s3:ListBucket)", err)
		}
		return Result{}, exitcode.New(code, err)
	}
	d.o.Logger.Info("key resolved", "raw_key", d.o.Key, "key", key, "decoded", key != d.o.Key)
	if keypath.IsFolder(key) {
		return d.folder(key, head)
	}

	for restarts := 0; ; restarts++ {
		res, err := d.attempt(ctx, key, head)
		res.Restarts = restarts
		if err == nil || !objectChanged(err) {
			return res, err
		}
		if restarts == MaxRestarts {
			return res, exitcode.Errorf(exitcode.Integrity, "%w: s3://%s/%s kept changing: replaced during the download %d times in a row (gave up after %d restarts): %w",
				ErrIntegrity, d.o.Bucket, key, restarts+1, MaxRestarts, err)
		}
		d.o.Logger.Warn("object changed during the download, restarting on the new version",
			"key", key, "etag", aws.ToString(head.ETag), "restart", restarts+1, "max_restarts", MaxRestarts)
		if head, err = d.head(ctx, key); err != nil {
			return Result{Restarts: restarts + 1}, err
		}
	}
}

// localPath is keypath.Local, or keypath.Dir for a folder key ("photos/").
func localPath(key string, strip int) (string, error) {
	if keypath.IsFolder(key) {
		return keypath.Dir(key, strip)
	}
	return keypath.Local(key, strip)
}

// folder delivers a folder key. A zero-byte object is a folder marker, as
// consoles and tools create them: its directory is created (same path
// rules as a file, inside the os.Root). An object with bytes under such a
// key cannot be written as a file.
func (d *delivery) folder(key string, head *s3.HeadObjectOutput) (Result, error) {
	if err := keypath.FolderBytes(key, aws.ToInt64(head.ContentLength)); err != nil {
		return Result{}, exitcode.New(exitcode.UnsafeKey, err)
	}
	rel, _ := keypath.Dir(key, d.o.StripComponents) // validated by Run
	if err := d.root.MkdirAll(rel, 0o755); err != nil {
		return Result{}, rootErr(fmt.Errorf("create folder %s: %w", rel, err))
	}
	return Result{Key: key, Path: path.Join(d.o.DataDir, rel), Folder: true, Elapsed: time.Since(d.start)}, nil
}

// head asks S3 for the object's current version and checksums.
func (d *delivery) head(ctx context.Context, key string) (*s3.HeadObjectOutput, error) {
	h, err := d.api.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: &d.o.Bucket, Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return nil, exitcode.New(classify(ctx, err), fmt.Errorf("head s3://%s/%s: %w", d.o.Bucket, key, err))
	}
	return h, nil
}

// errObjectChanged marks a response of another version than the one
// pinned (from a server that ignores If-Match).
var errObjectChanged = errors.New("object replaced")

// objectChanged: S3 refused a ranged GET pinned with If-Match because the
// key now holds another version (or the server sent that version). A 416
// for a range inside the size HEAD gave means the same from a server that
// ignores If-Match: the object is now shorter.
func objectChanged(err error) bool {
	if errors.Is(err, errObjectChanged) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusPreconditionFailed, http.StatusRequestedRangeNotSatisfiable:
			return true
		}
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "InvalidRange")
}

// attempt delivers the version head describes, unless the board has it.
func (d *delivery) attempt(ctx context.Context, key string, head *s3.HeadObjectOutput) (Result, error) {
	o := d.o
	size := aws.ToInt64(head.ContentLength)
	etag := aws.ToString(head.ETag)
	versionID := aws.ToString(head.VersionId)
	lastMod := aws.ToTime(head.LastModified)
	if size < 0 {
		return Result{}, exitcode.Errorf(exitcode.Integrity, "%w: negative Content-Length %d", ErrIntegrity, size)
	}
	// Before anything is reserved on the board's disk.
	if o.MaxBytes > 0 && size > o.MaxBytes {
		return Result{}, exitcode.Errorf(exitcode.TooLarge, "s3://%s/%s is %d bytes, larger than the board accepts (%d bytes, EDGE_DROP_MAX_BYTES)", o.Bucket, key, size, o.MaxBytes)
	}

	rel, _ := keypath.Local(key, o.StripComponents) // validated by Run: relative, clean, slash-separated
	res := Result{Key: key, Path: path.Join(o.DataDir, rel), Bytes: size, Record: path.Join(o.DataDir, record.Path(key))}

	// 4. Up to date = the record names this version (ETag, plus version
	// id on a versioned bucket) and the file is there with its size. Size
	// and mtime alone never decide: two uploads within one second can
	// have the same size and LastModified.
	rec, haveRec, err := d.records.Read(key)
	if err != nil {
		o.Logger.Warn("ignoring the delivery record", "key", key, "error", err.Error())
	}
	res.Superseded = d.superseded(key, etag, size, rec, haveRec)
	fi, err := d.root.Lstat(rel)
	switch {
	case err == nil && fi.IsDir():
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "target %s is a directory", res.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return Result{}, rootErr(fmt.Errorf("inspect target: %w", err))
	case err == nil && haveRec && rec.ETag == etag && rec.VersionID == versionID && rec.Size == size &&
		rec.LocalPath() == rel && fi.Mode().IsRegular() && fi.Size() == size:
		res.UpToDate = true
		d.noteSequencer(rec, etag)
		res.Elapsed = time.Since(d.start)
		return res, nil
	}

	ver := chooseVerifier(ctx, d.api, o.Bucket, key, etag, size, head)
	if ver.Name == "" {
		o.Logger.Warn("integrity: " + ver.Note)
	}
	res.Verified = ver.Name

	// 5. The target's directory, then a locked temp file in the state dir
	// (same file system: atomic rename; a killed task's file is found and
	// reclaimed by the next start).
	dir := path.Dir(rel)
	if fi, err := d.root.Stat(dir); err != nil || !fi.IsDir() { // Stat follows in-root symlinks
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return Result{}, rootErr(fmt.Errorf("create %s: %w", dir, err))
		}
	}
	tmp, err := state.CreateTemp(d.root)
	if err != nil {
		return Result{}, rootErr(err)
	}
	committed := false
	defer func() {
		if !committed {
			if err := tmp.Discard(); err != nil {
				o.Logger.Warn("could not remove temp file", "path", path.Join(o.DataDir, tmp.Name), "error", err.Error())
			}
		}
	}()
	if err := preallocate(tmp.File, size); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "reserve %d bytes for %s: %w", size, res.Path, err)
	}

	// 6. Fetch and verify.
	if o.OnTransfer != nil {
		o.OnTransfer(size)
	}
	f := &fetcher{api: d.api, o: o, key: key, etag: etag, size: size, f: tmp.File, ver: ver}
	if err := f.run(ctx); err != nil {
		return Result{}, exitcode.New(classify(ctx, err), err)
	}
	res.Resumes = f.resumes

	// 7. Commit: fsync file, set mtime, rename, fsync dir; then the record.
	if o.Hooks.BeforeCommit != nil {
		o.Hooks.BeforeCommit()
	}
	if err := tmp.File.Sync(); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "fsync: %w", err)
	}
	if !lastMod.IsZero() {
		if err := d.root.Chtimes(tmp.Name, lastMod, lastMod); err != nil {
			return Result{}, exitcode.Errorf(exitcode.LocalIO, "set mtime: %w", err)
		}
	}
	if err := ctx.Err(); err != nil { // last chance to honour a SIGTERM cleanly
		return Result{}, exitcode.New(classify(ctx, err), err)
	}
	if err := tmp.Commit(rel); err != nil {
		if errors.Is(err, syscall.EXDEV) {
			return Result{}, exitcode.Errorf(exitcode.LocalIO, "rename into place: %s is on another file system than %s; the data dir must be one file system", path.Dir(res.Path), path.Join(o.DataDir, state.TmpDir))
		}
		return Result{}, rootErr(fmt.Errorf("rename into place: %w", err))
	}
	committed = true
	if df, err := d.root.Open(dir); err == nil {
		if err := df.Sync(); err != nil {
			o.Logger.Warn("fsync of directory failed", "dir", dir, "error", err.Error())
		}
		df.Close()
	}
	nr := record.Record{Key: key, Bucket: o.Bucket, ETag: etag, VersionID: versionID, Size: size, LastModified: lastMod.UTC(),
		Sequencer: d.eventSequencer(etag), DeliveredAt: time.Now().UTC()}
	if rel != key {
		nr.Path = rel
	}
	if ver.Name != "" {
		nr.Checksum = ver.Name + ":" + ver.Expected
	}
	// The file is in place and is the newest version: a failed record
	// only costs a second download next time, so it is not a failure.
	if err := d.records.Write(nr); err != nil {
		o.Logger.Warn("delivery record not written; the next delivery of this key downloads again", "key", key, "error", err.Error())
		res.Record = ""
	}
	res.Elapsed = time.Since(d.start)
	return res, nil
}

// superseded logs and reports whether the triggering event is no longer
// the newest news about the key: S3 holds another version than the event
// announced, or the board already delivered this version for a later event.
func (d *delivery) superseded(key, etag string, size int64, rec record.Record, haveRec bool) bool {
	ev := d.o.Event
	if ev.ETag != "" && unquote(ev.ETag) != unquote(etag) {
		d.o.Logger.Info("event superseded", "key", key, "reason", "a newer upload replaced the event's version; delivering the current one",
			"event_etag", ev.ETag, "event_sequencer", ev.Sequencer, "event_size", ev.Size, "current_etag", etag, "current_size", size)
		return true
	}
	if haveRec && rec.ETag == etag {
		if c, ok := record.CompareSequencers(rec.Sequencer, ev.Sequencer); ok && c > 0 {
			d.o.Logger.Info("event superseded", "key", key, "reason", "this version was already delivered for a later event",
				"event_sequencer", ev.Sequencer, "record_sequencer", rec.Sequencer, "current_etag", etag)
			return true
		}
	}
	return false
}

// eventSequencer is the event's sequencer when the event announced the
// version being delivered (else it belongs to another version).
func (d *delivery) eventSequencer(etag string) string {
	if ev := d.o.Event; ev.ETag != "" && unquote(ev.ETag) == unquote(etag) {
		return ev.Sequencer
	}
	return ""
}

// noteSequencer keeps the newest event sequencer of the delivered version
// in its record, so a late, older event is recognised as superseded.
func (d *delivery) noteSequencer(rec record.Record, etag string) {
	seq := d.eventSequencer(etag)
	if seq == "" {
		return
	}
	if rec.Sequencer != "" {
		if c, ok := record.CompareSequencers(seq, rec.Sequencer); !ok || c <= 0 {
			return
		}
	}
	rec.Sequencer = seq
	if err := d.records.Write(rec); err != nil {
		d.o.Logger.Warn("could not update the delivery record", "key", rec.Key, "error", err.Error())
	}
}

// unquote drops the quotes S3 puts around ETags in headers (events carry
// them bare).
func unquote(etag string) string { return strings.Trim(etag, `"`) }
