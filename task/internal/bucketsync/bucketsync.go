// Package bucketsync is the task's sync mode: it lists a bucket prefix
// page by page, keeps the keys the pipeline would deliver (the pipeline's
// StringMatches pattern on the event-encoded key; safe keys; not over the
// size limit), and delivers every object the board lacks or holds in
// another version, several at once, through the single-object delivery
// (package download: lock, verification, atomic commit, record). With
// mirroring on, it then removes delivered files whose objects are gone
// (package prune).
//
// Memory does not grow with the number of objects: one listing page (at
// most 1,000 entries) is held at a time, the downloads queue holds
// Objects keys, and mirroring keeps one 8-byte hash per listed key (80 KB
// for 10,000 keys, 8-10 MB for a million; see listedSet).
package bucketsync

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
	"github.com/edge-drop/edge-drop/task/internal/prune"
	"github.com/edge-drop/edge-drop/task/internal/record"
)

// API is the part of *s3.Client a sync uses.
type API interface {
	download.API
	s3.ListObjectsV2APIClient
}

// Options describe one sync.
type Options struct {
	Bucket  string
	Prefix  string // raw key prefix for ListObjectsV2
	Pattern string // StringMatches pattern on the event-encoded key; "" = "*"
	DataDir string
	// Objects is how many objects are downloaded at once (each with
	// Download.Concurrency ranged GETs).
	Objects int
	// MirrorDeletes removes delivered files whose objects are gone.
	MirrorDeletes bool
	// PageSize is ListObjectsV2's MaxKeys (0 = S3's default, 1,000).
	PageSize int32
	// Download carries the per-object settings (part size, concurrency,
	// timeouts, size limit, logger); Bucket, Key and DataDir are set here.
	Download download.Options
	Logger   *slog.Logger
}

// Summary counts what a sync did; it is logged as one line.
type Summary struct {
	Listed     int // keys listed under the prefix
	Checked    int // of those, keys the pattern keeps
	Downloaded int // delivered now: New + Updated + conflicts that wrote the path
	New        int // of those, files that were not on the board
	Updated    int // of those, files replaced by another version (edge-drop's own earlier delivery)
	// UpToDate: the record names the listed version and the file is
	// untouched since its delivery, or its content was verified (or a
	// folder marker's directory is there).
	UpToDate int
	// Conflicts: a file at the path that edge-drop did not deliver, or
	// that changed since, was kept as a copy beside it; or another key
	// owns the path, or this key took it from another (one line each).
	Conflicts int
	// Reverified: files whose identity differed from their record (or had
	// no record, or an old one) and whose content was checked.
	Reverified int
	Folders    int // folder markers ("photos/", zero bytes) whose directories were created now
	Skipped    int // keys the pipeline refuses (unsafe, over the size limit)
	Unsafe     int // of those, unsafe keys (no board path can hold them)
	Failed     int // deliveries or deletes that failed (one log line each)
	// FailedKeys are the first contract.MaxReportedKeys failed keys.
	FailedKeys [contract.MaxReportedKeys]string
	Vanished   int   // deleted between the listing and the download
	Deleted    int   // files removed because their objects are gone (mirroring)
	Kept       int   // files not removed although their objects are gone: changed since delivery, not ours
	Bytes      int64 // bytes downloaded
	// Flushes counts the syncfs calls that made the deliveries durable:
	// one per batch of up to 64 files, not one per file.
	Flushes int
	Elapsed time.Duration
}

// FirstFailed returns the failed keys the summary names, in order.
func (s Summary) FirstFailed() []string {
	var out []string
	for _, k := range s.FailedKeys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Run syncs. The error is nil when every kept object is on the board,
// exit 11 (partial) when some failed after a complete listing, or the
// listing's own failure (the downloads started before it still finish;
// no deletes then).
func Run(ctx context.Context, api API, o Options) (Summary, error) {
	s := &syncer{o: o, api: api, start: time.Now()}
	if s.o.Logger == nil {
		s.o.Logger = slog.New(slog.DiscardHandler)
	}
	if s.o.Objects <= 0 {
		s.o.Objects = 1
	}
	if s.o.Pattern == "" {
		s.o.Pattern = "*"
	}
	s.pat = contract.CompilePattern(s.o.Pattern)
	bo := o.Download
	bo.DataDir, bo.Logger = o.DataDir, s.o.Logger
	b, err := download.OpenBoard(ctx, bo)
	if err != nil {
		return s.sum, err
	}
	defer b.Close()
	s.board, s.root, s.records = b, b.Root(), b.Records()
	if s.batch, err = b.NewBatch(); err != nil {
		return s.sum, err
	}
	if o.MirrorDeletes {
		s.listed = newListedSet()
	}

	stopProgress := s.logProgress()
	jobs := make(chan string, s.o.Objects)
	var wg sync.WaitGroup
	for range s.o.Objects {
		wg.Go(func() {
			for key := range jobs {
				s.deliver(ctx, key)
			}
		})
	}
	listErr := s.list(ctx, jobs)
	close(jobs)
	wg.Wait()
	s.batch.Close() // the last batch is durable, every delivery counted
	s.sum.Flushes = s.batch.Flushes
	stopProgress()

	if listErr == nil && ctx.Err() == nil && o.MirrorDeletes {
		s.mirrorDeletes(ctx)
	}
	s.sum.Elapsed = time.Since(s.start)
	switch {
	case ctx.Err() != nil:
		return s.sum, exitcode.New(download.Classify(ctx, ctx.Err()), context.Cause(ctx))
	case listErr != nil:
		return s.sum, listErr
	case s.sum.Failed > 0:
		first := s.sum.FirstFailed()
		quoted := make([]string, len(first))
		for i, k := range first {
			quoted[i] = strconv.Quote(k)
		}
		more := ""
		if s.sum.Failed > len(first) {
			more = ", …"
		}
		return s.sum, exitcode.Errorf(exitcode.Partial, "sync incomplete: %d of %d objects failed (%s%s); the rest are on the board",
			s.sum.Failed, s.sum.Checked, strings.Join(quoted, ", "), more)
	}
	return s.sum, nil
}

type syncer struct {
	o       Options
	api     API
	pat     contract.Pattern
	board   *download.Board
	batch   *download.Batch
	root    *os.Root
	records *record.Store
	listed  *listedSet
	start   time.Time
	mu      sync.Mutex // guards sum while workers run
	sum     Summary
}

// list walks the listing page by page and queues what needs a download.
func (s *syncer) list(ctx context.Context, jobs chan<- string) error {
	// EncodingType=url: S3 can then list keys with characters XML 1.0
	// cannot carry (U+0001 …), which would otherwise fail the whole
	// listing; such keys are skipped as unsafe below. A server that
	// ignores it says so by not echoing EncodingType, and its keys are raw.
	in := &s3.ListObjectsV2Input{Bucket: &s.o.Bucket, EncodingType: types.EncodingTypeUrl}
	if s.o.Prefix != "" {
		in.Prefix = &s.o.Prefix
	}
	if s.o.PageSize > 0 {
		in.MaxKeys = &s.o.PageSize
	}
	pages := s3.NewListObjectsV2Paginator(s.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // Run reports the cancellation
			}
			code := download.Classify(ctx, err)
			if code == exitcode.Denied {
				err = fmt.Errorf("%w (the task role needs s3:ListBucket on the prefix)", err)
			}
			return exitcode.Errorf(code, "list s3://%s/%s: %w", s.o.Bucket, s.o.Prefix, err)
		}
		encoded := page.EncodingType == types.EncodingTypeUrl
		for i := range page.Contents {
			key, ok := s.check(&page.Contents[i], encoded)
			if !ok {
				continue
			}
			select {
			case jobs <- key:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// check counts one listed object and says whether it needs a download.
// Only the listing and the local record are consulted: a no-change sync
// makes no request per object.
func (s *syncer) check(obj *types.Object, encoded bool) (string, bool) {
	key := aws.ToString(obj.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sum.Listed++
	if encoded {
		// S3 form-encodes listed keys (space as '+'), as botocore and the
		// Java SDK decode them.
		dec, err := url.QueryUnescape(key)
		if err != nil {
			s.sum.Checked++
			s.unsafe(key, fmt.Errorf("listed key is not valid URL encoding: %w", err))
			return "", false
		}
		key = dec
	}
	if !s.pat.Match(contract.EventKey(key)) {
		return "", false
	}
	s.sum.Checked++
	size := aws.ToInt64(obj.Size)
	if keypath.IsFolder(key) {
		s.folder(key, size)
		return "", false
	}
	// The path it would land at, routing components stripped: unsafe
	// there (the state dir in any letter case, ...) is skipped, never a
	// failed object.
	rel, err := keypath.Local(key, s.o.Download.StripComponents)
	if err != nil {
		s.unsafe(key, err)
		return "", false
	}
	if m := s.o.Download.MaxBytes; m > 0 && size > m {
		s.sum.Skipped++
		s.o.Logger.Warn("skipped: larger than the board accepts", "key", key, "bytes", size, "max_bytes", m)
		return "", false
	}
	if s.listed != nil {
		s.listed.add(key)
	}
	if s.upToDate(key, rel, aws.ToString(obj.ETag), size) {
		s.sum.UpToDate++
		return "", false
	}
	return key, true
}

// unsafe counts and logs a key no board path can hold; the caller holds mu.
func (s *syncer) unsafe(key string, err error) {
	s.sum.Skipped++
	s.sum.Unsafe++
	s.o.Logger.Warn("skipped: unsafe key", "key", key, "error", err.Error())
}

// folder handles a listed folder key ("photos/"); the caller holds mu. A
// folder marker (zero bytes) is no file: its directory is created (no
// request, no record) or counts as up to date when it is there. A folder
// key with bytes is skipped like an unsafe key. Neither fails the sync.
func (s *syncer) folder(key string, size int64) {
	rel, err := keypath.Dir(key, s.o.Download.StripComponents)
	if err == nil {
		err = keypath.FolderBytes(key, size)
	}
	if err != nil {
		s.unsafe(key, err)
		return
	}
	if fi, err := s.root.Stat(rel); err == nil && fi.IsDir() {
		s.sum.UpToDate++
		return
	}
	if err := s.root.MkdirAll(rel, 0o755); err != nil {
		s.sum.Skipped++
		s.o.Logger.Warn("skipped: folder marker not created", "key", key, "error", download.RootErr(err).Error())
		return
	}
	s.sum.Folders++
	s.o.Logger.Info("folder marker", "key", key, "path", path.Join(s.o.DataDir, rel))
}

// upToDate: the path's record names this key (and bucket), ETag and size,
// and the file there is the one it was committed as (its identity: one
// Lstat, no hashing). The listing has no version id; an equal ETag means
// equal content (an MD5, an MD5 of part MD5s, or an SSE-KMS ETag unique to
// its upload), so the board has these bytes whichever version holds them.
// Anything else goes to the download, which HEADs and decides with the
// version id under the path's lock, and verifies a touched file.
func (s *syncer) upToDate(key, rel, etag string, size int64) bool {
	rec, ok, err := s.records.Read(rel)
	if err != nil || !ok || rec.Key != key || strings.Trim(rec.ETag, `"`) != strings.Trim(etag, `"`) || rec.Size != size ||
		(rec.Bucket != "" && rec.Bucket != s.o.Bucket) || rec.File == nil {
		return false
	}
	fi, err := s.root.Lstat(rel)
	return err == nil && rec.File.Matches(fi)
}

// deliver runs the single-object delivery for one listed key; its commit
// joins a batch, and it is counted once durable (or failed).
func (s *syncer) deliver(ctx context.Context, key string) {
	o := s.o.Download
	o.Bucket, o.Key, o.DataDir, o.ExactKey = s.o.Bucket, key, s.o.DataDir, true
	o.Event = download.Event{Size: -1}
	s.batch.Deliver(ctx, s.api, o, func(res download.Result, err error) { s.count(ctx, key, res, err) })
}

// count adds one delivery's outcome to the summary, with its log line.
func (s *syncer) count(ctx context.Context, key string, res download.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res.Reverified {
		s.sum.Reverified++
	}
	switch code := exitcode.Of(err); {
	case err == nil && res.Lost != "":
		s.sum.Conflicts++ // download logged it, with both keys
	case err == nil && res.UpToDate && res.Displaced == "":
		s.sum.UpToDate++
	case err == nil:
		if res.ConflictCopy != "" || res.Displaced != "" {
			s.sum.Conflicts++
		}
		if res.UpToDate { // took the path from another key, bytes already there
			break
		}
		s.sum.Downloaded++
		s.sum.Bytes += res.Bytes
		switch {
		case res.ConflictCopy != "" || res.Displaced != "":
		case res.New:
			s.sum.New++
		default:
			s.sum.Updated++
		}
		s.o.Logger.Info("object delivered", "key", key, "bytes", res.Bytes, "seconds", res.Elapsed.Seconds(), "verified", res.Verified,
			"conflict_copy", res.ConflictCopy)
	case ctx.Err() != nil:
		// Canceled or timed out: Run reports it once, not per object.
	case code == exitcode.NotFound:
		s.sum.Vanished++
		s.o.Logger.Info("object deleted since the listing", "key", key)
	case code == exitcode.TooLarge:
		// Grew past the limit since the listing: refused like a download.
		s.sum.Skipped++
		s.o.Logger.Warn("skipped: larger than the board accepts", "key", key, "error", err.Error())
	case code == exitcode.UnsafeKey:
		// A symlink inside the data dir that leads outside, met on the way.
		s.unsafe(key, err)
	default:
		s.fail(key, code, err)
	}
}

// fail logs one failed object; the caller holds mu.
func (s *syncer) fail(key string, code exitcode.Code, err error) {
	if s.sum.Failed < len(s.sum.FailedKeys) {
		s.sum.FailedKeys[s.sum.Failed] = key
	}
	s.sum.Failed++
	s.o.Logger.Error("object failed", "key", key, "exit_code", int(code), "class", code.String(), "error", err.Error())
}

// mirrorDeletes removes delivered files of keys under the prefix and
// pattern that the (complete) listing did not contain. prune.Key confirms
// each is gone with a HEAD under the key's lock: an object uploaded after
// the listing passed its key is kept.
func (s *syncer) mirrorDeletes(ctx context.Context) {
	s.listed.seal()
	po := prune.Options{Bucket: s.o.Bucket, DataDir: s.o.DataDir, ExactKey: true, Logger: s.o.Logger}
	for rec, err := range s.records.All() {
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// An unreadable record proves nothing: its file is kept. A
			// directory that cannot be read ends the listing.
			if !errors.Is(err, record.ErrCorrupt) {
				s.fail(record.Dir, exitcode.LocalIO, err)
			}
			continue
		}
		key := rec.Key
		if !strings.HasPrefix(key, s.o.Prefix) || !s.pat.Match(contract.EventKey(key)) ||
			(rec.Bucket != "" && rec.Bucket != s.o.Bucket) || s.listed.has(key) {
			continue
		}
		rel := rec.LocalPath()
		if _, err := keypath.Validate(rel); err != nil {
			continue // never delivered by this task: downloads refuse such paths
		}
		res, err := prune.Key(ctx, s.api, s.board, po, key, rel)
		if err != nil {
			if ctx.Err() == nil {
				s.fail(key, exitcode.Of(err), err)
			}
			continue
		}
		switch {
		case res.Outcome == prune.Removed:
			s.sum.Deleted++
			s.o.Logger.Info("deleted: object gone from the bucket", "key", key, "path", res.Path, "bytes", res.Bytes)
		case res.Outcome == prune.ObjectThere:
			// Uploaded after the listing passed it: its event delivers it.
		case res.Outcome.Kept():
			s.sum.Kept++
			s.o.Logger.Info(string(res.Outcome), "key", key, "path", res.Path, "reason", res.Reason)
		}
	}
}

// logProgress writes a "sync progress" line every 10 s while the sync
// runs (none for a sync shorter than that).
func (s *syncer) logProgress() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			secs := time.Since(s.start).Seconds()
			fetched := s.board.Fetched.Load()
			s.mu.Lock()
			sum := s.sum
			s.mu.Unlock()
			s.o.Logger.Info("sync progress", "listed", sum.Listed, "checked", sum.Checked, "downloaded", sum.Downloaded,
				"up_to_date", sum.UpToDate, "failed", sum.Failed, "bytes_fetched", fetched, "seconds", int64(secs),
				"mb_per_s", float64(int64(float64(fetched)/1e5/secs))/10, "rate_limit", s.o.Download.Limiter.Rate())
		}
	})
	return func() { close(done); wg.Wait() }
}

// listedSet remembers which keys the listing held, for mirrored deletes:
// 8 bytes of a seeded 64-bit hash per key instead of the key (up to 1,024
// bytes), in a slice sorted once the listing is complete (a map would cost
// 30-40 bytes per key; the slice 8, plus append's slack while it grows).
// A collision can only make a gone object's file look listed, i.e. kept
// until a later sync: the safe direction.
type listedSet struct {
	seed   maphash.Seed
	hashes []uint64
}

func newListedSet() *listedSet { return &listedSet{seed: maphash.MakeSeed()} }

func (l *listedSet) add(key string) { l.hashes = append(l.hashes, maphash.String(l.seed, key)) }

// seal sorts the set; has may be called only after it.
func (l *listedSet) seal() { slices.Sort(l.hashes) }

func (l *listedSet) has(key string) bool {
	_, ok := slices.BinarySearch(l.hashes, maphash.String(l.seed, key))
	return ok
}
