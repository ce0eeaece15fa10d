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
	"github.com/edge-drop/edge-drop/task/internal/statedir"
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
	defer d.records.Close()
	d.reclaim()
	MigrateRecords(ctx, root, o.Logger)

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
	r, err := statedir.Reclaim(d.root)
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

// MigrateRecords renames the delivery records of versions before issue 17
// (named by key) to their path's name, once per data dir (record.Migrate).
// A failure is logged and retried by the next task: until then a routed
// key's old record is not found, and its file is verified by content.
func MigrateRecords(ctx context.Context, root *os.Root, log *slog.Logger) {
	st := record.New(root)
	defer st.Close()
	n, err := st.Migrate(ctx, statedir.Locker(root))
	if n > 0 {
		log.Info("delivery records renamed by path", "records", n)
	}
	if err != nil && ctx.Err() == nil {
		log.Warn("could not rename every delivery record by its path; the next task tries again", "error", err.Error())
	}
}

// deliverKey delivers key under its path's lock, starting over (at most
// MaxRestarts times) when the object changes during the download.
func (d *delivery) deliverKey(ctx context.Context, key string, last bool) (Result, error) {
	rel, _ := localPath(key, d.o.StripComponents) // validated by Run
	lock, err := statedir.Lock(ctx, d.root, rel, func() {
		d.o.Logger.Info("waiting for another delivery of this key", "key", key, "path", rel)
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

// plan is what a delivery does with the file at its path.
type plan struct {
	ver     verifier
	ours    bool // the path's record is this key's
	keep    bool // keep the file at the path as a conflict copy
	compare bool // decide keep after the download, by comparing bytes
}

// attempt delivers the version head describes, unless the board has it.
func (d *delivery) attempt(ctx context.Context, key string, head *s3.HeadObjectOutput) (Result, error) {
	o := d.o
	obj := object{key: key, etag: aws.ToString(head.ETag), versionID: aws.ToString(head.VersionId),
		size: aws.ToInt64(head.ContentLength), lastMod: aws.ToTime(head.LastModified)}
	if obj.size < 0 {
		return Result{}, exitcode.Errorf(exitcode.Integrity, "%w: negative Content-Length %d", ErrIntegrity, obj.size)
	}
	// Before anything is reserved on the board's disk.
	if o.MaxBytes > 0 && obj.size > o.MaxBytes {
		return Result{}, exitcode.Errorf(exitcode.TooLarge, "s3://%s/%s is %d bytes, larger than the board accepts (%d bytes, EDGE_DROP_MAX_BYTES)", o.Bucket, key, obj.size, o.MaxBytes)
	}
	rel, _ := keypath.Local(key, o.StripComponents) // validated by Run: relative, clean, slash-separated
	res := Result{Key: key, Rel: rel, Path: path.Join(o.DataDir, rel), ETag: obj.etag, VersionID: obj.versionID,
		Bytes: obj.size, Record: path.Join(o.DataDir, record.Path(rel))}
	p, done, err := d.decide(ctx, obj, head, &res)
	if err != nil || done {
		res.Elapsed = time.Since(d.start)
		return res, err
	}
	return d.download(ctx, obj, p, res)
}

// decide looks at the path (4.): its record and one lstat. The file there
// is one of: nothing; the key's own delivery, untouched since (its
// identity matches the record): up to date (done) or replaced; another
// key's (the one-owner rule: this key may lose, done); or anything else
// (touched since, an old record without identity, no record): then its
// content decides. Bytes that equal the object are adopted (done);
// edge-drop's own earlier delivery is replaced; anything else is kept as a
// conflict copy beside the path.
func (d *delivery) decide(ctx context.Context, obj object, head *s3.HeadObjectOutput, res *Result) (plan, bool, error) {
	o, rel := d.o, res.Rel
	rec, haveRec, err := d.records.Read(rel)
	if err != nil {
		o.Logger.Warn("ignoring the delivery record", "key", obj.key, "path", rel, "error", err.Error())
	}
	fi, err := d.root.Lstat(rel)
	switch {
	case err == nil && fi.IsDir():
		return plan{}, false, exitcode.Errorf(exitcode.LocalIO, "target %s is a directory", res.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return plan{}, false, rootErr(fmt.Errorf("inspect target: %w", err))
	}
	exists := err == nil
	res.New = !exists
	p := plan{ours: haveRec && rec.Key == obj.key && (rec.Bucket == "" || rec.Bucket == o.Bucket)}
	res.Superseded = d.superseded(obj.key, obj.etag, obj.size, rec, p.ours)

	// One owner per path: another key's record is a contest.
	if haveRec && !p.ours {
		win, why, err := d.contest(ctx, rel, obj, rec)
		if err != nil {
			return p, false, err
		}
		res.Reason = why
		if !win {
			res.Lost = rec.Key
			o.Logger.Warn("conflict", "key", obj.key, "path", rel, "owner", rec.Key, "reason", why)
			return p, true, nil
		}
		res.Displaced = rec.Key
	}
	// Up to date = the record names this version and the file is the one
	// it was committed as. Size and mtime alone never decide: two uploads
	// within one second can have the same size and LastModified, and a
	// person's edit can keep both.
	current := p.ours && rec.Holds(obj.etag, obj.versionID, obj.size)
	untouched := exists && haveRec && rec.File.Matches(fi)
	if current && untouched {
		res.UpToDate = true
		d.noteSequencer(rec, obj.etag)
		return p, true, nil
	}

	p.ver = chooseVerifier(ctx, d.api, o.Bucket, obj.key, obj.etag, obj.size, head)
	if !exists || untouched {
		return p, false, nil // nothing there, or edge-drop's delivery untouched: replaced
	}
	res.Reverified = true
	got, err := checkPath(ctx, d.root, rel, fi, obj.size, p.ver)
	switch {
	case err != nil:
		return p, false, err
	case got.verdict == Same && got.regular:
		return p, true, d.adopt(res, obj, p.ver, rec, current, got.id)
	case haveRec && !current && d.deliveredUnchanged(ctx, rel, fi, rec):
		// edge-drop's own earlier delivery, its bytes unchanged (only its
		// identity moved: chmod, a restore, another device): replaced like
		// an untouched one.
	case got.verdict == Unknown && got.regular:
		p.compare = true
	default:
		p.keep = true
	}
	return p, false, nil
}

// download fetches, verifies and commits obj over the path (5. to 7.).
func (d *delivery) download(ctx context.Context, obj object, p plan, res Result) (Result, error) {
	o, rel := d.o, res.Rel
	if p.ver.Name == "" {
		o.Logger.Warn("integrity: " + p.ver.Note)
	}
	res.Verified = p.ver.Name

	// 5. The target's directory, then a locked temp file in the state dir
	// (same file system: atomic rename; a killed task's file is found and
	// reclaimed by the next start).
	dir := path.Dir(rel)
	if fi, err := d.root.Stat(dir); err != nil || !fi.IsDir() { // Stat follows in-root symlinks
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return Result{}, rootErr(fmt.Errorf("create %s: %w", dir, err))
		}
	}
	tmp, err := statedir.CreateTemp(d.root)
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
	if err := preallocate(tmp.File, obj.size); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "reserve %d bytes for %s: %w", obj.size, res.Path, err)
	}

	// 6. Fetch and verify.
	if o.OnTransfer != nil {
		o.OnTransfer(obj.size)
	}
	f := &fetcher{api: d.api, o: o, key: obj.key, etag: obj.etag, size: obj.size, f: tmp.File, ver: p.ver}
	if err := f.run(ctx); err != nil {
		return Result{}, exitcode.New(classify(ctx, err), err)
	}
	res.Resumes = f.resumes

	// 7. Commit: fsync file, set mtime; reserve the record, keep what was
	// at the path aside if it must be, rename, fsync dir; complete the
	// record.
	if o.Hooks.BeforeCommit != nil {
		o.Hooks.BeforeCommit()
	}
	if err := tmp.File.Sync(); err != nil {
		return Result{}, exitcode.Errorf(exitcode.LocalIO, "fsync: %w", err)
	}
	if !obj.lastMod.IsZero() {
		if err := d.root.Chtimes(tmp.Name, obj.lastMod, obj.lastMod); err != nil {
			return Result{}, exitcode.Errorf(exitcode.LocalIO, "set mtime: %w", err)
		}
	}
	if p.compare {
		same, err := sameBytes(d.root, rel, tmp.File, obj.size)
		if err != nil {
			return Result{}, err
		}
		p.keep = !same
		res.UpToDate = same // the path held this version already (now proven by the download)
	}
	copyName, err := d.commit(ctx, tmp, rel, p.keep, d.newRecord(obj, rel, p.ver, f.uniformPartSize()))
	if err != nil {
		return Result{}, err
	}
	committed = true
	res.ConflictCopy = copyName
	d.noteConflict(&res, p.ours)
	res.Elapsed = time.Since(d.start)
	return res, nil
}

// noteConflict logs and words a delivery that kept a copy or took the path
// from another key.
func (d *delivery) noteConflict(res *Result, ours bool) {
	switch {
	case res.ConflictCopy != "":
		why := "the file at the path was changed since its delivery"
		if res.Displaced != "" {
			why = "the file at the path, delivered for " + res.Displaced + ", was changed since"
		} else if !ours {
			why = "the file at the path was not delivered by edge-drop"
		}
		res.Reason = strings.TrimPrefix(res.Reason+"; "+why+": kept as "+res.ConflictCopy, "; ")
		d.o.Logger.Warn("conflict", "key", res.Key, "path", res.Rel, "conflict_copy", res.ConflictCopy, "reason", res.Reason)
	case res.Displaced != "":
		d.o.Logger.Warn("conflict", "key", res.Key, "path", res.Rel, "displaced", res.Displaced, "reason", res.Reason)
	}
}

// newRecord is the delivery record of obj at rel, verified by ver.
func (d *delivery) newRecord(obj object, rel string, ver verifier, partSize int64) record.Record {
	nr := record.Record{Key: obj.key, Bucket: d.o.Bucket, ETag: obj.etag, VersionID: obj.versionID, Size: obj.size,
		LastModified: obj.lastMod.UTC(), Sequencer: d.eventSequencer(obj.etag), DeliveredAt: time.Now().UTC()}
	if rel != obj.key {
		nr.Path = rel
	}
	if ver.Name != "" {
		nr.Checksum = ver.Name + ":" + ver.Expected
		if ver.byParts {
			nr.PartSize = partSize
		}
	}
	return nr
}

// commit puts the verified temp file at rel with its record: the record's
// space is reserved first (a full disk fails here, nothing changed), then
// the file at rel is kept aside if it must be, the temp file renamed over
// rel and the record completed with the new file's identity. If the last
// step fails, rel is put back as it was. It returns the conflict copy's
// name ("" if none).
func (d *delivery) commit(ctx context.Context, tmp *statedir.Temp, rel string, keep bool, nr record.Record) (string, error) {
	rv, err := d.records.Reserve(nr)
	if err != nil {
		return "", exitcode.Errorf(exitcode.LocalIO, "the delivery record of %s does not fit (nothing changed): %w", rel, err)
	}
	var kept *aside
	if keep {
		if kept, err = keepAside(d.root, rel); err != nil {
			rv.Cancel()
			return "", err
		}
	}
	if err := ctx.Err(); err != nil { // last chance to honour a SIGTERM cleanly
		kept.undo(false)
		rv.Cancel()
		return "", exitcode.New(classify(ctx, err), err)
	}
	fi, err := tmp.Commit(rel)
	if err != nil {
		kept.undo(false)
		rv.Cancel()
		if errors.Is(err, syscall.EXDEV) {
			return "", exitcode.Errorf(exitcode.LocalIO, "rename into place: %s is on another file system than %s; the data dir must be one file system",
				path.Dir(path.Join(d.o.DataDir, rel)), path.Join(d.o.DataDir, statedir.TmpDir))
		}
		return "", rootErr(fmt.Errorf("rename into place: %w", err))
	}
	dir := path.Dir(rel)
	if df, err := d.root.Open(dir); err == nil {
		if err := df.Sync(); err != nil {
			d.o.Logger.Warn("fsync of directory failed", "dir", dir, "error", err.Error())
		}
		df.Close()
	}
	var id *record.Identity
	if got, ok := record.IdentityOf(fi); ok {
		id = &got
	}
	if err := rv.Commit(id); err != nil {
		// A file no record describes would be taken for a person's: put
		// back what was there (the kept file), or remove the new file and
		// the old record, which no longer describes anything.
		if kept != nil {
			err = errors.Join(err, kept.undo(true))
		} else {
			err = errors.Join(err, d.root.Remove(rel), d.records.Remove(rel))
		}
		return "", exitcode.Errorf(exitcode.LocalIO, "the delivery record of %s could not be written; the delivery was undone: %w", rel, err)
	}
	if kept != nil {
		return kept.name, nil
	}
	return "", nil
}

// adopt records the file at the path, whose bytes were verified to be the
// object's, as this delivery: nothing is downloaded or moved.
func (d *delivery) adopt(res *Result, obj object, ver verifier, rec record.Record, current bool, id *record.Identity) error {
	nr := d.newRecord(obj, res.Rel, ver, ver.partSize)
	if current {
		// The key's own record (touched, or written before identities):
		// keep when and for which event it was delivered.
		nr.DeliveredAt = rec.DeliveredAt
		if c, ok := record.CompareSequencers(nr.Sequencer, rec.Sequencer); rec.Sequencer != "" && (!ok || c <= 0) {
			nr.Sequencer = rec.Sequencer
		}
	}
	nr.File = id
	if err := d.records.Write(nr); err != nil {
		return exitcode.Errorf(exitcode.LocalIO, "the file at %s holds this version, but its delivery record could not be written: %w", res.Rel, err)
	}
	res.UpToDate, res.Adopted, res.Verified = true, true, ver.Name
	d.noteConflict(res, current)
	d.o.Logger.Info("verified and adopted", "key", obj.key, "path", res.Rel, "verified", ver.Name,
		"reason", "the file at the path was not known untouched since its delivery; its content is this version")
	return nil
}

// deliveredUnchanged reports whether the file at rel still holds the bytes
// rec says edge-drop delivered (its recorded checksum), so replacing it
// destroys nothing that is not in S3.
func (d *delivery) deliveredUnchanged(ctx context.Context, rel string, fi fs.FileInfo, rec record.Record) bool {
	got, err := VerifyDelivered(ctx, d.root, rel, fi, rec)
	return err == nil && got == Same
}

// contest decides which of two keys that map to one path owns it: the one
// whose object has the newer LastModified (as S3 has it now; a key whose
// object is gone loses), ties to the lexically larger key. The same rule
// from either side, so syncs of either prefix agree and do not flap.
func (d *delivery) contest(ctx context.Context, rel string, obj object, rec record.Record) (bool, string, error) {
	other, otherLM := rec.Key, rec.LastModified
	bucket := d.o.Bucket
	if rec.Bucket != "" {
		bucket = rec.Bucket
	}
	h, err := d.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &other})
	switch code := classify(ctx, err); {
	case err == nil:
		otherLM = aws.ToTime(h.LastModified)
	case ctx.Err() != nil:
		return false, "", exitcode.New(code, err)
	case code == exitcode.NotFound:
		return true, fmt.Sprintf("%s and %s both map to %s; %s holds it, %s is not delivered there (its object is gone)", obj.key, other, rel, obj.key, other), nil
	default:
		d.o.Logger.Warn("could not ask S3 about the key that holds the path; deciding by its recorded LastModified",
			"key", obj.key, "path", rel, "owner", other, "error", err.Error())
	}
	win := obj.lastMod.After(otherLM) || (obj.lastMod.Equal(otherLM) && obj.key > other)
	winner, loser, wlm, llm := obj.key, other, obj.lastMod, otherLM
	if !win {
		winner, loser, wlm, llm = other, obj.key, otherLM, obj.lastMod
	}
	rule := "newer LastModified"
	if wlm.Equal(llm) {
		rule = "same LastModified, larger key"
	}
	return win, fmt.Sprintf("%s and %s both map to %s; %s holds it, %s is not delivered there (%s: %s vs %s)", obj.key, other, rel,
		winner, loser, rule, wlm.UTC().Format(time.RFC3339), llm.UTC().Format(time.RFC3339)), nil
}

// superseded logs and reports whether the triggering event is no longer
// the newest news about the key: S3 holds another version than the event
// announced, or the board already delivered this version for a later event.
func (d *delivery) superseded(key, etag string, size int64, rec record.Record, ours bool) bool {
	ev := d.o.Event
	if ev.ETag != "" && unquote(ev.ETag) != unquote(etag) {
		d.o.Logger.Info("event superseded", "key", key, "reason", "a newer upload replaced the event's version; delivering the current one",
			"event_etag", ev.ETag, "event_sequencer", ev.Sequencer, "event_size", ev.Size, "current_etag", etag, "current_size", size)
		return true
	}
	if ours && rec.ETag == etag {
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
