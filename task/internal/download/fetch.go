package download

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// span is one part of the object: n bytes at offset off.
type span struct{ off, n int64 }

// maxPartFetches is how often a part whose own checksum does not match is
// fetched in total before the download fails.
const maxPartFetches = 2

// fetcher runs the part workers and the verifier for one object.
type fetcher struct {
	api  API
	o    Options
	key  string
	etag string
	size int64
	f    *os.File
	ver  verifier
	// spans are the parts: PartSize ranges, or (ver.byParts) the upload's
	// parts, each learnt from its first response. Written by the part's
	// worker only; read after the workers finish (or, for read-back
	// hashing, preplanned and never written).
	spans []span
	sums  [][]byte // per-part inline digests (ver.part)
	mu    sync.Mutex
	// counters for the log
	resumes, partsChecked, refetched int
	// Writes are not serialised here: the kernel's inode lock hands off
	// faster than a Go mutex (1 GiB, 7 interleaved runs each: 3-12% less
	// wall on CRC-checked objects, ~0.1 s more system CPU).
}

// plan lays out the parts: the upload's parts (offsets learnt later) when
// the verifier needs them, else PartSize ranges.
func (d *fetcher) plan() {
	if d.ver.byParts {
		d.spans = make([]span, d.ver.parts)
		return
	}
	for off := int64(0); off < d.size; off += d.o.PartSize {
		d.spans = append(d.spans, span{off, min(d.o.PartSize, d.size-off)})
	}
}

func (d *fetcher) run(parent context.Context) error {
	d.plan()
	nparts := len(d.spans)
	d.sums = make([][]byte, nparts)
	if d.size == 0 {
		if d.ver.byParts { // one empty part
			d.sums[0] = d.ver.part().Sum(nil)
		}
		return d.finish(nil)
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

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

	// With a whole-object hash (read back in order), a worker starts a
	// part only while fewer than HashWindow parts wait to be hashed: the download then runs at the hash's pace instead of
	// racing ahead and leaving the hash alone for its tail, and the parts
	// it reads back are still in the page cache. The token is taken before
	// the part is dequeued, so the parts holding tokens are always the
	// oldest unhashed ones and the part the hash waits for always has one.
	var window chan struct{}
	if d.ver.whole != nil {
		n := d.o.HashWindow
		if n <= 0 {
			n = workers + 2
		}
		window = make(chan struct{}, n)
		for range cap(window) {
			window <- struct{}{}
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, bufSize)
			for {
				if window != nil {
					select {
					case <-window:
					case <-ctx.Done():
						return
					}
				}
				i, ok := <-jobs
				if !ok {
					if window != nil {
						window <- struct{}{} // not needed: a worker still busy may need it to see the end
					}
					return
				}
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
	// A whole-object hash reads completed parts back in order while later
	// parts are still downloading (they are hot in the page cache), so it
	// needs no extra pass and no per-part state in memory.
	var whole []byte
	var hwg sync.WaitGroup
	hwg.Go(func() {
		var err error
		if whole, err = d.hashInOrder(ctx, done, window); err != nil {
			fail(err)
		}
	})
	wg.Wait()
	close(done)
	hwg.Wait()
	if first != nil {
		return first
	}
	// Canceled before any worker failed (e.g. a signal before the first
	// GET: the workers just stop): the file is incomplete, so report the
	// cancel, never a verification of what was not fetched.
	if parent.Err() != nil {
		return context.Cause(parent)
	}
	return d.finish(whole)
}

// finish checks the object's value: from the part digests, or the
// whole-object digest.
func (d *fetcher) finish(whole []byte) error {
	var got string
	switch {
	case d.ver.final != nil:
		if d.ver.byParts {
			if err := d.checkTiling(); err != nil {
				return err
			}
		}
		got = d.ver.final(d.spans, d.sums)
	case d.ver.whole != nil:
		if whole == nil {
			whole = d.ver.whole().Sum(nil) // empty object
		}
		got = d.ver.encode(whole)
	default:
		return nil
	}
	if got != d.ver.Expected {
		return exitcode.Errorf(exitcode.Integrity, "%w: %s of downloaded data is %s, S3 says %s", ErrIntegrity, d.ver.Name, got, d.ver.Expected)
	}
	d.o.Logger.Info("integrity verified", "check", d.ver.Name, "parts", len(d.spans), "parts_checked", d.partsChecked, "parts_refetched", d.refetched)
	return nil
}

// uniformPartSize is the part size of an upload downloaded by its parts
// when they are uniform (the last one no longer), else 0: what a later
// check of the file on disk needs (record.Record.PartSize).
func (d *fetcher) uniformPartSize() int64 {
	if !d.ver.byParts || len(d.spans) == 0 {
		return 0
	}
	p := d.spans[0].n
	for i, s := range d.spans {
		if s.n > p || (s.n != p && i < len(d.spans)-1) {
			return 0
		}
	}
	return p
}

// checkTiling makes sure the upload's parts, as the server placed them,
// cover the object exactly once, in order.
func (d *fetcher) checkTiling() error {
	var pos int64
	for i, s := range d.spans {
		if s.off != pos || (s.n <= 0 && d.size > 0) {
			return exitcode.Errorf(exitcode.Integrity, "%w: part %d is bytes %d+%d, expected it at offset %d", ErrIntegrity, i+1, s.off, s.n, pos)
		}
		pos += s.n
	}
	if pos != d.size {
		return exitcode.Errorf(exitcode.Integrity, "%w: parts cover %d of %d bytes", ErrIntegrity, pos, d.size)
	}
	return nil
}

// hashInOrder feeds the whole-object hash with each part, in order, as
// soon as it and all before it are complete, and hands a window token
// back for each part hashed.
func (d *fetcher) hashInOrder(ctx context.Context, done <-chan int, window chan<- struct{}) ([]byte, error) {
	if d.ver.whole == nil {
		for range done {
		}
		return nil, nil
	}
	h := d.ver.whole()
	buf := make([]byte, bufSize)
	ready := make([]bool, len(d.spans))
	next := 0
	for i := range done {
		ready[i] = true
		for next < len(d.spans) && ready[next] {
			off, end := d.spans[next].off, d.spans[next].off+d.spans[next].n
			for off < end {
				if ctx.Err() != nil {
					return nil, context.Cause(ctx)
				}
				n, err := d.f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
				h.Write(buf[:n])
				off += int64(n)
				if err != nil && off < end {
					return nil, exitcode.Errorf(exitcode.LocalIO, "read back for verification: %w", err)
				}
			}
			next++
			window <- struct{}{} // never blocks: one token back per part that took one
		}
	}
	if next < len(d.spans) { // canceled or a worker failed
		return nil, nil
	}
	return h.Sum(nil), nil
}

// errPartChecksum: a part's digest differs from its own checksum.
var errPartChecksum = errors.New("part checksum mismatch")

// part downloads part i; a part that fails its own checksum is fetched
// once more on its own before the download fails.
func (d *fetcher) part(ctx context.Context, i int, buf []byte) error {
	for attempt := 1; ; attempt++ {
		err := d.partOnce(ctx, i, buf)
		if !errors.Is(err, errPartChecksum) {
			return err
		}
		if attempt == maxPartFetches {
			return exitcode.Errorf(exitcode.Integrity, "%w: part %d still bad after %d fetches: %w", ErrIntegrity, i+1, attempt, err)
		}
		d.o.Logger.Warn("part failed its checksum, fetching it again", "part", i+1, "error", err.Error())
		d.mu.Lock()
		d.refetched++
		d.mu.Unlock()
	}
}

// partOnce downloads part i, hashing it inline, resuming from the last
// byte written when the connection drops or stalls. With ver.byParts the
// first request is GET ?partNumber=i+1, whose Content-Range says where the
// part lies (and, with ChecksumMode, carries its checksum); resumes are
// ranged.
func (d *fetcher) partOnce(ctx context.Context, i int, buf []byte) error {
	var ph hash.Hash
	if d.ver.part != nil {
		ph = d.ver.part()
	}
	byPart := d.ver.byParts
	var sp span
	if !byPart {
		sp = d.spans[i]
	}
	var want string // the part's own checksum, if the server sent one
	var written int64
	failures := 0
	for byPart || written < sp.n {
		req := fetchReq{off: sp.off + written, end: sp.off + sp.n}
		if byPart {
			req = fetchReq{partNumber: i + 1}
		}
		got, n, err := d.fetch(ctx, req, buf, ph)
		if byPart && got.known {
			byPart = false
			sp, want = got.span, got.sum
			d.spans[i] = sp
		}
		written += n
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var rq *requestError
		if errors.As(err, &rq) {
			return exitcode.New(classify(ctx, rq.err), fmt.Errorf("get part %d: %w", i+1, rq.err))
		}
		if !retryable(ctx, err) {
			return err
		}
		if n > 0 {
			failures = 0
		}
		failures++
		if failures >= d.o.MaxStalls {
			return exitcode.Errorf(exitcode.Network, "part %d: giving up after %d attempts without progress: %w", i+1, failures, err)
		}
		d.mu.Lock()
		d.resumes++
		d.mu.Unlock()
		d.o.Logger.Warn("part interrupted, resuming", "part", i+1, "offset", sp.off+written, "remaining", sp.n-written, "error", err.Error())
		t := time.NewTimer(time.Duration(failures) * d.o.RetryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	if ph == nil {
		return nil
	}
	sum := ph.Sum(nil)
	if want != "" {
		if got := b64(sum); got != want {
			return fmt.Errorf("%w: %s of part %d (bytes %d+%d) is %s, S3 says %s", errPartChecksum, d.ver.Name, i+1, sp.off, sp.n, got, want)
		}
		d.mu.Lock()
		d.partsChecked++
		d.mu.Unlock()
	}
	d.sums[i] = sum
	return nil
}

var errStall = errors.New("no data received within the request timeout")

// requestError is a GetObject failure before any body byte: the SDK's
// retryer has already retried it, so the part is not retried again.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// fetchReq is one GET: bytes [off, end), or a whole upload part.
type fetchReq struct {
	off, end   int64
	partNumber int // > 0: GET ?partNumber=, offsets from the response
}

// fetchResult is what a GET ?partNumber= revealed about its part.
type fetchResult struct {
	known bool
	span  span
	sum   string // the part's own checksum ("" if not sent)
}

// skipSDKValidation keeps the SDK from hashing a part body a second time
// when ChecksumMode is ENABLED: the worker already hashes it inline and
// checks it against the same header (and can re-fetch just that part).
func skipSDKValidation(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, _ = s.Deserialize.Remove("AWSChecksum:ValidateOutputPayloadChecksum") // absent: nothing to skip
		return nil
	})
}

// fetch GETs the request pinned to the ETag and writes it at its offset.
// It returns the bytes written even on error, so the caller can resume.
func (d *fetcher) fetch(parent context.Context, r fetchReq, buf []byte, ph hash.Hash) (fetchResult, int64, error) {
	var res fetchResult
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	// Watchdog: abandon the attempt if no byte arrives for RequestTimeout.
	wd := time.AfterFunc(d.o.RequestTimeout, func() { cancel(errStall) })
	defer wd.Stop()

	in := &s3.GetObjectInput{Bucket: &d.o.Bucket, Key: &d.key}
	var opts []func(*s3.Options)
	if r.partNumber > 0 {
		in.PartNumber = aws.Int32(int32(r.partNumber))
		if d.ver.partSum != nil {
			in.ChecksumMode = types.ChecksumModeEnabled
			opts = append(opts, skipSDKValidation)
		}
	} else {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", r.off, r.end-1))
	}
	if d.etag != "" {
		in.IfMatch = &d.etag
	}
	out, err := d.api.GetObject(ctx, in, opts...)
	if err != nil {
		if errors.Is(context.Cause(ctx), errStall) && parent.Err() == nil {
			return res, 0, errStall
		}
		// The SDK has already retried this request with backoff.
		return res, 0, &requestError{err}
	}
	defer out.Body.Close()
	// First: a server that ignores If-Match answers with the new version,
	// whose length, range and parts then differ too; the ETag says why.
	if e := aws.ToString(out.ETag); d.etag != "" && e != "" && e != d.etag {
		return res, 0, exitcode.Errorf(exitcode.Integrity, "%w: %w: ETag changed from %s to %s during download", ErrIntegrity, errObjectChanged, d.etag, e)
	}
	off, end := r.off, r.end
	if r.partNumber > 0 {
		sp, err := partSpan(out, d.size, r.partNumber, d.ver.parts)
		if err != nil {
			return res, 0, err
		}
		res = fetchResult{known: true, span: sp}
		if d.ver.partSum != nil {
			if v := deref(d.ver.partSum(out)); compositeParts(v) == 0 { // "-N" would be the object's, not the part's
				res.sum = v
			}
		}
		off, end = sp.off, sp.off+sp.n
	} else {
		if out.ContentLength != nil && *out.ContentLength != end-off {
			return res, 0, exitcode.Errorf(exitcode.Integrity, "%w: range %d-%d returned %d bytes", ErrIntegrity, off, end-1, *out.ContentLength)
		}
		if cr := aws.ToString(out.ContentRange); cr != "" && cr != fmt.Sprintf("bytes %d-%d/%d", off, end-1, d.size) {
			return res, 0, exitcode.Errorf(exitcode.Integrity, "%w: asked for bytes %d-%d/%d, got %q (object changed?)", ErrIntegrity, off, end-1, d.size, cr)
		}
	}

	want := end - off
	var written int64
	for written < want {
		wd.Reset(d.o.RequestTimeout)
		// Fill the buffer (fewer, larger pwrites) but never read past want.
		limit := min(int64(len(buf)), want-written)
		n, rerr := io.ReadFull(out.Body, buf[:limit])
		if n > 0 {
			_, werr := d.f.WriteAt(buf[:n], off+written)
			if werr != nil {
				return res, written, exitcode.Errorf(exitcode.LocalIO, "write: %w", werr)
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
				return res, written, errStall
			}
			if errors.Is(rerr, io.EOF) {
				rerr = io.ErrUnexpectedEOF
			}
			return res, written, rerr
		}
	}
	// The server must not have more for us.
	var one [1]byte
	if n, _ := out.Body.Read(one[:]); n > 0 {
		return res, written, exitcode.Errorf(exitcode.Integrity, "%w: range %d-%d has more than %d bytes", ErrIntegrity, off, end-1, want)
	}
	return res, written, nil
}
