package download

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
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
)

// MaxRestarts is how often one delivery starts over on a new version when
// the object is replaced during the download (412 on If-Match) before it
// gives up with exit 8. Each restart means another upload landed within
// one download's time; a key that changes that often has no "newest
// version" to deliver.
const MaxRestarts = 3

// errTryRaw: the decoded key is not in the bucket; try the raw key.
var errTryRaw = errors.New("decoded key not found")

// delivery is one object's delivery: what every attempt shares.
type delivery struct {
	b     *Board
	api   API
	o     Options
	start time.Time
}

// Run delivers one object into o.DataDir: it opens the board, delivers
// (Board.Deliver) and closes it. Errors carry an exitcode.
func Run(ctx context.Context, api API, o Options) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	// The key that will be tried first must be safe before anything
	// touches S3 or disk; the raw key is checked only if it is tried.
	if _, err := localPath(o.candidates()[0], o.StripComponents); err != nil {
		return Result{}, exitcode.New(exitcode.UnsafeKey, err)
	}
	b, err := OpenBoard(ctx, o)
	if err != nil {
		return Result{}, err
	}
	defer b.Close()
	return b.Deliver(ctx, api, o)
}

// Deliver delivers the object o names: under its path's lock it asks S3
// for the current version (HEAD), returns at once if the delivery record
// says the board has it, else downloads it into the path's partial
// (resuming an interrupted download of the same version), and commits it
// alone: durable, renamed into place, recorded.
func (b *Board) Deliver(ctx context.Context, api API, o Options) (Result, error) {
	var res Result
	var err error
	b.deliver(ctx, api, o, alone{}, func(r Result, e error) { res, err = r, e })
	return res, err
}

// deliver runs a delivery and hands what it staged to c, which calls done
// once it is committed (done is called directly when there is nothing to
// commit).
func (b *Board) deliver(ctx context.Context, api API, o Options, c committer, done func(Result, error)) {
	o, err := o.withDefaults()
	if err != nil {
		done(Result{}, err)
		return
	}
	d := &delivery{b: b, api: api, o: o, start: time.Now()}
	cands := o.candidates()
	// Decoded key first, raw key if S3 does not have the decoded one.
	for i, k := range cands {
		if _, err := localPath(k, o.StripComponents); err != nil {
			if i > 0 {
				err = fmt.Errorf("decoded key %q not found, raw key: %w", cands[0], err)
			}
			done(Result{}, exitcode.New(exitcode.UnsafeKey, err))
			return
		}
		res, st, err := d.deliverKey(ctx, k, i == len(cands)-1)
		if errors.Is(err, errTryRaw) {
			continue
		}
		if st != nil {
			st.done = done
			c.commit(st)
			return
		}
		res.Elapsed = time.Since(d.start)
		done(res, err)
		return
	}
	// deliverKey answers errTryRaw only while candidates remain.
	done(Result{}, exitcode.Errorf(exitcode.NotFound, "s3://%s/%s not found", o.Bucket, o.Key))
}

// withDefaults fills what o leaves unset, or says what is wrong.
func (o Options) withDefaults() (Options, error) {
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
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.PartSize <= 0 {
		return o, exitcode.Errorf(exitcode.Usage, "part size must be positive")
	}
	return o, nil
}

// candidates are the keys to try: the event's key decoded, then raw; a
// listed key (ExactKey) as it is.
func (o Options) candidates() []string {
	if o.ExactKey {
		return []string{o.Key}
	}
	return keypath.Candidates(o.Key)
}

// deliverKey delivers key under its path's lock, starting over (at most
// MaxRestarts times) when the object changes during the download. What it
// stages keeps the lock until its commit.
func (d *delivery) deliverKey(ctx context.Context, key string, last bool) (Result, *staged, error) {
	rel, _ := localPath(key, d.o.StripComponents) // validated by deliver
	lock, err := d.b.state.Lock(ctx, rel, func() {
		d.o.Logger.Info("waiting for another delivery of this key", "key", key, "path", rel)
		if d.o.Hooks.LockWait != nil {
			d.o.Hooks.LockWait()
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, nil, exitcode.New(classify(ctx, err), err)
		}
		return Result{}, nil, rootErr(err)
	}
	handed := false
	defer func() {
		if !handed {
			lock.Unlock()
		}
	}()
	head, err := d.resolve(ctx, key, last)
	if err != nil {
		return Result{}, nil, err
	}
	if keypath.IsFolder(key) {
		res, err := d.folder(key, head)
		return res, nil, err
	}
	for restarts := 0; ; restarts++ {
		res, st, err := d.attempt(ctx, key, head)
		res.Restarts = restarts
		if st != nil {
			st.res.Restarts, st.lock, handed = restarts, lock, true
			return st.res, st, nil
		}
		if err == nil || !objectChanged(err) {
			return res, nil, err
		}
		if restarts == MaxRestarts {
			return res, nil, exitcode.Errorf(exitcode.Integrity, "%w: s3://%s/%s kept changing: replaced during the download %d times in a row (gave up after %d restarts): %w",
				ErrIntegrity, d.o.Bucket, key, restarts+1, MaxRestarts, err)
		}
		d.o.Logger.Warn("object changed during the download, restarting on the new version",
			"key", key, "etag", aws.ToString(head.ETag), "restart", restarts+1, "max_restarts", MaxRestarts)
		if head, err = d.head(ctx, key); err != nil {
			return Result{Restarts: restarts + 1}, nil, err
		}
	}
}

// resolve HEADs key. Without s3:ListBucket, S3 answers a HEAD of a
// missing key with 403, not 404: both mean "try the raw key" (errTryRaw)
// while one is left.
func (d *delivery) resolve(ctx context.Context, key string, last bool) (*s3.HeadObjectOutput, error) {
	head, err := d.head(ctx, key)
	if err != nil {
		code := exitcode.Of(err)
		if _, ok := s3conn.NoCredentials(err); ok {
			return nil, err // no answer from S3 about this key, nor about the raw one
		}
		if (code == exitcode.NotFound || code == exitcode.Denied) && !last {
			d.o.Logger.Info("decoded key not found, trying raw key", "decoded_key", key, "raw_key", d.o.Key, "status", code.String())
			return nil, errTryRaw
		}
		if code == exitcode.Denied {
			err = fmt.Errorf("%w (S3 also answers 403 for a missing key when the role lacks s3:ListBucket)", err)
		}
		return nil, exitcode.New(code, err)
	}
	d.o.Logger.Info("key resolved", "raw_key", d.o.Key, "key", key, "decoded", key != d.o.Key)
	return head, nil
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
	rel, _ := keypath.Dir(key, d.o.StripComponents) // validated by deliver
	if err := d.b.root.MkdirAll(rel, 0o755); err != nil {
		return Result{}, rootErr(fmt.Errorf("create folder %s: %w", rel, err))
	}
	return Result{Key: key, Path: path.Join(d.o.DataDir, rel), Rel: rel, Folder: true, Elapsed: time.Since(d.start)}, nil
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

// object is the version a HEAD described.
type object struct {
	key, etag, versionID string
	size                 int64
	lastMod              time.Time
}

// objectOf reads the version a HEAD describes, and refuses it when it is
// larger than the board accepts (before anything is reserved on its disk).
func (d *delivery) objectOf(key string, head *s3.HeadObjectOutput) (object, error) {
	obj := object{key: key, etag: aws.ToString(head.ETag), versionID: aws.ToString(head.VersionId),
		size: aws.ToInt64(head.ContentLength), lastMod: aws.ToTime(head.LastModified)}
	if obj.size < 0 {
		return obj, exitcode.Errorf(exitcode.Integrity, "%w: negative Content-Length %d", ErrIntegrity, obj.size)
	}
	if m := d.o.MaxBytes; m > 0 && obj.size > m {
		return obj, exitcode.Errorf(exitcode.TooLarge, "s3://%s/%s is %d bytes, larger than the board accepts (%d bytes, EDGE_DROP_MAX_BYTES)", d.o.Bucket, key, obj.size, m)
	}
	return obj, nil
}

// attempt delivers the version head describes, unless the board has it:
// decide, then transfer, which stages the verified file for its commit.
func (d *delivery) attempt(ctx context.Context, key string, head *s3.HeadObjectOutput) (Result, *staged, error) {
	obj, err := d.objectOf(key, head)
	if err != nil {
		return Result{}, nil, err
	}
	rel, _ := keypath.Local(key, d.o.StripComponents) // validated by deliver: relative, clean, slash-separated
	res := Result{Key: key, Rel: rel, Path: path.Join(d.o.DataDir, rel), ETag: obj.etag, VersionID: obj.versionID,
		Bytes: obj.size, Record: path.Join(d.o.DataDir, record.Path(rel))}
	p, done, err := d.decide(ctx, obj, head, &res)
	if err != nil || done {
		return res, nil, err
	}
	st, err := d.transfer(ctx, obj, p, res)
	return res, st, err
}

// unquote drops the quotes S3 puts around ETags in headers (events carry
// them bare).
func unquote(etag string) string { return strings.Trim(etag, `"`) }
