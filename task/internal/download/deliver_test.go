package download_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// runWith runs one delivery with options changed by set.
func (e *env) runWith(ctx context.Context, key string, set func(*download.Options)) (download.Result, error) {
	e.t.Helper()
	o := e.o
	set(&o)
	return e.runOpts(ctx, key, o)
}

func (e *env) content(rel string) []byte {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, rel))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// openStore opens the delivery records of dir until the test ends.
func openStore(t *testing.T, dir string) *record.Store {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	store := record.New(root)
	t.Cleanup(func() { store.Close(); root.Close() })
	return store
}

func (e *env) record(key string) record.Record {
	e.t.Helper()
	r, ok, err := openStore(e.t, e.dir).Read(key)
	if err != nil || !ok {
		e.t.Fatalf("no delivery record for %q (%v)", key, err)
	}
	return r
}

// Issue 8, first route: two versions of one key with the same size and the
// same Last-Modified second. Size and mtime match; only the ETag tells.
func TestSameSizeSameSecondOverwrite(t *testing.T) {
	e := newEnv(t)
	lm := map[string]string{"Last-Modified": time.Now().UTC().Truncate(time.Second).Format(http.TimeFormat)}
	a, b := []byte("version A: 0123456789"), []byte("version B: 9876543210")
	e.srv.Put(t, bucket, "same.txt", a, lm)
	if res := e.mustOK("same.txt", "same.txt", a); res.UpToDate {
		t.Fatal("first delivery said up to date")
	}
	etagB := e.srv.Put(t, bucket, "same.txt", b, lm)
	if res := e.mustOK("same.txt", "same.txt", b); res.UpToDate {
		t.Fatal("second version reported up to date")
	}
	if r := e.record("same.txt"); r.ETag != etagB || r.Size != int64(len(b)) {
		t.Fatalf("record %+v, want ETag %s", r, etagB)
	}
	// Same version again: up to date, nothing fetched.
	e.srv.SetRule(nil)
	if res := e.mustOK("same.txt", "same.txt", b); !res.UpToDate || e.srv.Count(http.MethodGet) != 0 {
		t.Fatalf("re-run: up_to_date=%v, %d GETs", res.UpToDate, e.srv.Count(http.MethodGet))
	}
}

// A file with the right size and mtime but no record (or a record of
// another version) is downloaded again: size and mtime never decide.
func TestSizeAndMtimeAloneNeverDecide(t *testing.T) {
	e := newEnv(t)
	data := []byte("the real content")
	e.srv.Put(t, bucket, "f.txt", data, nil)
	e.mustOK("f.txt", "f.txt", data)
	fi, _ := os.Stat(filepath.Join(e.dir, "f.txt"))
	// Someone overwrites the file in place, keeping size and mtime.
	os.WriteFile(filepath.Join(e.dir, "f.txt"), bytes.Repeat([]byte("x"), len(data)), 0o644)
	os.Chtimes(filepath.Join(e.dir, "f.txt"), fi.ModTime(), fi.ModTime())
	os.Remove(filepath.Join(e.dir, record.Path("f.txt")))
	if res := e.mustOK("f.txt", "f.txt", data); res.UpToDate {
		t.Fatal("up to date without a record")
	}
	// The file was truncated: the record's size no longer matches.
	os.Truncate(filepath.Join(e.dir, "f.txt"), 3)
	if res := e.mustOK("f.txt", "f.txt", data); res.UpToDate {
		t.Fatal("up to date with a file of the wrong size")
	}
}

// Issue 8, second route: delivery 1 (version A) is slow to commit (a slow
// SD card's fsync); meanwhile version B is uploaded and delivery 2 starts.
// Whatever order they finish in, the board must end with B.
func TestConcurrentDeliveriesNewestWins(t *testing.T) {
	e := newEnv(t)
	a, b := randBytes(300<<10, 1), []byte("version B, 14")
	e.srv.Put(t, bucket, "race.bin", a, nil)

	atCommit, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := e.runWith(context.Background(), "race.bin", func(o *download.Options) {
			o.Hooks.BeforeCommit = func() { close(atCommit); <-release }
		})
		first <- err
	}()
	<-atCommit // delivery 1 holds all of A and is about to fsync and rename
	etagB := e.srv.Put(t, bucket, "race.bin", b, nil)

	waiting := make(chan struct{})
	second := make(chan error, 1)
	go func() {
		_, err := e.runWith(context.Background(), "race.bin", func(o *download.Options) {
			o.Hooks.LockWait = func() { close(waiting) }
		})
		second <- err
	}()
	// Delivery 2 either waits for the key's lock or (without one) runs
	// to the end before delivery 1 commits: the old, losing order.
	secondDone := false
	select {
	case err := <-second:
		secondDone = true
		if err != nil {
			t.Fatalf("delivery 2: %v", err)
		}
	case <-waiting:
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("delivery 1: %v", err)
	}
	if !secondDone {
		if err := <-second; err != nil {
			t.Fatalf("delivery 2: %v", err)
		}
	}
	if got := e.content("race.bin"); !bytes.Equal(got, b) {
		t.Fatalf("board holds %d bytes (version A?), S3 holds version B (%d bytes)", len(got), len(b))
	}
	if r := e.record("race.bin"); r.ETag != etagB {
		t.Fatalf("record says %s, want B's %s", r.ETag, etagB)
	}
	e.noTemp()
}

// QA: every delivery left its key's lock file behind, so a board piled up
// one file (an inode on the SD card) per key ever delivered. Each delivery
// now removes its own on release, whatever its outcome.
func TestDeliveriesLeaveNoLockFiles(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		key := fmt.Sprintf("many/k%d.txt", i)
		data := []byte("content of " + key)
		e.srv.Put(t, bucket, key, data, nil)
		e.mustOK(key, key, data)
	}
	if res := e.mustOK("many/k0.txt", "many/k0.txt", []byte("content of many/k0.txt")); !res.UpToDate {
		t.Error("second delivery of many/k0.txt was not up to date")
	}
	e.mustFail(context.Background(), "missing+key.txt", "missing key.txt", exitcode.NotFound, nil)
	if ents, err := os.ReadDir(filepath.Join(e.dir, statedir.LocksDir)); err != nil || len(ents) != 0 {
		t.Fatalf("locks dir after the deliveries: %d entries (%v), want none", len(ents), err)
	}
}

// Issue 8, item 3: limits apply to the decoded key, not to the event's
// URL-encoded spelling (30 × 日 is 90 bytes, 270 encoded).
func TestLongNonASCIIKeysDelivered(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{
		"demo-" + strings.Repeat("日", 30) + ".txt",
		"photos/" + strings.Repeat("é", 127) + "a",
		strings.Repeat("😀", 63) + "abc/" + strings.Repeat("e\u0301", 85),
	} {
		data := []byte("content of " + key)
		e.srv.Put(t, bucket, key, data, nil)
		e.mustOK(url.QueryEscape(key), key, data)
	}
	// Over the limit after decoding: refused before any request.
	before := e.srv.Count(http.MethodHead)
	e.mustFail(context.Background(), url.QueryEscape(strings.Repeat("日", 86)), "x", exitcode.UnsafeKey, nil)
	if e.srv.Count(http.MethodHead) != before {
		t.Error("request sent for a key over the limit")
	}
}

// The raw key is validated only when it is tried: after a 404 of the
// decoded key, an over-long raw key is refused with exit 3.
func TestRawKeyValidatedWhenTried(t *testing.T) {
	e := newEnv(t)
	raw := url.QueryEscape(strings.Repeat("日", 30)) // 270 bytes, one component
	_, err := e.run(context.Background(), raw)
	if exitcode.Of(err) != exitcode.UnsafeKey || !strings.Contains(err.Error(), "255") {
		t.Fatalf("exit %d (%v), want 3 for the over-long raw key", exitcode.Of(err), err)
	}
	if n := e.srv.Count(http.MethodHead); n != 1 {
		t.Fatalf("%d HEADs, want 1 (the decoded key)", n)
	}
}

func TestStateDirKeyRefused(t *testing.T) {
	e := newEnv(t)
	e.mustFail(context.Background(), ".edge-drop%2Frecords%2Fx.json", "x", exitcode.UnsafeKey, nil)
}

// An object replaced during the download (412 on If-Match) restarts the
// delivery on the new version; the execution succeeds with the newest bytes.
func TestObjectChangedDuringDownloadRestarts(t *testing.T) {
	e := newEnv(t)
	a, b := randBytes(300<<10, 2), randBytes(200<<10, 3)
	e.srv.Put(t, bucket, "chg.bin", a, nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if isGet(r) && n == 2 {
			return &s3test.Fault{Kind: s3test.Hook, Fn: func() { s3test.Put(e.srv.Backend, bucket, "chg.bin", b, nil) }}
		}
		return nil
	})
	res := e.mustOK("chg.bin", "chg.bin", b)
	if res.Restarts != 1 {
		t.Fatalf("restarts = %d, want 1", res.Restarts)
	}
}

// An object that changes during every attempt fails with exit 8 after
// download.MaxRestarts restarts, with a cause that says so.
func TestObjectKeepsChanging(t *testing.T) {
	e := newEnv(t)
	e.srv.Put(t, bucket, "busy.bin", randBytes(300<<10, 4), nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if isGet(r) {
			return &s3test.Fault{Kind: s3test.Hook, Fn: func() { s3test.Put(e.srv.Backend, bucket, "busy.bin", randBytes(300<<10, uint64(10+n)), nil) }}
		}
		return nil
	})
	err := e.mustFail(context.Background(), "busy.bin", "busy.bin", exitcode.Integrity, nil)
	if !strings.Contains(err.Error(), "kept changing") {
		t.Fatalf("cause %q does not say the key kept changing", err)
	}
	if n := e.srv.Count(http.MethodHead); n != 1+download.MaxRestarts {
		t.Fatalf("%d HEADs, want %d (first + one per restart)", n, 1+download.MaxRestarts)
	}
}

func TestTooLarge(t *testing.T) {
	e := newEnv(t)
	e.o.MaxBytes = 1000
	e.srv.Put(t, bucket, "big.bin", make([]byte, 1001), nil)
	e.srv.Put(t, bucket, "ok.bin", make([]byte, 1000), nil)
	err := e.mustFail(context.Background(), "big.bin", "big.bin", exitcode.TooLarge, nil)
	if !strings.Contains(err.Error(), "1001 bytes") || !strings.Contains(err.Error(), "1000") {
		t.Fatalf("cause %q should give both sizes", err)
	}
	if n := e.srv.Count(http.MethodGet); n != 0 {
		t.Fatalf("%d GETs for an object over the limit", n)
	}
	e.mustOK("ok.bin", "ok.bin", make([]byte, 1000))
}

// A killed task's temp file (nobody holds its lock) is removed by the next
// delivery, whichever key it is for.
func TestAbandonedTempFileReclaimed(t *testing.T) {
	e := newEnv(t)
	dead := filepath.Join(e.dir, ".edge-drop", "tmp", ".edge-drop-00000000deadbeef.part")
	os.MkdirAll(filepath.Dir(dead), 0o755)
	if err := os.WriteFile(dead, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	e.srv.Put(t, bucket, "other/key.txt", []byte("x"), nil)
	e.mustOK("other/key.txt", "other/key.txt", []byte("x")) // noTemp checks the whole data dir
}

// The event's ETag is not the current one: a newer upload superseded it.
// The current version is delivered and the result says superseded.
func TestEventSuperseded(t *testing.T) {
	e := newEnv(t)
	cur := []byte("current")
	etag := e.srv.Put(t, bucket, "ev.txt", cur, nil)
	res, err := e.runWith(context.Background(), "ev.txt", func(o *download.Options) {
		o.Event = download.Event{ETag: "0123456789abcdef0123456789abcdef", Sequencer: "0055AED6DCD90281E5", Size: 3}
	})
	if err != nil || !res.Superseded || res.UpToDate || !bytes.Equal(e.content("ev.txt"), cur) {
		t.Fatalf("superseded event: %+v, %v", res, err)
	}
	// The event of the current version, delivered with a newer sequencer
	// by then (an event that arrived late): up to date and superseded.
	e.runWith(context.Background(), "ev.txt", func(o *download.Options) {
		o.Event = download.Event{ETag: strings.Trim(etag, `"`), Sequencer: "0055AED6DCD90281F0", Size: -1}
	})
	res, err = e.runWith(context.Background(), "ev.txt", func(o *download.Options) {
		o.Event = download.Event{ETag: strings.Trim(etag, `"`), Sequencer: "55AED6DCD90281E6", Size: -1}
	})
	if err != nil || !res.UpToDate || !res.Superseded {
		t.Fatalf("late event: %+v, %v", res, err)
	}
	if r := e.record("ev.txt"); r.Sequencer != "0055AED6DCD90281F0" {
		t.Fatalf("record sequencer %q, want the newest delivery's", r.Sequencer)
	}
}

// A server that ignores If-Match sends the new version instead of a 412:
// its ETag gives the change away, and the delivery restarts the same way.
func TestObjectChangedServerIgnoresIfMatch(t *testing.T) {
	e := newEnv(t)
	a, b := randBytes(300<<10, 5), randBytes(100<<10, 6)
	e.srv.Put(t, bucket, "lax.bin", a, nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if isGet(r) {
			r.Header.Del("If-Match")
			if n == 2 {
				return &s3test.Fault{Kind: s3test.Hook, Fn: func() { s3test.Put(e.srv.Backend, bucket, "lax.bin", b, nil) }}
			}
		}
		return nil
	})
	if res := e.mustOK("lax.bin", "lax.bin", b); res.Restarts != 1 {
		t.Fatalf("restarts = %d, want 1", res.Restarts)
	}
}
