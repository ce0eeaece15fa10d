// Package download fetches one S3 object into a file under a data directory:
// concurrent ranged GETs pinned to the object's ETag with If-Match, written
// at their offsets into a temp file next to the target, resumed mid-part
// after a dropped connection, verified inline against the object's checksum
// (full-object or composite) or ETag (verify.go, fetch.go), fsynced and
// atomically renamed into place.
//
// Why not feature/s3/manager or feature/s3/transfermanager: both restart a
// failed part from its first byte (no mid-part resume), neither verifies a
// whole-object checksum on ranged downloads, and pinning every part with
// If-Match needs per-request option plumbing; the loop here is a few hundred lines
// over the plain SDK client, which still does signing, endpoint resolution
// and retries with backoff for every request.
package download

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
)

// API is the subset of *s3.Client used here (the real client is always
// used; the interface only keeps the dependency narrow).
type API interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options describe one download.
type Options struct {
	Bucket      string
	Key         string // as received; may be URL-encoded
	DataDir     string
	PartSize    int64
	Concurrency int
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
}

// Result describes a finished download.
type Result struct {
	Key      string // the key that was fetched
	Path     string // the target file
	Bytes    int64
	Elapsed  time.Duration
	Verified string // name of the integrity check, "" if none was possible
	UpToDate bool   // the target already had this object's size and mtime
	Resumes  int    // parts resumed mid-stream
}

// ErrIntegrity is wrapped by every integrity failure.
var ErrIntegrity = errors.New("integrity check failed")

const bufSize = 64 << 10 // per worker; larger buffers measured no faster but cost RSS

// Run downloads the object. Errors carry an exitcode.
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

	// 1. Every candidate key must be safe before anything touches S3 or disk.
	cands := keypath.Candidates(o.Key)
	for _, k := range cands {
		if _, err := keypath.Validate(k); err != nil {
			return Result{}, exitcode.New(exitcode.UnsafeKey, err)
		}
	}

	// 2. The data dir is opened as an os.Root: every later path operation
	// is confined to it, symlinks included.
	root, err := os.OpenRoot(o.DataDir)
	if err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "open data dir: %w", err)
	}
	defer root.Close()

	// 3. HEAD: decoded key first, raw key if the decoded one is not found.
	var head *s3.HeadObjectOutput
	var key string
	for i, k := range cands {
		head, err = api.HeadObject(ctx, &s3.HeadObjectInput{
			Bucket: &o.Bucket, Key: aws.String(k), ChecksumMode: types.ChecksumModeEnabled,
		})
		if err == nil {
			key = k
			break
		}
		// Without s3:ListBucket, S3 answers a HEAD of a missing key with
		// 403, not 404: both mean "try the raw key".
		code := classify(ctx, err)
		if (code != exitcode.NotFound && code != exitcode.Denied) || i == len(cands)-1 {
			if code == exitcode.Denied {
				err = fmt.Errorf("%w (S3 also answers 403 for a missing key when the role lacks s3:ListBucket)", err)
			}
			return Result{}, exitcode.New(code, fmt.Errorf("head s3://%s/%s: %w", o.Bucket, k, err))
		}
		o.Logger.Info("decoded key not found, trying raw key", "decoded_key", k, "raw_key", o.Key, "status", code.String())
	}
	o.Logger.Info("key resolved", "raw_key", o.Key, "key", key, "decoded", key != o.Key)

	size := aws.ToInt64(head.ContentLength)
	etag := aws.ToString(head.ETag)
	lastMod := aws.ToTime(head.LastModified)
	if size < 0 {
		return Result{}, exitcode.Errorf(exitcode.Integrity, "%w: negative Content-Length %d", ErrIntegrity, size)
	}
	ver := chooseVerifier(ctx, api, o.Bucket, key, etag, size, head)
	if ver.Name == "" {
		o.Logger.Warn("integrity: " + ver.Note)
	}

	rel := key // validated: relative, clean, slash-separated
	res := Result{Key: key, Path: path.Join(o.DataDir, rel), Bytes: size, Verified: ver.Name}

	// 4. Idempotent re-run: same size and mtime means this object is there.
	if fi, err := root.Lstat(rel); err == nil {
		if fi.Mode().IsRegular() && fi.Size() == size && !lastMod.IsZero() && fi.ModTime().Equal(lastMod) {
			res.UpToDate = true
			res.Elapsed = time.Since(start)
			return res, nil
		}
		if fi.IsDir() {
			return Result{}, exitcode.Errorf(exitcode.LocalIO, "target %s is a directory", res.Path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Result{}, rootErr(fmt.Errorf("inspect target: %w", err))
	}

	// 5. Temp file in the target directory (same file system: atomic rename).
	dir := path.Dir(rel)
	if fi, err := root.Stat(dir); err != nil || !fi.IsDir() { // Stat follows in-root symlinks
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return Result{}, rootErr(fmt.Errorf("create %s: %w", dir, err))
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, ".edge-drop-"+hex.EncodeToString(rnd[:])+".part")
	f, err := root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Result{}, rootErr(fmt.Errorf("create temp file: %w", err))
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			if rmErr := root.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				o.Logger.Warn("could not remove temp file", "path", path.Join(o.DataDir, tmp), "error", rmErr.Error())
			}
		}
	}()
	if err := preallocate(f, size); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "reserve %d bytes for %s: %w", size, res.Path, err)
	}

	// 6. Fetch and verify.
	if o.OnTransfer != nil {
		o.OnTransfer(size)
	}
	d := &fetcher{api: api, o: o, key: key, etag: etag, size: size, f: f, ver: ver}
	if err := d.run(ctx); err != nil {
		return Result{}, exitcode.New(classify(ctx, err), err)
	}
	res.Resumes = d.resumes

	// 7. Commit: fsync file, set mtime, rename, fsync dir.
	if err := f.Sync(); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "close: %w", err)
	}
	if !lastMod.IsZero() {
		if err := root.Chtimes(tmp, lastMod, lastMod); err != nil {
			return Result{}, exitcode.Errorf(exitcode.LocalIO, "set mtime: %w", err)
		}
	}
	if err := ctx.Err(); err != nil { // last chance to honour a SIGTERM cleanly
		return Result{}, exitcode.New(classify(ctx, err), err)
	}
	if err := root.Rename(tmp, rel); err != nil {
		return Result{}, rootErr(fmt.Errorf("rename into place: %w", err))
	}
	committed = true
	if df, err := root.Open(dir); err == nil {
		if err := df.Sync(); err != nil {
			o.Logger.Warn("fsync of directory failed", "dir", dir, "error", err.Error())
		}
		df.Close()
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

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
