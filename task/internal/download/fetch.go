package download

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
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

// snapshotEvery is how many bytes of a part a worker writes between two
// notes of its hash's state: what an interrupted part loses at most.
const snapshotEvery = 1 << 20

// part is one part of the object and what the download holds of it.
type part struct {
	span  span
	known bool // span is known (else GET ?partNumber= tells it)
	// written bytes from span.off are on disk; state is the part hash's
	// state after them (for the progress record), sum its digest once the
	// part is complete.
	written int64
	state   []byte
	sum     []byte
	want    string // the part's own checksum, as the server sent it
	// kept: written (and state or sum) come from an earlier delivery's
	// progress record and are checked against the file before use.
	kept bool
}

func (p *part) complete() bool { return p.known && p.written == p.span.n && p.sum != nil }

// fetcher runs the part workers and the verifier for one object.
type fetcher struct {
	api       API
	o         Options
	key       string
	etag      string
	versionID string
	size      int64
	f         *os.File
	ver       verifier
	lim       *Limiter
	// partSize is the size of the ranges the parts are (0: the upload's).
	partSize int64

	// mu guards parts and whole: each part is written by its worker only,
	// read by the checkpointer and, once the workers are done, by finish.
	mu    sync.Mutex
	parts []part
	whole *wholeState // the whole-object hash after its first parts

	// counters for the log
	resumes, partsChecked, refetched int
	fetched, kept                    atomic.Int64
	// total counts the bytes fetched by every delivery of the task.
	total *atomic.Int64
	// progressed wakes the checkpointer (nil: no progress is recorded);
	// a worker notes its part's progress every noteEvery bytes.
	progressed func(n int64)
	noteEvery  int64
	// gate holds a worker that runs too far ahead of the disk (nil: never).
	gate func(context.Context) error
	// Writes are not serialised here: the kernel's inode lock hands off
	// faster than a Go mutex (1 GiB, 7 interleaved runs each: 3-12% less
	// wall on CRC-checked objects, ~0.1 s more system CPU).
}

// wholeState is a whole-object hash after the first parts of the object.
type wholeState struct {
	parts int
	state []byte
}

// plan lays out the parts: the upload's parts (offsets learnt later) when
// the verifier needs them, else PartSize ranges.
func (d *fetcher) plan(partSize int64) {
	d.partSize = 0
	if d.ver.byParts {
		d.parts = make([]part, d.ver.parts)
		return
	}
	d.parts, d.partSize = d.parts[:0], partSize
	for off := int64(0); off < d.size; off += partSize {
		d.parts = append(d.parts, part{span: span{off, min(partSize, d.size-off)}, known: true})
	}
}

// partHash is the digest each worker computes over its part: the
// verifier's own, or for the checks that hash the object as a whole (and
// for none) a CRC-32C, which lets an interrupted delivery's parts be
// checked again when the next one resumes.
func (d *fetcher) partHash() hash.Hash {
	if d.ver.part != nil {
		return d.ver.part()
	}
	return kindCRC32C.new()
}

func (d *fetcher) run(parent context.Context) error {
	if len(d.parts) == 0 {
		d.plan(d.o.PartSize)
	}
	if d.size == 0 {
		if d.ver.byParts { // one empty part
			d.parts[0] = part{known: true, sum: d.ver.part().Sum(nil)}
		}
		return d.finish(nil)
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	var first error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { first = err; cancel(err) })
	}
	workers := min(d.o.Concurrency, len(d.parts))
	window := d.hashWindow(workers)
	done := make(chan int, len(d.parts))
	var wg sync.WaitGroup
	jobs := d.jobs()
	for range workers {
		wg.Go(func() { d.worker(ctx, jobs, done, window, fail) })
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
	stopLog := d.logProgress(ctx)
	wg.Wait()
	close(done)
	hwg.Wait()
	stopLog()
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

// jobs queues every part that is not verified complete yet.
func (d *fetcher) jobs() chan int {
	jobs := make(chan int, len(d.parts))
	for i := range d.parts {
		jobs <- i
	}
	close(jobs)
	return jobs
}

// hashWindow: with a whole-object hash (read back in order), a worker
// starts a part only while fewer than HashWindow parts wait to be hashed:
// the download then runs at the hash's pace instead of racing ahead and
// leaving the hash alone for its tail, and the parts it reads back are
// still in the page cache. The token is taken before the part is dequeued,
// so the parts holding tokens are always the oldest unhashed ones and the
// part the hash waits for always has one.
func (d *fetcher) hashWindow(workers int) chan struct{} {
	if d.ver.whole == nil {
		return nil
	}
	n := d.o.HashWindow
	if n <= 0 {
		n = workers + 2
	}
	window := make(chan struct{}, n)
	for range cap(window) {
		window <- struct{}{}
	}
	return window
}

// worker fetches parts from jobs until there are none, or one fails.
func (d *fetcher) worker(ctx context.Context, jobs <-chan int, done chan<- int, window chan struct{}, fail func(error)) {
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
		spans, sums := d.digests()
		got = d.ver.final(spans, sums)
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
	d.o.Logger.Info("integrity verified", "check", d.ver.Name, "parts", len(d.parts), "parts_checked", d.partsChecked, "parts_refetched", d.refetched)
	return nil
}

// digests returns the parts' spans and digests, in order.
func (d *fetcher) digests() ([]span, [][]byte) {
	spans := make([]span, len(d.parts))
	sums := make([][]byte, len(d.parts))
	for i, p := range d.parts {
		spans[i], sums[i] = p.span, p.sum
	}
	return spans, sums
}

// uniformPartSize is the part size of an upload downloaded by its parts
// when they are uniform (the last one no longer), else 0: what a later
// check of the file on disk needs (record.Record.PartSize).
func (d *fetcher) uniformPartSize() int64 {
	if !d.ver.byParts || len(d.parts) == 0 {
		return 0
	}
	p := d.parts[0].span.n
	for i, s := range d.parts {
		if s.span.n > p || (s.span.n != p && i < len(d.parts)-1) {
			return 0
		}
	}
	return p
}

// checkTiling makes sure the upload's parts, as the server placed them,
// cover the object exactly once, in order.
func (d *fetcher) checkTiling() error {
	var pos int64
	for i, p := range d.parts {
		if p.span.off != pos || (p.span.n <= 0 && d.size > 0) {
			return exitcode.Errorf(exitcode.Integrity, "%w: part %d is bytes %d+%d, expected it at offset %d", ErrIntegrity, i+1, p.span.off, p.span.n, pos)
		}
		pos += p.span.n
	}
	if pos != d.size {
		return exitcode.Errorf(exitcode.Integrity, "%w: parts cover %d of %d bytes", ErrIntegrity, pos, d.size)
	}
	return nil
}

// hashInOrder feeds the whole-object hash with each part, in order, as
// soon as it and all before it are complete, and hands a window token
// back for each part. A resumed download starts from the hash's recorded
// state after its first parts, which are not read again.
func (d *fetcher) hashInOrder(ctx context.Context, done <-chan int, window chan<- struct{}) ([]byte, error) {
	if d.ver.whole == nil {
		for range done {
		}
		return nil, nil
	}
	h, next := d.ver.whole(), 0
	if ws := d.whole; ws != nil && restore(h, ws.state) {
		next = ws.parts
	}
	buf := make([]byte, bufSize)
	ready := make([]bool, len(d.parts))
	for i := range done {
		ready[i] = true
		if i < next {
			window <- struct{}{} // hashed by an earlier delivery
			continue
		}
		for next < len(d.parts) && ready[next] {
			sp := d.parts[next].span // complete: its worker no longer writes it
			if err := hashRange(ctx, d.f, sp.off, sp.n, h, buf); err != nil {
				return nil, err
			}
			next++
			if st, ok := marshal(h); ok {
				d.mu.Lock()
				d.whole = &wholeState{parts: next, state: st}
				d.mu.Unlock()
			}
			window <- struct{}{} // never blocks: one token back per part that took one
		}
	}
	if next < len(d.parts) { // canceled or a worker failed
		return nil, nil
	}
	return h.Sum(nil), nil
}

// errPartChecksum: a part's digest differs from its own checksum.
var errPartChecksum = errors.New("part checksum mismatch")

// part completes part i: a part an earlier delivery left is checked
// against the file first; a part that fails its own checksum is fetched
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
		d.parts[i] = part{span: d.parts[i].span, known: d.parts[i].known && !d.ver.byParts}
		d.mu.Unlock()
	}
}

// partRun is one worker's pass over a part: its hash and where it is.
type partRun struct {
	i       int
	sp      span
	known   bool
	h       hash.Hash
	written int64  // bytes of the part on disk and in h
	noted   int64  // written at the last snapshot
	want    string // the part's own checksum
}

// partOnce completes part i, hashing it inline, resuming from the last
// byte written when the connection drops or stalls. Unless its span is
// known, the first request is GET ?partNumber=i+1, whose Content-Range
// says where the part lies (and, with ChecksumMode, carries its checksum);
// resumes are ranged.
func (d *fetcher) partOnce(ctx context.Context, i int, buf []byte) error {
	d.mu.Lock()
	p := d.parts[i]
	d.mu.Unlock()
	pr := &partRun{i: i, sp: p.span, known: p.known, h: d.partHash(), want: p.want}
	if p.kept && p.written > 0 {
		if d.recheck(ctx, pr, p, buf) && pr.written == pr.sp.n {
			return d.completePart(pr)
		}
	}
	failures := 0
	for !pr.known || pr.written < pr.sp.n {
		n, err := d.fetch(ctx, pr, buf)
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
		d.o.Logger.Warn("part interrupted, resuming", "part", i+1, "offset", pr.sp.off+pr.written, "remaining", pr.sp.n-pr.written, "error", err.Error())
		t := time.NewTimer(time.Duration(failures) * d.o.RetryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return d.completePart(pr)
}

// recheck reads what an earlier delivery left of a part and compares its
// hash with the recorded one; when they match, pr continues from there,
// else from the part's first byte.
func (d *fetcher) recheck(ctx context.Context, pr *partRun, p part, buf []byte) bool {
	if err := hashRange(ctx, d.f, p.span.off, p.written, pr.h, buf); err != nil {
		pr.h = d.partHash()
		return false
	}
	ok := false
	if p.written == p.span.n && p.sum != nil {
		ok = string(pr.h.Sum(nil)) == string(p.sum)
	} else if st, can := marshal(pr.h); can && p.state != nil {
		ok = string(st) == string(p.state)
	}
	if !ok {
		d.o.Logger.Warn("an interrupted download's part no longer holds what it had; fetching it again", "part", pr.i+1, "offset", p.span.off, "bytes", p.written)
		pr.h = d.partHash()
		d.mu.Lock()
		d.parts[pr.i] = part{span: p.span, known: p.known, want: p.want} // no checkpoint may name it now
		d.mu.Unlock()
		return false
	}
	pr.written, pr.noted = p.written, p.written
	d.kept.Add(p.written)
	return true
}

// completePart checks a finished part against its own checksum and marks
// it complete.
func (d *fetcher) completePart(pr *partRun) error {
	sum := pr.h.Sum(nil)
	checked := false
	if pr.want != "" && d.ver.part != nil {
		if got := b64(sum); got != pr.want {
			return fmt.Errorf("%w: %s of part %d (bytes %d+%d) is %s, S3 says %s", errPartChecksum, d.ver.Name, pr.i+1, pr.sp.off, pr.sp.n, got, pr.want)
		}
		checked = true
	}
	d.mu.Lock()
	if checked {
		d.partsChecked++
	}
	d.parts[pr.i] = part{span: pr.sp, known: true, written: pr.written, sum: sum, want: pr.want}
	d.mu.Unlock()
	d.note(pr.written - pr.noted)
	pr.noted = pr.written
	return nil
}

// snapshot notes, every snapshotEvery bytes, how far the part is and its
// hash's state, for the progress record.
func (d *fetcher) snapshot(pr *partRun) {
	if d.progressed == nil || pr.written-pr.noted < d.noteEvery {
		return
	}
	st, ok := marshal(pr.h)
	if !ok {
		return
	}
	d.mu.Lock()
	d.parts[pr.i] = part{span: pr.sp, known: pr.known, written: pr.written, state: st, want: pr.want}
	d.mu.Unlock()
	d.note(pr.written - pr.noted)
	pr.noted = pr.written
}

func (d *fetcher) note(n int64) {
	if d.progressed != nil && n > 0 {
		d.progressed(n)
	}
}

// marshal returns a hash's state (every hash used here can: crc32,
// crc64nvme, md5, sha1, sha256).
func marshal(h hash.Hash) ([]byte, bool) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, false
	}
	b, err := m.MarshalBinary()
	return b, err == nil
}

// restore sets h to a state from marshal.
func restore(h hash.Hash, state []byte) bool {
	u, ok := h.(encoding.BinaryUnmarshaler)
	return ok && u.UnmarshalBinary(state) == nil
}

var errStall = errors.New("no data received within the request timeout")

// requestError is a GetObject failure before any body byte: the SDK's
// retryer has already retried it, so the part is not retried again.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// skipSDKValidation keeps the SDK from hashing a part body a second time
// when ChecksumMode is ENABLED: the worker already hashes it inline and
// checks it against the same header (and can re-fetch just that part).
func skipSDKValidation(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, _ = s.Deserialize.Remove("AWSChecksum:ValidateOutputPayloadChecksum") // absent: nothing to skip
		return nil
	})
}

// request builds the GET of what pr still lacks, pinned to the ETag: the
// rest of its span, or (span unknown) the whole upload part.
func (d *fetcher) request(pr *partRun) (*s3.GetObjectInput, []func(*s3.Options)) {
	in := &s3.GetObjectInput{Bucket: &d.o.Bucket, Key: &d.key}
	var opts []func(*s3.Options)
	if !pr.known {
		in.PartNumber = aws.Int32(int32(pr.i + 1))
		if d.ver.partSum != nil {
			in.ChecksumMode = types.ChecksumModeEnabled
			opts = append(opts, skipSDKValidation)
		}
	} else {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", pr.sp.off+pr.written, pr.sp.off+pr.sp.n-1))
	}
	if d.etag != "" {
		in.IfMatch = &d.etag
	}
	return in, opts
}

// fetch GETs what pr lacks and writes it at its offset. It returns the
// bytes written even on error, so the caller can resume.
func (d *fetcher) fetch(parent context.Context, pr *partRun, buf []byte) (int64, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	// Watchdog: abandon the attempt if no byte arrives for RequestTimeout.
	wd := time.AfterFunc(d.o.RequestTimeout, func() { cancel(errStall) })
	defer wd.Stop()

	in, opts := d.request(pr)
	out, err := d.api.GetObject(ctx, in, opts...)
	if err != nil {
		if errors.Is(context.Cause(ctx), errStall) && parent.Err() == nil {
			return 0, errStall
		}
		// The SDK has already retried this request with backoff.
		return 0, &requestError{err}
	}
	defer out.Body.Close()
	if err := d.checkResponse(pr, out); err != nil {
		return 0, err
	}
	start := pr.written
	for pr.written < pr.sp.n {
		wd.Reset(d.o.RequestTimeout)
		// Fill the buffer (fewer, larger pwrites) but never read past the
		// span, nor more than the bandwidth budget's bucket.
		limit := min(int64(len(buf)), pr.sp.n-pr.written, int64(d.lim.Chunk()))
		n, rerr := io.ReadFull(out.Body, buf[:limit])
		if n > 0 {
			if _, werr := d.f.WriteAt(buf[:n], pr.sp.off+pr.written); werr != nil {
				return pr.written - start, exitcode.Errorf(exitcode.LocalIO, "write: %w", werr)
			}
			pr.h.Write(buf[:n])
			pr.written += int64(n)
			d.fetched.Add(int64(n))
			if d.total != nil {
				d.total.Add(int64(n))
			}
			d.snapshot(pr)
			wd.Stop() // waiting for the disk or the budget is no stall
			if d.gate != nil {
				if err := d.gate(ctx); err != nil {
					return pr.written - start, err
				}
			}
			if err := d.lim.Wait(ctx, n); err != nil {
				return pr.written - start, err
			}
		}
		if rerr != nil {
			if pr.written == pr.sp.n {
				break
			}
			if errors.Is(context.Cause(ctx), errStall) && parent.Err() == nil {
				return pr.written - start, errStall
			}
			if errors.Is(rerr, io.EOF) {
				rerr = io.ErrUnexpectedEOF
			}
			return pr.written - start, rerr
		}
	}
	// The server must not have more for us.
	var one [1]byte
	if n, _ := out.Body.Read(one[:]); n > 0 {
		return pr.written - start, exitcode.Errorf(exitcode.Integrity, "%w: bytes %d-%d have more than %d bytes", ErrIntegrity, pr.sp.off+start, pr.sp.off+pr.sp.n-1, pr.sp.n-start)
	}
	return pr.written - start, nil
}

// checkResponse checks a GET's headers against what was asked: the ETag
// (a server that ignores If-Match answers with the new version), and the
// range, or for GET ?partNumber= where the part lies (which pr learns,
// with the part's own checksum when the server sends it).
func (d *fetcher) checkResponse(pr *partRun, out *s3.GetObjectOutput) error {
	if e := aws.ToString(out.ETag); d.etag != "" && e != "" && e != d.etag {
		return exitcode.Errorf(exitcode.Integrity, "%w: %w: ETag changed from %s to %s during download", ErrIntegrity, errObjectChanged, d.etag, e)
	}
	if !pr.known {
		sp, err := partSpan(out, d.size, pr.i+1, d.ver.parts)
		if err != nil {
			return err
		}
		pr.sp, pr.known = sp, true
		if d.ver.partSum != nil {
			if v := deref(d.ver.partSum(out)); compositeParts(v) == 0 { // "-N" would be the object's, not the part's
				pr.want = v
			}
		}
		return nil
	}
	off, end := pr.sp.off+pr.written, pr.sp.off+pr.sp.n
	if out.ContentLength != nil && *out.ContentLength != end-off {
		return exitcode.Errorf(exitcode.Integrity, "%w: range %d-%d returned %d bytes", ErrIntegrity, off, end-1, *out.ContentLength)
	}
	if cr := aws.ToString(out.ContentRange); cr != "" && cr != fmt.Sprintf("bytes %d-%d/%d", off, end-1, d.size) {
		return exitcode.Errorf(exitcode.Integrity, "%w: asked for bytes %d-%d/%d, got %q (object changed?)", ErrIntegrity, off, end-1, d.size, cr)
	}
	return nil
}

// logProgress writes a "progress" line every 10 s of a transfer, and at
// each 10% step at most once a second: a bounded number of lines whatever
// the object's size or the link's speed.
func (d *fetcher) logProgress(ctx context.Context) (stop func()) {
	stopc := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastStep := start, int64(0)
		for {
			select {
			case <-stopc:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				got := d.fetched.Load() + d.kept.Load()
				step := got * 10 / max(d.size, 1)
				if now.Sub(last) < 10*time.Second && (step == lastStep || now.Sub(last) < time.Second) {
					continue
				}
				last, lastStep = now, step
				secs := now.Sub(start).Seconds()
				rate := float64(d.fetched.Load()) / secs
				attrs := []any{"key", d.key, "bytes", got, "of", d.size, "percent", got * 100 / max(d.size, 1),
					"mb_per_s", round1(rate / 1e6), "rate_limit", d.lim.Rate()}
				if rate > 0 {
					attrs = append(attrs, "eta_s", int64(float64(d.size-got)/rate))
				}
				d.o.Logger.Info("progress", attrs...)
			}
		}
	})
	return func() { close(stopc); wg.Wait() }
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
