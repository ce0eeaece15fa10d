package bucketsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/bucketsync"
	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/logtest"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

const bucket = "edge"

type env struct {
	t   *testing.T
	srv *s3test.Server
	dir string
	api *s3.Client
	o   bucketsync.Options
	log logtest.Buffer
}

func newEnv(t *testing.T) *env {
	t.Parallel()
	e := &env{t: t, srv: s3test.Start(t), dir: t.TempDir()}
	e.api = e.srv.Client(t, s3conn.Options{
		// No test here times a request out; a generous header timeout keeps
		// a loaded machine (make test: every package at once, -race) from
		// failing an object now and then.
		RequestTimeout: 10 * time.Second, Concurrency: 8, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 2,
	})
	logger := e.log.Logger()
	e.o = bucketsync.Options{
		Bucket: bucket, Pattern: "demo*.txt", DataDir: e.dir, Objects: 4,
		Download: download.Options{PartSize: 1 << 20, Concurrency: 2, RetryDelay: time.Millisecond, Logger: logger},
		Logger:   logger,
	}
	return e
}

func (e *env) run() (bucketsync.Summary, error) {
	e.t.Helper()
	return bucketsync.Run(context.Background(), e.api, e.o)
}

func (e *env) mustRun() bucketsync.Summary {
	e.t.Helper()
	sum, err := e.run()
	if err != nil {
		e.t.Fatalf("sync: exit %d: %v\nfailed: %v", exitcode.Of(err), err, e.log.Lines("object failed"))
	}
	return sum
}

func content(i, version int) []byte {
	return []byte(fmt.Sprintf("object %d, version %d, %s", i, version, strings.Repeat("x", i%97)))
}

func (e *env) put(key string, data []byte) { e.srv.Put(e.t, bucket, key, data, nil) }

func (e *env) del(key string) {
	e.t.Helper()
	if _, err := e.srv.Backend.DeleteObject(bucket, key); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) file(rel string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(e.dir, rel))
	if err != nil {
		return nil, false
	}
	return b, true
}

func (e *env) mustHave(rel string, want []byte) {
	e.t.Helper()
	got, ok := e.file(rel)
	if !ok || !bytes.Equal(got, want) {
		e.t.Fatalf("%s: have %q (present %v), want %q", rel, got, ok, want)
	}
}

// noTemp: nothing partial is left in the state dir.
func (e *env) noTemp() {
	e.t.Helper()
	ents, _ := os.ReadDir(filepath.Join(e.dir, ".edge-drop", "tmp"))
	if len(ents) > 0 {
		e.t.Fatalf("%d temp files left, first %s", len(ents), ents[0].Name())
	}
}

// lists counts the ListObjectsV2 requests in the proxy log.
func (e *env) lists() (n int) {
	for _, l := range e.srv.Log {
		if strings.HasPrefix(l, "GET /"+bucket+" ") || strings.HasPrefix(l, "GET /"+bucket+"/ ") {
			n++
		}
	}
	return n
}

func key(i int) string { return fmt.Sprintf("demo/%02d/demo-%04d.txt", i%10, i) }

// 1,000 objects over 10 pages: some present, some stale (the record names
// another version), some missing (file removed, or never delivered); one
// sync fixes exactly those; a second one downloads nothing and makes no
// request but the listing.
func TestSync1000PresentStaleMissing(t *testing.T) {
	e := newEnv(t)
	e.o.PageSize = 100
	const n = 1000
	for i := range 400 {
		e.put(key(i), content(i, 1))
	}
	e.put("other/not-matched.bin", []byte("not for the board"))
	e.put("demo-top.txt.part", []byte("not for the board either"))
	if sum := e.mustRun(); sum.Downloaded != 400 || sum.Checked != 400 || sum.Listed != 402 {
		t.Fatalf("first sync: %+v", sum)
	}
	for i := 400; i < n; i++ { // missing: never delivered
		e.put(key(i), content(i, 1))
	}
	for i := 0; i < 100; i++ { // stale: a new version in the bucket
		e.put(key(i), content(i, 2))
	}
	for i := 100; i < 150; i++ { // missing: the file was removed on the board
		os.Remove(filepath.Join(e.dir, key(i)))
	}
	e.srv.SetRule(nil)
	sum := e.mustRun()
	want := bucketsync.Summary{Listed: n + 2, Checked: n, Downloaded: 600 + 100 + 50, New: 600 + 50, Updated: 100, UpToDate: 250, Bytes: sum.Bytes, Elapsed: sum.Elapsed, Flushes: sum.Flushes}
	if sum != want {
		t.Fatalf("sync: %+v\nwant  %+v", sum, want)
	}
	if l := e.lists(); l != 11 {
		t.Errorf("%d list requests, want 11 (pages of 100)", l)
	}
	for i := range n {
		v := 1
		if i < 100 {
			v = 2
		}
		e.mustHave(key(i), content(i, v))
	}
	if _, ok := e.file("other/not-matched.bin"); ok {
		t.Fatal("a key the pattern refuses was delivered")
	}
	e.noTemp()
	if got := len(e.log.Lines("object delivered")); got != 400+750 {
		t.Errorf("%d \"object delivered\" lines, want %d", got, 400+750)
	}

	// Idempotent: nothing to do, only the listing is requested.
	e.srv.SetRule(nil)
	sum = e.mustRun()
	if sum.Downloaded != 0 || sum.UpToDate != n {
		t.Fatalf("second sync: %+v", sum)
	}
	if h, g := e.srv.Count(http.MethodHead), e.srv.Count(http.MethodGet); h != 0 || g != 11 {
		t.Fatalf("second sync made %d HEADs and %d GETs, want 0 and 11 (listing pages)", h, g)
	}
}

// A fault in the middle: a few objects fail (persistent 500s), the rest
// are delivered, the sync says partial (exit 11) with one line per failed
// object and leaves nothing partial; the next sync delivers the rest.
func TestSyncFaultInTheMiddleResumes(t *testing.T) {
	e := newEnv(t)
	const n = 60
	for i := range n {
		e.put(key(i), content(i, 1))
	}
	bad := map[string]bool{"/" + bucket + "/" + key(20): true, "/" + bucket + "/" + key(41): true}
	e.srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
		if r.Method == http.MethodGet && bad[r.URL.Path] {
			return &s3test.Fault{Kind: s3test.Status, Status: 500, Code: "InternalError"} // after the SDK's retries too
		}
		return nil
	})
	sum, err := e.run()
	if exitcode.Of(err) != exitcode.Partial {
		t.Fatalf("exit %d (%v), want %d partial", exitcode.Of(err), err, exitcode.Partial)
	}
	if sum.Failed != 2 || sum.Downloaded != n-2 {
		t.Fatalf("summary %+v", sum)
	}
	failed := e.log.Lines("object failed")
	if len(failed) != 2 {
		t.Fatalf("%d \"object failed\" lines, want 2", len(failed))
	}
	for _, l := range failed {
		if l["exit_code"] != float64(exitcode.Network) || l["key"] == "" {
			t.Errorf("failure line %v", l)
		}
	}
	for _, k := range []string{key(20), key(41)} {
		if _, ok := e.file(k); ok {
			t.Fatalf("%s exists after its download failed", k)
		}
	}
	e.noTemp()

	e.srv.SetRule(nil)
	if sum := e.mustRun(); sum.Downloaded != 2 || sum.UpToDate != n-2 {
		t.Fatalf("resumed sync: %+v", sum)
	}
	e.mustHave(key(20), content(20, 1))
	e.mustHave(key(41), content(41, 1))
}

// A listing that fails on a later page: the objects of the earlier pages
// are delivered, the sync fails with the listing's code, and with
// mirroring on nothing is deleted (an incomplete listing proves nothing).
func TestSyncListingFailsMidway(t *testing.T) {
	e := newEnv(t)
	e.o.PageSize = 10
	e.o.MirrorDeletes = true
	for i := range 30 {
		e.put(key(i), content(i, 1))
	}
	e.mustRun()
	e.del(key(0)) // would be mirrored if the listing completed
	e.srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
		if r.Method == http.MethodGet && r.URL.Query().Get("continuation-token") != "" {
			return &s3test.Fault{Kind: s3test.Status, Status: 500, Code: "InternalError"}
		}
		return nil
	})
	sum, err := e.run()
	if exitcode.Of(err) != exitcode.Network || !strings.Contains(err.Error(), "list s3://edge/") {
		t.Fatalf("exit %d (%v), want 7 with the listing named", exitcode.Of(err), err)
	}
	if sum.Deleted != 0 || sum.UpToDate != 10 || sum.Listed != 10 {
		t.Fatalf("summary %+v", sum)
	}
	if _, ok := e.file(key(0)); !ok {
		t.Fatal("a file was deleted on an incomplete listing")
	}
}

// Keys the pipeline refuses are skipped, counted and logged; the others
// are delivered and nothing lands outside the data dir.
func TestSyncHostileKeysInListing(t *testing.T) {
	e := newEnv(t)
	e.o.Pattern = "*"
	hostile := []string{"../demo-escape.txt", "demo/../../escape.txt", "/demo-abs.txt", "demo-dir/", "demo//double.txt",
		".edge-drop/records/demo.txt", "demo\\back.txt", "demo/" + strings.Repeat("x", 256) + ".txt"}
	for _, k := range hostile {
		if err := s3test.Put(e.srv.Backend, bucket, k, []byte("evil"), nil); err != nil {
			t.Fatal(err)
		}
	}
	good := []string{"demo-1.txt", "sub/demo 2.txt", "a+b.txt", "日本/demo.txt"}
	for i, k := range good {
		e.put(k, content(i, 1))
	}
	sum := e.mustRun()
	if sum.Skipped != len(hostile) || sum.Downloaded != len(good) || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if got := len(e.log.Lines("skipped: unsafe key")); got != len(hostile) {
		t.Errorf("%d skip lines, want %d", got, len(hostile))
	}
	for i, k := range good {
		e.mustHave(k, content(i, 1))
	}
	parent := filepath.Dir(e.dir)
	for _, name := range []string{"demo-escape.txt", "escape.txt", "demo-abs.txt"} {
		if _, err := os.Stat(filepath.Join(parent, name)); err == nil {
			t.Fatalf("%s written outside the data dir", name)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, ".edge-drop", "records", "demo.txt")); err == nil {
		t.Fatal("a key wrote into the state dir")
	}
}

// The pattern sees the key as the event encodes it (space as '+').
func TestSyncPatternOnEventEncodedKey(t *testing.T) {
	e := newEnv(t)
	e.o.Pattern = "in/demo+*.txt"
	e.o.Prefix = "in/"
	for _, k := range []string{"in/demo 1.txt", "in/demo+2.txt", "in/demo3.txt", "out/demo 4.txt"} {
		e.put(k, []byte(k))
	}
	sum := e.mustRun()
	if sum.Listed != 3 || sum.Checked != 1 || sum.Downloaded != 1 {
		t.Fatalf("summary %+v", sum)
	}
	e.mustHave("in/demo 1.txt", []byte("in/demo 1.txt"))
}

// Objects over the board's size limit are refused like downloads refuse
// them: skipped, without a request.
func TestSyncSkipsTooLarge(t *testing.T) {
	e := newEnv(t)
	e.o.Download.MaxBytes = 10
	e.put("demo-small.txt", []byte("small"))
	e.put("demo-big.txt", []byte("larger than ten bytes"))
	sum := e.mustRun()
	if sum.Skipped != 1 || sum.Downloaded != 1 {
		t.Fatalf("summary %+v", sum)
	}
}

// Mirroring: off by default (nothing removed); on, a delivered file whose
// object is gone is removed with its record and its emptied directories;
// a file a person put there (no record: never considered), and a
// delivered file a person overwrote (changed since delivery), are kept;
// files outside the prefix or pattern are not considered.
func TestSyncMirrorDeletes(t *testing.T) {
	e := newEnv(t)
	e.o.Prefix = "demo/"
	e.o.Pattern = "demo/*"
	for _, k := range []string{"demo/a/b/gone.txt", "demo/gone-too.txt", "demo/overwritten.txt", "demo/overwritten-same-size.txt", "demo/stays.txt", "other/demo-gone.txt"} {
		e.put(k, []byte("v1 "+k))
	}
	e.mustRun()
	e.o.Prefix, e.o.Pattern = "", "*"
	e.mustRun() // delivers other/ too
	e.o.Prefix, e.o.Pattern = "demo/", "demo/*"
	write := func(rel string, data []byte) {
		if err := os.WriteFile(filepath.Join(e.dir, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("demo/person.txt", []byte("a person's file"))
	write("demo/overwritten.txt", []byte("a person replaced this file"))
	write("demo/overwritten-same-size.txt", []byte("v1 demo/overwritten-same-size.txX")) // same size, new mtime
	for _, k := range []string{"demo/a/b/gone.txt", "demo/gone-too.txt", "demo/overwritten.txt", "demo/overwritten-same-size.txt", "other/demo-gone.txt"} {
		e.del(k)
	}

	e.srv.SetRule(nil)
	if sum := e.mustRun(); sum.Deleted != 0 || sum.Kept != 0 {
		t.Fatalf("mirroring off: %+v", sum)
	}
	if _, ok := e.file("demo/a/b/gone.txt"); !ok {
		t.Fatal("mirroring off removed a file")
	}

	e.o.MirrorDeletes = true
	sum := e.mustRun()
	if sum.Deleted != 2 || sum.Kept != 2 || sum.UpToDate != 1 {
		t.Fatalf("mirroring on: %+v", sum)
	}
	for _, gone := range []string{"demo/a/b/gone.txt", "demo/gone-too.txt"} {
		if _, ok := e.file(gone); ok {
			t.Fatalf("%s not removed", gone)
		}
	}
	if _, err := os.Lstat(filepath.Join(e.dir, "demo/a")); !os.IsNotExist(err) {
		t.Fatalf("emptied directories left: %v", err)
	}
	e.mustHave("demo/person.txt", []byte("a person's file"))
	e.mustHave("demo/overwritten.txt", []byte("a person replaced this file"))
	e.mustHave("demo/overwritten-same-size.txt", []byte("v1 demo/overwritten-same-size.txX"))
	e.mustHave("demo/stays.txt", []byte("v1 demo/stays.txt"))
	e.mustHave("other/demo-gone.txt", []byte("v1 other/demo-gone.txt")) // outside the prefix
	if got := len(e.log.Lines("kept (changed since delivery)")); got != 2 {
		t.Errorf("%d \"kept (changed since delivery)\" lines, want 2", got)
	}
	// Records of removed files are gone too: a further run has nothing to do.
	e.srv.SetRule(nil)
	if sum := e.mustRun(); sum.Deleted != 0 || sum.Kept != 0 || e.srv.Count(http.MethodHead) != 0 {
		t.Fatalf("third run: %+v, %d HEADs", sum, e.srv.Count(http.MethodHead))
	}
	if _, err := os.Stat(e.dir); err != nil {
		t.Fatal(err)
	}
}

// An object deleted between the listing and its download is not a failure.
func TestSyncObjectVanishesAfterListing(t *testing.T) {
	e := newEnv(t)
	e.put("demo-1.txt", []byte("one"))
	e.put("demo-2.txt", []byte("two"))
	var once sync.Once
	e.srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
		if r.Method == http.MethodHead {
			once.Do(func() { e.del("demo-2.txt") })
		}
		return nil
	})
	e.o.Objects = 1
	sum, err := e.run()
	if err != nil || sum.Vanished != 1 || sum.Downloaded != 1 {
		t.Fatalf("%+v, %v", sum, err)
	}
}

// The data dir must exist: a clear local error, nothing created.
func TestSyncMissingDataDir(t *testing.T) {
	e := newEnv(t)
	e.o.DataDir = filepath.Join(e.dir, "nope")
	_, err := e.run()
	if exitcode.Of(err) != exitcode.LocalIO {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	if _, err := os.Stat(e.o.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("data dir created")
	}
}

// SIGTERM in the middle: exit 9 (not a per-object failure), no partial
// file; the next sync delivers the rest.
func TestSyncCanceledMidway(t *testing.T) {
	e := newEnv(t)
	const n = 40
	for i := range n {
		e.put(key(i), content(i, 1))
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	e.srv.SetRule(func(r *http.Request, c int) *s3test.Fault {
		if r.Method == http.MethodHead && c == 10 {
			cancel(download.ErrSignal)
		}
		return nil
	})
	sum, err := bucketsync.Run(ctx, e.api, e.o)
	if exitcode.Of(err) != exitcode.Canceled || sum.Failed != 0 {
		t.Fatalf("exit %d (%v), %+v", exitcode.Of(err), err, sum)
	}
	e.noTemp()
	present := 0
	for i := range n {
		if _, ok := e.file(key(i)); ok {
			e.mustHave(key(i), content(i, 1))
			present++
		}
	}
	if present >= n {
		t.Fatal("the cancel came too late to test anything")
	}
	e.srv.SetRule(nil)
	if sum := e.mustRun(); sum.Downloaded != n-present || sum.UpToDate != present {
		t.Fatalf("after the cancel: %+v (present %d)", sum, present)
	}
}

// Folder markers ("dir/", zero bytes) are not files: their directories are
// created from the listing (no request, no record), and a second sync
// counts them up to date. A folder key with bytes, or an unsafe one, is
// skipped. None of them fails the sync.
func TestSyncFolderMarkers(t *testing.T) {
	e := newEnv(t)
	e.o.Pattern = "*"
	objects := []struct {
		key  string
		data string
	}{
		{"demo-dir/", ""},
		{"a/b/demo-sub/", ""},
		{"photos/", ""},
		{"photos/demo-1.txt", "one"},
		{"demo-2.txt", "two"},
		{"demo-bytes/", "not a folder"},
		{".edge-drop/", ""},
		{"x/../../", ""},
	}
	for _, o := range objects {
		if err := s3test.Put(e.srv.Backend, bucket, o.key, []byte(o.data), nil); err != nil {
			t.Fatal(err)
		}
	}
	sum := e.mustRun()
	want := bucketsync.Summary{Listed: 8, Checked: 8, Downloaded: 2, New: 2, Folders: 3, Skipped: 3, Unsafe: 3, Bytes: 6, Elapsed: sum.Elapsed, Flushes: sum.Flushes}
	if sum != want {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	for _, d := range []string{"demo-dir", "a/b/demo-sub", "photos"} {
		if fi, err := os.Lstat(filepath.Join(e.dir, d)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: not a directory (%v)", d, err)
		}
	}
	e.mustHave("photos/demo-1.txt", []byte("one"))
	if _, err := os.Lstat(filepath.Join(e.dir, "demo-bytes")); err == nil {
		t.Fatal("a folder key with bytes left something on the board")
	}
	if got := len(e.log.Lines("folder marker")); got != 3 {
		t.Errorf("%d folder marker lines, want 3", got)
	}
	if got := len(e.log.Lines("skipped: unsafe key")); got != 3 {
		t.Errorf("%d skip lines, want 3", got)
	}
	if recs, _ := filepath.Glob(filepath.Join(e.dir, ".edge-drop", "records", "*.json")); len(recs) != 2 {
		t.Errorf("%d records, want 2 (the files only)", len(recs))
	}

	e.srv.SetRule(nil) // resets the counters
	sum = e.mustRun()
	want = bucketsync.Summary{Listed: 8, Checked: 8, UpToDate: 5, Skipped: 3, Unsafe: 3, Elapsed: sum.Elapsed, Flushes: sum.Flushes}
	if sum != want {
		t.Fatalf("second sync: summary %+v, want %+v", sum, want)
	}
	if n := e.srv.Count(http.MethodHead); n != 0 {
		t.Errorf("second sync sent %d HEADs", n)
	}
}
