// Package download delivers one S3 object into a file under a data
// directory: under the key's lock (package state) it HEADs the object and,
// unless the delivery record (package record) says the board has that
// version, runs concurrent ranged GETs pinned to the object's ETag with
// If-Match, written at their offsets into a locked temp file, resumed
// mid-part after a dropped connection, verified against the object's
// checksum or ETag, fsynced, atomically renamed into place and recorded. An
// object replaced during the download restarts the delivery (deliver.go).
//
// Why not feature/s3/manager or feature/s3/transfermanager: both restart a
// failed part from its first byte (no mid-part resume), neither verifies a
// whole-object checksum on ranged downloads, and pinning every part with
// If-Match needs per-request option plumbing; the loop here is ~150 lines
// over the plain SDK client, which still does signing, endpoint resolution
// and retries with backoff for every request.
package download

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
	// MaxBytes is the largest object accepted (0 = no limit): a larger
	// one fails with exit 10 before anything is written.
	MaxBytes int64
	// StripComponents leading components of the key are not part of the
	// local path (routing by key); the lock and record stay keyed by the
	// key, the record remembers the path.
	StripComponents int
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
}

// Result describes a finished download.
type Result struct {
	Key      string // the key that was fetched
	Path     string // the target file
	Bytes    int64
	Elapsed  time.Duration
	Verified string // name of the integrity check, "" if none was possible
	UpToDate bool   // the delivery record says the board has this version
	Resumes  int    // parts resumed mid-stream
	// Restarts is how often the object changed during the download and
	// the delivery started over on the new version.
	Restarts int
	// Superseded: the event's version is no longer the current one (a
	// newer upload replaced it); the current version was delivered.
	Superseded bool
	Record     string // the delivery record's path
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

// fetcher runs the part workers and the verifier for one object.
type fetcher struct {
	api     API
	o       Options
	key     string
	etag    string
	size    int64
	f       *os.File
	ver     verifier
	sums    []uint64 // per-part CRCs when ver.crc != nil
	mu      sync.Mutex
	resumes int
	// wmu serialises writes: buffered writes to one file take the inode
	// lock in the kernel anyway (ext4, tmpfs), and parallel pwrite()s spin
	// on it, burning system CPU; waiting here parks the goroutine instead.
	wmu sync.Mutex
}

func (d *fetcher) run(parent context.Context, ver verifier) error {
	if d.size == 0 {
		return d.verify(ver, nil)
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	nparts := int((d.size + d.o.PartSize - 1) / d.o.PartSize)
	d.sums = make([]uint64, nparts)
	workers := min(d.o.Concurrency, nparts)
	jobs := make(chan int, nparts)
	for i := range nparts {
		jobs <- i
	}
	close(jobs)
	done := make(chan int, nparts)

	var first error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { first = err; cancel(err) })
	}

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, bufSize)
			for i := range jobs {
				if ctx.Err() != nil {
					return
				}
				if err := d.part(ctx, i, buf); err != nil {
					fail(err)
					return
				}
				done <- i
			}
		})
	}
	// The verifier reads completed parts back in order while later parts
	// are still downloading (they are hot in the page cache), so whole
	// object checksums need no extra pass and no per-part state in memory.
	var hashErr error
	var hwg sync.WaitGroup
	hwg.Go(func() {
		hashErr = d.hashInOrder(ctx, ver, nparts, done)
		if hashErr != nil {
			fail(hashErr)
		}
	})
	wg.Wait()
	close(done)
	hwg.Wait()
	if first != nil {
		return first
	}
	if k := ver.crc; k != nil {
		crc := d.sums[0]
		for i := 1; i < nparts; i++ {
			off := int64(i) * d.o.PartSize
			crc = k.combine(crc, d.sums[i], min(off+d.o.PartSize, d.size)-off)
		}
		if got := k.encode(crc); got != ver.Expected {
			return exitcode.Errorf(exitcode.Integrity, "%w: %s of downloaded data is %s, S3 says %s", ErrIntegrity, ver.Name, got, ver.Expected)
		}
	}
	return nil
}

func (d *fetcher) hashInOrder(ctx context.Context, ver verifier, nparts int, done <-chan int) error {
	if ver.New == nil || ver.crc != nil {
		for range done {
		}
		return nil
	}
	h := ver.New()
	buf := make([]byte, bufSize)
	ready := make([]bool, nparts)
	next := 0
	for i := range done {
		ready[i] = true
		for next < nparts && ready[next] {
			off := int64(next) * d.o.PartSize
			end := min(off+d.o.PartSize, d.size)
			for off < end {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				n, err := d.f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
				h.Write(buf[:n])
				off += int64(n)
				if err != nil && off < end {
					return exitcode.Errorf(exitcode.LocalIO, "read back for verification: %w", err)
				}
			}
			next++
		}
	}
	if next < nparts { // canceled or a worker failed
		return nil
	}
	return d.verify(ver, h.Sum(nil))
}

func (d *fetcher) verify(ver verifier, sum []byte) error {
	if ver.New == nil {
		return nil
	}
	if sum == nil {
		sum = ver.New().Sum(nil) // empty object
	}
	got := ver.Encode(sum)
	if got != ver.Expected {
		return exitcode.Errorf(exitcode.Integrity, "%w: %s of downloaded data is %s, S3 says %s", ErrIntegrity, ver.Name, got, ver.Expected)
	}
	return nil
}

var errStall = errors.New("no data received within the request timeout")

// requestError is a GetObject failure before any body byte: the SDK's
// retryer has already retried it, so the part is not retried again.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// part downloads part i, resuming from the last byte written when the
// connection drops or stalls.
func (d *fetcher) part(ctx context.Context, i int, buf []byte) error {
	off := int64(i) * d.o.PartSize
	end := min(off+d.o.PartSize, d.size)
	var ph hash.Hash // inline CRC of this part; continues across resumes
	if d.ver.crc != nil {
		ph = d.ver.crc.new()
		defer func() { d.sums[i] = d.ver.crc.sum(ph) }()
	}
	failures := 0
	for off < end {
		n, err := d.fetch(ctx, off, end, buf, ph)
		off += n
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var rq *requestError
		if errors.As(err, &rq) {
			return exitcode.New(classify(ctx, rq.err), fmt.Errorf("get part %d: %w", i, rq.err))
		}
		if !retryable(ctx, err) {
			return err
		}
		if n > 0 {
			failures = 0
		}
		failures++
		if failures >= d.o.MaxStalls {
			return exitcode.Errorf(exitcode.Network, "part %d: giving up after %d attempts without progress: %w", i, failures, err)
		}
		d.mu.Lock()
		d.resumes++
		d.mu.Unlock()
		d.o.Logger.Warn("part interrupted, resuming", "part", i, "offset", off, "remaining", end-off, "error", err.Error())
		t := time.NewTimer(time.Duration(failures) * d.o.RetryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return nil
}

// fetch GETs [off, end) pinned to the ETag and writes it at off. It returns
// the bytes written even on error, so the caller can resume.
func (d *fetcher) fetch(parent context.Context, off, end int64, buf []byte, ph hash.Hash) (int64, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	// Watchdog: abandon the attempt if no byte arrives for RequestTimeout.
	wd := time.AfterFunc(d.o.RequestTimeout, func() { cancel(errStall) })
	defer wd.Stop()

	in := &s3.GetObjectInput{
		Bucket: &d.o.Bucket,
		Key:    &d.key,
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1)),
	}
	if d.etag != "" {
		in.IfMatch = &d.etag
	}
	out, err := d.api.GetObject(ctx, in)
	if err != nil {
		if errors.Is(context.Cause(ctx), errStall) && parent.Err() == nil {
			return 0, errStall
		}
		// The SDK has already retried this request with backoff.
		return 0, &requestError{err}
	}
	defer out.Body.Close()
	// First: a server that ignores If-Match answers with the new version,
	// whose length and range then differ too; the ETag says why.
	if e := aws.ToString(out.ETag); d.etag != "" && e != "" && e != d.etag {
		return 0, exitcode.Errorf(exitcode.Integrity, "%w: %w: ETag changed from %s to %s during download", ErrIntegrity, errObjectChanged, d.etag, e)
	}
	want := end - off
	if out.ContentLength != nil && *out.ContentLength != want {
		return 0, exitcode.Errorf(exitcode.Integrity, "%w: range %d-%d returned %d bytes", ErrIntegrity, off, end-1, *out.ContentLength)
	}
	if cr := aws.ToString(out.ContentRange); cr != "" && cr != fmt.Sprintf("bytes %d-%d/%d", off, end-1, d.size) {
		return 0, exitcode.Errorf(exitcode.Integrity, "%w: asked for bytes %d-%d/%d, got %q (object changed?)", ErrIntegrity, off, end-1, d.size, cr)
	}

	var written int64
	for written < want {
		wd.Reset(d.o.RequestTimeout)
		// Fill the buffer (fewer, larger pwrites) but never read past want.
		limit := min(int64(len(buf)), want-written)
		n, rerr := io.ReadFull(out.Body, buf[:limit])
		if n > 0 {
			d.wmu.Lock()
			_, werr := d.f.WriteAt(buf[:n], off+written)
			d.wmu.Unlock()
			if werr != nil {
				return written, exitcode.Errorf(exitcode.LocalIO, "write: %w", werr)
			}
			if ph != nil {
				ph.Write(buf[:n])
			}
			written += int64(n)
		}
		if rerr != nil {
			if written == want {
				break
			}
			if errors.Is(context.Cause(ctx), errStall) && parent.Err() == nil {
				return written, errStall
			}
			if errors.Is(rerr, io.EOF) {
				rerr = io.ErrUnexpectedEOF
			}
			return written, rerr
		}
	}
	// The server must not have more for us.
	var one [1]byte
	if n, _ := out.Body.Read(one[:]); n > 0 {
		return written, exitcode.Errorf(exitcode.Integrity, "%w: range %d-%d has more than %d bytes", ErrIntegrity, off, end-1, want)
	}
	return written, nil
}
