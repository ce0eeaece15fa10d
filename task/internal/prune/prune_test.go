package prune_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/prune"
	"github.com/edge-drop/edge-drop/task/internal/record"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

const bucket = "edge"

type env struct {
	t   *testing.T
	srv *s3test.Server
	dir string
	api *s3.Client
}

func newEnv(t *testing.T) *env {
	t.Parallel()
	e := &env{t: t, srv: s3test.Start(t), dir: t.TempDir()}
	e.api = e.srv.Client(t, s3conn.Options{RequestTimeout: 2 * time.Second, Concurrency: 2, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 2})
	return e
}

// deliver puts key in the bucket and delivers it the way the task does.
func (e *env) deliver(key string, data []byte) {
	e.t.Helper()
	e.srv.Put(e.t, bucket, key, data, nil)
	if _, err := download.Run(context.Background(), e.api, download.Options{Bucket: bucket, Key: key, ExactKey: true, DataDir: e.dir, PartSize: 1 << 20, Concurrency: 1}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) del(key string) {
	e.t.Helper()
	if _, err := e.srv.Backend.DeleteObject(bucket, key); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) run(eventKey string) (prune.Result, error) {
	return prune.Run(context.Background(), e.api, prune.Options{Bucket: bucket, Key: eventKey, DataDir: e.dir})
}

func (e *env) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(e.dir, rel))
	return err == nil
}

func (e *env) hasRecord(key string) bool {
	root, err := os.OpenRoot(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	defer root.Close()
	store := record.New(root)
	defer store.Close()
	_, ok, _ := store.Read(key)
	return ok
}

// Gone from the bucket: the delivered file, its record and the directories
// it leaves empty are removed; the data dir and non-empty directories stay.
func TestDeleteGoneRemoves(t *testing.T) {
	e := newEnv(t)
	e.deliver("in/a/red flower.jpg", []byte("petals"))
	e.deliver("in/other.txt", []byte("stays"))
	e.del("in/a/red flower.jpg")
	res, err := e.run("in%2Fa%2Fred+flower.jpg") // as the event encodes it
	if err != nil || res.Outcome != prune.Removed || res.Bytes != 6 {
		t.Fatalf("%+v, %v", res, err)
	}
	if e.exists("in/a/red flower.jpg") || e.hasRecord("in/a/red flower.jpg") || e.exists("in/a") {
		t.Fatal("file, record or emptied directory left")
	}
	if !e.exists("in/other.txt") || !e.exists("in") {
		t.Fatal("removed more than the key")
	}
	// Again: nothing there any more.
	if res, err := e.run("in/a/red+flower.jpg"); err != nil || res.Outcome != prune.Nothing {
		t.Fatalf("second delete: %+v, %v", res, err)
	}
	// A key at the top: the data dir itself is never removed.
	e.deliver("top.txt", []byte("t"))
	e.del("top.txt")
	e.del("in/other.txt")
	if _, err := e.run("in/other.txt"); err != nil {
		t.Fatal(err)
	}
	if res, err := e.run("top.txt"); err != nil || res.Outcome != prune.Removed {
		t.Fatalf("%+v, %v", res, err)
	}
	if ents, err := os.ReadDir(e.dir); err != nil || len(ents) != 1 || ents[0].Name() != ".edge-drop" {
		t.Fatalf("data dir: %v, %v", ents, err)
	}
}

// A re-upload raced the delete event: S3 has the key again, so nothing is
// deleted (the re-upload's own event delivers it).
func TestDeleteReuploadedKeeps(t *testing.T) {
	e := newEnv(t)
	e.deliver("k.txt", []byte("v1"))
	e.del("k.txt")
	e.srv.Put(t, bucket, "k.txt", []byte("v2"), nil)
	res, err := e.run("k.txt")
	if err != nil || res.Outcome != prune.ObjectThere {
		t.Fatalf("%+v, %v", res, err)
	}
	if !e.exists("k.txt") || !e.hasRecord("k.txt") {
		t.Fatal("removed although the object exists")
	}
}

// 403 on HEAD: the task cannot tell "gone" from "not allowed": exit 5,
// nothing removed.
func TestDeleteForbiddenRemovesNothing(t *testing.T) {
	e := newEnv(t)
	e.deliver("k.txt", []byte("v1"))
	e.del("k.txt")
	e.srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
		return &s3test.Fault{Kind: s3test.Status, Status: 403, Code: "AccessDenied"}
	})
	_, err := e.run("k.txt")
	if exitcode.Of(err) != exitcode.Denied {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	if !e.exists("k.txt") || !e.hasRecord("k.txt") {
		t.Fatal("removed on a 403")
	}
}

// Hostile keys are skipped before anything is touched: no board path can
// hold them, so nothing was delivered for them and a delete of one is no
// failure (issue 17: unsafe keys are skipped by sync and delete modes).
func TestDeleteUnsafeKey(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"..%2Fetc%2Fpasswd", "%2Fabs", "a%2F..%2F..%2Fx", ".edge-drop%2Frecords%2Fx", "dir%2F..%2F", ".edge-drop%2F", "a%2F%2F", ""} {
		if res, err := e.run(k); err != nil || res.Outcome != prune.Unsafe || res.Reason == "" {
			t.Errorf("%q: %+v, %v; want skipped (unsafe key) with the reason", k, res, err)
		}
	}
	// Routed: unsafe once the routing components are stripped.
	for _, k := range []string{"to/b/.edge-drop/x", "to/b/.EDGE-DROP/y"} {
		res, err := prune.Run(context.Background(), e.api, prune.Options{Bucket: bucket, Key: k, DataDir: e.dir, StripComponents: 2})
		if err != nil || res.Outcome != prune.Unsafe {
			t.Errorf("%q routed: %+v, %v", k, res, err)
		}
	}
	if e.srv.Count(http.MethodHead) != 0 {
		t.Fatal("a hostile key reached S3")
	}
}

// Only files this project delivered, untouched since, are removed: a
// person's file (no record), a delivered file a person replaced (other
// size, or same size and another mtime, or a directory now), a record of
// another bucket: all kept, each saying why. A record that no longer
// describes the file is dropped.
func TestDeleteKeepsWhatIsNotOurs(t *testing.T) {
	e := newEnv(t)
	write := func(rel, data string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(e.dir, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(e.dir, rel), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("person.txt", "mine")
	e.deliver("resized.txt", []byte("delivered"))
	write("resized.txt", "a person's longer text")
	e.deliver("same-size.txt", []byte("delivered"))
	write("same-size.txt", "DELIVERED")
	e.deliver("sub/dir.txt", []byte("d"))
	os.Remove(filepath.Join(e.dir, "sub/dir.txt"))
	if err := os.Mkdir(filepath.Join(e.dir, "sub/dir.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"resized.txt", "same-size.txt", "sub/dir.txt"} {
		e.del(k)
	}
	for k, want := range map[string]prune.Outcome{"person.txt": prune.NotOurs, "resized.txt": prune.KeptChanged,
		"same-size.txt": prune.KeptChanged, "sub/dir.txt": prune.KeptChanged} {
		res, err := e.run(k)
		if err != nil || res.Outcome != want || res.Reason == "" {
			t.Errorf("%s: %+v, %v; want %q", k, res, err, want)
		}
		if !e.exists(k) {
			t.Errorf("%s removed", k)
		}
		if e.hasRecord(k) {
			t.Errorf("%s: stale record kept", k)
		}
	}

	// A record from another bucket.
	e.deliver("b.txt", []byte("from edge"))
	e.srv.Put(t, "other-bucket", "unrelated.txt", []byte("x"), nil)
	res, err := prune.Run(context.Background(), e.api, prune.Options{Bucket: "other-bucket", Key: "b.txt", DataDir: e.dir})
	if err != nil || res.Outcome != prune.OtherKey || !e.exists("b.txt") || !e.hasRecord("b.txt") {
		t.Fatalf("a delete event of another bucket: %+v, %v", res, err)
	}
}

// TestDeleteRoutedKey: a key delivered with routing (EDGE_DROP_STRIP_COMPONENTS,
// which the state machine passes to deletes as to deliveries) lives at the
// key without its routing components; delete removes that file and never
// a file a person put at the key's own path.
func TestDeleteRoutedKey(t *testing.T) {
	e := newEnv(t)
	const key = "to/a/docs/c.txt"
	e.srv.Put(t, bucket, key, []byte("routed"), nil)
	if _, err := download.Run(context.Background(), e.api, download.Options{Bucket: bucket, Key: key, ExactKey: true, StripComponents: 2,
		DataDir: e.dir, PartSize: 1 << 20, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "to/a/docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, key), []byte("a person's"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.del(key)
	res, err := prune.Run(context.Background(), e.api, prune.Options{Bucket: bucket, Key: key, DataDir: e.dir, StripComponents: 2})
	if err != nil || res.Outcome != prune.Removed {
		t.Fatalf("got %+v, %v; want removed", res, err)
	}
	if e.exists("docs/c.txt") || e.exists("docs") {
		t.Error("the routed file (docs/c.txt) or its emptied directory is still there")
	}
	if !e.exists(key) {
		t.Error("the person's file at the key's own path was removed")
	}
	if e.hasRecord("docs/c.txt") {
		t.Error("record not removed")
	}
}

// A deleted folder marker ("photos/") takes its directory only if that is
// empty (and the parents that leaves empty); anything in it stays.
func TestDeleteFolderMarker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		key     string
		strip   int
		inS3    bool     // the marker is (again) in the bucket
		mkdirs  []string // directories in the data dir before
		files   []string // files in the data dir before
		link    string   // a symlink at this path to a directory outside
		code    exitcode.Code
		outcome prune.Outcome
		gone    []string // must not exist afterwards
		stays   []string // must exist afterwards
	}{
		{name: "empty", key: "photos/", mkdirs: []string{"photos"}, outcome: prune.Removed, gone: []string{"photos"}},
		{name: "empty, nested", key: "a/b/", mkdirs: []string{"a/b"}, outcome: prune.Removed, gone: []string{"a/b", "a"}},
		{name: "empty, parent not empty", key: "a/b/", mkdirs: []string{"a/b"}, files: []string{"a/keep.txt"}, outcome: prune.Removed,
			gone: []string{"a/b"}, stays: []string{"a/keep.txt"}},
		{name: "event-encoded", key: "red+photos%2F", mkdirs: []string{"red photos"}, outcome: prune.Removed, gone: []string{"red photos"}},
		{name: "not empty", key: "photos/", mkdirs: []string{"photos/sub"}, files: []string{"photos/cat.jpg"}, outcome: prune.NotEmpty,
			stays: []string{"photos/cat.jpg", "photos/sub"}},
		{name: "only an empty subdirectory", key: "photos/", mkdirs: []string{"photos/2026"}, outcome: prune.NotEmpty, stays: []string{"photos/2026"}},
		{name: "marker uploaded again", key: "photos/", inS3: true, mkdirs: []string{"photos"}, outcome: prune.ObjectThere, stays: []string{"photos"}},
		{name: "no directory", key: "photos/", outcome: prune.Nothing},
		{name: "a file there", key: "photos/", files: []string{"photos"}, outcome: prune.NotOurs, stays: []string{"photos"}},
		{name: "routed", key: "to/s1/photos/", strip: 2, mkdirs: []string{"photos", "to/s1/photos"}, outcome: prune.Removed,
			gone: []string{"photos"}, stays: []string{"to/s1/photos"}},
		{name: "routing folder", key: "to/s1/", strip: 2, files: []string{"f.txt"}, outcome: prune.Nothing, stays: []string{"f.txt"}},
		{name: "symlink out of the data dir", key: "evil/sub/", link: "evil", code: exitcode.UnsafeKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			for _, d := range tc.mkdirs {
				if err := os.MkdirAll(filepath.Join(e.dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(e.dir, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			outside := t.TempDir()
			if tc.link != "" {
				os.Mkdir(filepath.Join(outside, "sub"), 0o755)
				if err := os.Symlink(outside, filepath.Join(e.dir, tc.link)); err != nil {
					t.Fatal(err)
				}
			}
			e.srv.Put(t, bucket, "other.txt", nil, nil) // the bucket exists
			if tc.inS3 {
				e.srv.Put(t, bucket, tc.key, nil, nil)
			}
			res, err := prune.Run(context.Background(), e.api, prune.Options{Bucket: bucket, Key: tc.key, DataDir: e.dir, StripComponents: tc.strip})
			if exitcode.Of(err) != tc.code || (tc.code == 0) != (err == nil) {
				t.Fatalf("exit %d (%v), want %d", exitcode.Of(err), err, tc.code)
			}
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %q (%s), want %q", res.Outcome, res.Reason, tc.outcome)
			}
			for _, p := range tc.gone {
				if e.exists(p) {
					t.Errorf("%s still there", p)
				}
			}
			for _, p := range tc.stays {
				if !e.exists(p) {
					t.Errorf("%s removed", p)
				}
			}
			if !e.exists(".") {
				t.Error("data dir removed")
			}
			if tc.link != "" {
				if _, err := os.Stat(filepath.Join(outside, "sub")); err != nil {
					t.Errorf("removed outside the data dir: %v", err)
				}
			}
		})
	}
}

// Issue 17, why 3: an edit that keeps size and mtime used to be removed by
// a mirrored delete. The record's file identity (inode, ctime) says the
// file changed since delivery: kept, and said why.
func TestDeleteKeepsAnEditWithSizeAndMtimeKept(t *testing.T) {
	e := newEnv(t)
	e.deliver("notes.txt", []byte("delivered notes"))
	p := filepath.Join(e.dir, "notes.txt")
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte("DELIVERED NOTES"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	e.del("notes.txt")
	res, err := e.run("notes.txt")
	if err != nil || res.Outcome != prune.KeptChanged {
		t.Fatalf("%+v, %v; want kept (changed since delivery)", res, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "DELIVERED NOTES" {
		t.Fatalf("the edited file is %q", b)
	}
}
