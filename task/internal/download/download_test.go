package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

const (
	bucket   = "edge"
	partSize = 64 << 10
)

func randBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func crc32c(b []byte) string {
	return b64(uint64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))), 4)
}

func b64(v uint64, n int) string {
	out := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = byte(v)
		v >>= 8
	}
	return base64.StdEncoding.EncodeToString(out)
}

type env struct {
	t   *testing.T
	srv *s3test.Server
	dir string
	o   download.Options
	rt  time.Duration
}

func newEnv(t *testing.T) *env {
	t.Parallel()
	return &env{t: t, srv: s3test.Start(t), dir: t.TempDir(), rt: 2 * time.Second,
		o: download.Options{Bucket: bucket, PartSize: partSize, Concurrency: 3, RetryDelay: 10 * time.Millisecond}}
}

func (e *env) run(ctx context.Context, key string) (download.Result, error) {
	e.t.Helper()
	return e.runOpts(ctx, key, e.o)
}

// runOpts runs one download with options o (its own copy: deliveries may
// run concurrently).
func (e *env) runOpts(ctx context.Context, key string, o download.Options) (download.Result, error) {
	e.t.Helper()
	api := e.srv.Client(e.t, s3conn.Options{RequestTimeout: e.rt, Concurrency: e.o.Concurrency, MaxBackoff: 20 * time.Millisecond})
	o.Key = key
	o.DataDir = e.dir
	o.RequestTimeout = e.rt
	return download.Run(ctx, api, o)
}

// mustOK runs the download and checks the file is byte-identical.
func (e *env) mustOK(key, wantPath string, want []byte) download.Result {
	e.t.Helper()
	res, err := e.run(context.Background(), key)
	if err != nil {
		e.t.Fatalf("download %q: exit %d: %v\nproxy log: %s", key, exitcode.Of(err), err, strings.Join(e.srv.Log, "\n"))
	}
	got, err := os.ReadFile(filepath.Join(e.dir, wantPath))
	if err != nil {
		e.t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("content of %s differs (%d vs %d bytes)", wantPath, len(got), len(want))
	}
	e.noTemp()
	return res
}

// mustFail runs the download and checks the exit code, that the target
// holds old (or is absent) and that no temp file is left.
func (e *env) mustFail(ctx context.Context, key, wantPath string, code exitcode.Code, old []byte) error {
	e.t.Helper()
	_, err := e.run(ctx, key)
	if got := exitcode.Of(err); got != code {
		e.t.Fatalf("exit %d (%v), want %d\nproxy log: %s", got, err, code, strings.Join(e.srv.Log, "\n"))
	}
	got, rerr := os.ReadFile(filepath.Join(e.dir, wantPath))
	switch {
	case old == nil && !errors.Is(rerr, fs.ErrNotExist):
		e.t.Fatalf("target %s exists after failure (err %v)", wantPath, rerr)
	case old != nil && !bytes.Equal(got, old):
		e.t.Fatalf("target %s lost its old content", wantPath)
	}
	e.noTemp()
	return err
}

// noTemp checks that no temp file (a partial, its progress, a pending
// record) is left in the state dir.
func (e *env) noTemp() {
	e.t.Helper()
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".part") || strings.HasSuffix(p, ".resume") || strings.HasSuffix(p, ".tmp") ||
			strings.HasPrefix(d.Name(), ".edge-drop-")) {
			e.t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
}

func isGet(r *http.Request) bool { return r.Method == http.MethodGet }

// everyGet is a fault rule answering every GET with f.
func everyGet(f s3test.Fault) func(*s3test.Server) s3test.Rule {
	return func(*s3test.Server) s3test.Rule {
		return func(r *http.Request, n int) *s3test.Fault {
			if !isGet(r) {
				return nil
			}
			each := f
			return &each
		}
	}
}

// putChecked puts key with the full-object CRC32C an upload with
// checksums gives it, and returns its ETag.
func (e *env) putChecked(key string, data []byte) string {
	e.t.Helper()
	return e.srv.Put(e.t, bucket, key, data, map[string]string{"x-amz-checksum-crc32c": crc32c(data)})
}

func TestKeysAndSizes(t *testing.T) {
	e := newEnv(t)
	big := randBytes(5*partSize+123, 1)
	objs := []struct {
		stored, event, path string
		data                []byte
	}{
		{"demo1.txt", "demo1.txt", "demo1.txt", []byte("hello\n")},
		{"dir/sub/demo1.txt", "dir/sub/demo1.txt", "dir/sub/demo1.txt", []byte("nested")},
		{"dir/sub/demo2.txt", "dir%2Fsub%2Fdemo2.txt", "dir/sub/demo2.txt", []byte("slash-encoded")},
		{"red flower.jpg", "red+flower.jpg", "red flower.jpg", []byte("space")},
		{"a+b.txt", "a+b.txt", "a+b.txt", []byte("literal plus: decoded 'a b.txt' is absent, raw used")},
		{"café/日本 写真.jpg", "caf%C3%A9%2F%E6%97%A5%E6%9C%AC+%E5%86%99%E7%9C%9F.jpg", "café/日本 写真.jpg", []byte("unicode")},
		{"empty.bin", "empty.bin", "empty.bin", nil},
		{"big.bin", "big.bin", "big.bin", big},
		{"exact.bin", "exact.bin", "exact.bin", big[:2*partSize]},
	}
	for _, o := range objs {
		e.srv.Put(t, bucket, o.stored, o.data, nil)
	}
	for _, o := range objs {
		res := e.mustOK(o.event, o.path, o.data)
		if res.Key != o.stored || res.Bytes != int64(len(o.data)) || res.Verified != "md5-etag" {
			t.Errorf("%s: result %+v", o.event, res)
		}
	}
	// Re-running the same event is safe and recognises the file.
	if res := e.mustOK("big.bin", "big.bin", big); !res.UpToDate {
		t.Errorf("second run not up to date: %+v", res)
	}
	// mtime comes from LastModified.
	fi, _ := os.Stat(filepath.Join(e.dir, "big.bin"))
	if time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("mtime %v not from LastModified", fi.ModTime())
	}
}

func TestChecksumsPreferred(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*partSize+5, 2)
	sha := sha256.Sum256(data)
	cases := []struct {
		name string
		meta map[string]string
		want string
	}{
		{"crc32c", map[string]string{"x-amz-checksum-crc32c": crc32c(data), "x-amz-checksum-type": "FULL_OBJECT"}, "crc32c"},
		{"crc32", map[string]string{"x-amz-checksum-crc32": b64(uint64(crc32.ChecksumIEEE(data)), 4)}, "crc32"},
		{"crc64", map[string]string{"x-amz-checksum-crc64nvme": b64(crc64.Checksum(data, crc64.MakeTable(0x9a6c9329ac4bc9b5)), 8)}, "crc64nvme"},
		{"sha256", map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(sha[:])}, "sha256"},
		{"composite falls back to etag", map[string]string{"x-amz-checksum-crc32c": "AAAAAA==-3", "x-amz-checksum-type": "COMPOSITE"}, "md5-etag"},
	}
	for _, c := range cases {
		e.srv.Put(t, bucket, c.name, data, c.meta)
		if res := e.mustOK(c.name, c.name, data); res.Verified != c.want {
			t.Errorf("%s: verified with %q, want %q", c.name, res.Verified, c.want)
		}
	}
}

func TestFaultsRecovered(t *testing.T) {
	data := randBytes(4*partSize+999, 3)
	cases := []struct {
		name    string
		rule    s3test.Rule
		rt      time.Duration
		resumes bool
	}{
		{"reset mid body", func(r *http.Request, n int) *s3test.Fault {
			if isGet(r) && n <= 2 {
				return &s3test.Fault{Kind: s3test.Reset, N: 10000}
			}
			return nil
		}, 0, true},
		{"body shorter than content-length", func(r *http.Request, n int) *s3test.Fault {
			// The third part's first GET, chosen by its range: which GET
			// is the third to arrive depends on the workers' scheduling,
			// and the last part is too short to be cut at partSize/2.
			if isGet(r) && r.Header.Get("Range") == fmt.Sprintf("bytes=%d-%d", 2*partSize, 3*partSize-1) {
				return &s3test.Fault{Kind: s3test.Short, N: partSize / 2}
			}
			return nil
		}, 0, true},
		{"500 and 503 SlowDown", func(r *http.Request, n int) *s3test.Fault {
			switch {
			case r.Method == http.MethodHead && n == 1:
				return &s3test.Fault{Kind: s3test.Status, Status: 503, Code: "SlowDown"}
			case isGet(r) && n == 1:
				return &s3test.Fault{Kind: s3test.Status, Status: 500, Code: "InternalError"}
			case isGet(r) && n == 2:
				return &s3test.Fault{Kind: s3test.Status, Status: 503, Code: "SlowDown"}
			}
			return nil
		}, 0, false},
		{"slow headers hit request timeout", func(r *http.Request, n int) *s3test.Fault {
			if isGet(r) && n == 1 {
				return &s3test.Fault{Kind: s3test.Delay, D: 3 * time.Second}
			}
			return nil
		}, 300 * time.Millisecond, false},
		{"stalled body hits request timeout", func(r *http.Request, n int) *s3test.Fault {
			if isGet(r) && n == 1 {
				return &s3test.Fault{Kind: s3test.Stall, N: 3000, D: 3 * time.Second}
			}
			return nil
		}, 300 * time.Millisecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.rt > 0 {
				e.rt = c.rt
			}
			e.putChecked("dir/obj.bin", data)
			e.srv.SetRule(c.rule)
			res := e.mustOK("dir/obj.bin", "dir/obj.bin", data)
			if c.resumes && res.Resumes == 0 {
				t.Errorf("expected a mid-part resume: %+v", res)
			}
			if res.Verified != "crc32c" {
				t.Errorf("verified with %q", res.Verified)
			}
		})
	}
}

func TestResumeContinuesFromOffset(t *testing.T) {
	e := newEnv(t)
	e.o.Concurrency = 1
	data := randBytes(2*partSize, 4)
	e.srv.Put(t, bucket, "r.bin", data, nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if isGet(r) && n == 1 {
			return &s3test.Fault{Kind: s3test.Reset, N: 12345}
		}
		return nil
	})
	e.mustOK("r.bin", "r.bin", data)
	var ranges []string
	for _, l := range e.srv.Log {
		if strings.HasPrefix(l, "GET") {
			ranges = append(ranges, strings.Fields(l)[2])
		}
	}
	want := []string{"bytes=0-65535", "bytes=12345-65535", "bytes=65536-131071"}
	if strings.Join(ranges, " ") != strings.Join(want, " ") {
		t.Fatalf("ranges %v, want %v", ranges, want)
	}
}

func TestFaultsFailCleanly(t *testing.T) {
	data := randBytes(4*partSize+999, 5)
	old := []byte("previous content")
	cases := []struct {
		name string
		meta map[string]string
		rule func(s *s3test.Server) s3test.Rule
		code exitcode.Code
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"flipped byte, crc32c", map[string]string{"x-amz-checksum-crc32c": crc32c(data)}, func(*s3test.Server) s3test.Rule {
			return func(r *http.Request, n int) *s3test.Fault {
				if isGet(r) && n == 2 {
					return &s3test.Fault{Kind: s3test.Flip, N: 100}
				}
				return nil
			}
		}, exitcode.Integrity, nil},
		{"flipped byte, md5 etag", nil, func(*s3test.Server) s3test.Rule {
			return func(r *http.Request, n int) *s3test.Fault {
				if isGet(r) && n == 4 {
					return &s3test.Fault{Kind: s3test.Flip, N: 7}
				}
				return nil
			}
		}, exitcode.Integrity, nil},
		{"wrong checksum header", map[string]string{"x-amz-checksum-crc32c": crc32c(data)}, func(*s3test.Server) s3test.Rule {
			return func(r *http.Request, n int) *s3test.Fault {
				if r.Method == http.MethodHead {
					return &s3test.Fault{Kind: s3test.Header, Name: "x-amz-checksum-crc32c", Value: "AAAAAA=="}
				}
				return nil
			}
		}, exitcode.Integrity, nil},
		{"wrong etag on head", nil, func(*s3test.Server) s3test.Rule {
			return func(r *http.Request, n int) *s3test.Fault {
				if r.Method == http.MethodHead {
					return &s3test.Fault{Kind: s3test.Header, Name: "ETag", Value: `"0123456789abcdef0123456789abcdef"`}
				}
				return nil
			}
		}, exitcode.Integrity, nil},
		{"persistent 503", nil, everyGet(s3test.Fault{Kind: s3test.Status, Status: 503, Code: "SlowDown"}), exitcode.Network, nil},
		{"repeated resets", nil, everyGet(s3test.Fault{Kind: s3test.Reset, N: 0}), exitcode.Network, nil},
		{"access denied", nil, func(*s3test.Server) s3test.Rule {
			return func(r *http.Request, n int) *s3test.Fault {
				return &s3test.Fault{Kind: s3test.Status, Status: 403, Code: "AccessDenied"}
			}
		}, exitcode.Denied, nil},
		{"overall timeout", nil, everyGet(s3test.Fault{Kind: s3test.Stall, N: 1000, D: 5 * time.Second}), exitcode.Network, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 500*time.Millisecond)
		}},
		{"canceled by signal", nil, everyGet(s3test.Fault{Kind: s3test.Stall, N: 1000, D: 5 * time.Second}), exitcode.Canceled, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(300*time.Millisecond, func() { cancel(download.ErrSignal) })
			return ctx, func() { cancel(nil) }
		}},
	}
	for _, c := range cases {
		for _, withOld := range []bool{false, true} {
			name := c.name
			if withOld {
				name += "/existing target"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				e.srv.Put(t, bucket, "t/obj.bin", data, c.meta)
				var prev []byte
				if withOld {
					prev = old
					os.MkdirAll(filepath.Join(e.dir, "t"), 0o755)
					os.WriteFile(filepath.Join(e.dir, "t/obj.bin"), old, 0o644)
				}
				e.srv.SetRule(c.rule(e.srv))
				ctx, cancel := context.Background(), func() {}
				if c.ctx != nil {
					ctx, cancel = c.ctx()
				}
				defer cancel()
				start := time.Now()
				e.mustFail(ctx, "t/obj.bin", "t/obj.bin", c.code, prev)
				if time.Since(start) > 20*time.Second {
					t.Errorf("took %v", time.Since(start))
				}
			})
		}
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	err := e.mustFail(context.Background(), "no+such+key.txt", "no such key.txt", exitcode.NotFound, nil)
	if e.srv.Count(http.MethodHead) != 2 {
		t.Errorf("want HEAD for decoded and raw key, got %d", e.srv.Count(http.MethodHead))
	}
	if !strings.Contains(err.Error(), "no+such+key.txt") {
		t.Errorf("error should name the raw key: %v", err)
	}
	e.mustFail(context.Background(), "missing/file.txt", "missing/file.txt", exitcode.NotFound, nil)
	if _, err := os.Stat(filepath.Join(e.dir, "missing")); err == nil {
		t.Error("directory created for a missing object")
	}
}

func TestUnsafe(t *testing.T) {
	e := newEnv(t)
	outside := t.TempDir()
	e.srv.Put(t, bucket, "evil/x.txt", []byte("x"), nil)
	e.srv.Put(t, bucket, "ok/x.txt", []byte("x"), nil)
	if err := os.Symlink(outside, filepath.Join(e.dir, "evil")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../x", "%2E%2E%2Fx", "a/../../x", "/etc/passwd", "%2Fetc%2Fpasswd", "dir/../", "a%00b"} {
		e.mustFail(context.Background(), k, "x", exitcode.UnsafeKey, nil)
	}
	if n := e.srv.Count(http.MethodHead) + e.srv.Count(http.MethodGet); n != 0 {
		t.Errorf("%d requests sent for hostile keys", n)
	}
	e.mustFail(context.Background(), "evil/x.txt", "evil/x.txt", exitcode.UnsafeKey, nil)
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("something was created outside the data dir: %v", ents)
	}
	// A symlink that stays inside is fine.
	os.Mkdir(filepath.Join(e.dir, "ok"), 0o755)
	os.Symlink("ok", filepath.Join(e.dir, "alias"))
	e.srv.Put(t, bucket, "alias/y.txt", []byte("y"), nil)
	e.mustOK("alias/y.txt", "ok/y.txt", []byte("y"))
}

func TestLocalIOErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.Put(t, bucket, "f.txt", []byte("x"), nil)
	e.o.Bucket = bucket
	// Missing data dir.
	e.dir = filepath.Join(e.dir, "absent")
	if _, err := e.run(context.Background(), "f.txt"); exitcode.Of(err) != exitcode.LocalIO {
		t.Fatalf("missing data dir: %v", err)
	}
	// Target is a directory.
	e.dir = t.TempDir()
	os.Mkdir(filepath.Join(e.dir, "f.txt"), 0o755)
	if _, err := e.run(context.Background(), "f.txt"); exitcode.Of(err) != exitcode.LocalIO {
		t.Fatalf("dir target: %v", err)
	}
	// Read-only directory (skipped as root, which ignores permissions).
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		e.dir = ro
		if _, err := e.run(context.Background(), "f.txt"); exitcode.Of(err) != exitcode.LocalIO {
			t.Fatalf("read-only dir: %v", err)
		}
	}
}

func TestMultipartETag(t *testing.T) {
	e := newEnv(t)
	data := randBytes(5*partSize+100, 7)
	// Uploaded in 96 KiB parts, downloaded in 64 KiB ranges.
	e.srv.Put(t, bucket, "mp.bin", data, nil)
	etag := e.srv.Fixups.SetMultipart(bucket, "mp.bin", data, 96<<10)
	if !strings.HasSuffix(etag, `-4"`) {
		t.Fatalf("etag %s", etag)
	}
	if res := e.mustOK("mp.bin", "mp.bin", data); res.Verified != "md5-multipart-etag" {
		t.Fatalf("verified with %q", res.Verified)
	}
	// A flipped byte is caught through the multipart ETag.
	os.Remove(filepath.Join(e.dir, "mp.bin"))
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if isGet(r) && n == 3 {
			return &s3test.Fault{Kind: s3test.Flip, N: 5}
		}
		return nil
	})
	e.mustFail(context.Background(), "mp.bin", "mp.bin", exitcode.Integrity, nil)
	// Single-part multipart upload ("-1") works too.
	small := randBytes(1000, 8)
	e.srv.SetRule(nil)
	e.srv.Put(t, bucket, "mp1.bin", small, nil)
	e.srv.Fixups.SetMultipart(bucket, "mp1.bin", small, 5<<20)
	if res := e.mustOK("mp1.bin", "mp1.bin", small); res.Verified != "md5-multipart-etag" {
		t.Fatalf("verified with %q", res.Verified)
	}
}

func TestMultipartETagUnverifiable(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*partSize, 9)
	e.srv.Put(t, bucket, "mp.bin", data, nil)
	e.srv.Fixups.SetMultipart(bucket, "mp.bin", data, 64<<10)
	// A server that does not answer HEAD ?partNumber: download still
	// succeeds (length-checked, If-Match pinned) but is reported unverified.
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if r.Method == http.MethodHead && r.URL.Query().Get("partNumber") != "" {
			return &s3test.Fault{Kind: s3test.Status, Status: 400, Code: "InvalidArgument"}
		}
		return nil
	})
	if res := e.mustOK("mp.bin", "mp.bin", data); res.Verified != "" {
		t.Fatalf("verified with %q, want none", res.Verified)
	}
}

// Without s3:ListBucket, S3 answers 403 for a missing key; the raw key must
// still be tried.
func TestRawKeyAfter403(t *testing.T) {
	e := newEnv(t)
	e.srv.Put(t, bucket, "a+b.txt", []byte("plus"), nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if r.Method == http.MethodHead && (r.URL.Path == "/edge/a b.txt" || strings.HasPrefix(r.URL.Path, "/edge/c")) {
			return &s3test.Fault{Kind: s3test.Status, Status: 403, Code: "AccessDenied"}
		}
		return nil
	})
	e.mustOK("a+b.txt", "a+b.txt", []byte("plus"))
	// Both forbidden: exit 5 with a hint.
	err := e.mustFail(context.Background(), "c+d.txt", "c d.txt", exitcode.Denied, nil)
	if !strings.Contains(err.Error(), "s3:ListBucket") {
		t.Errorf("no hint in %v", err)
	}
}

// TestCanceledBeforeTheFirstGET: a signal that arrives after the HEAD but
// before any part is fetched is a cancel (exit 9), never an integrity
// failure of an unfetched file (it was exit 8: the verifier hashed an empty
// read-back), and nothing is left behind.
func TestCanceledBeforeTheFirstGET(t *testing.T) {
	for name, meta := range map[string]map[string]string{"md5 etag": nil, "crc32c": {"x-amz-checksum-crc32c": crc32c([]byte("payload"))}} {
		t.Run(name, func(t *testing.T) { canceledBeforeTheFirstGET(t, meta) })
	}
}

func canceledBeforeTheFirstGET(t *testing.T, meta map[string]string) {
	e := newEnv(t)
	data := []byte("payload")
	e.srv.Put(t, bucket, "c/obj.bin", data, meta)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	o := e.o
	o.OnTransfer = func(int64) { cancel(download.ErrSignal) }
	_, err := e.runOpts(ctx, "c/obj.bin", o)
	if code := exitcode.Of(err); err == nil || code != exitcode.Canceled {
		t.Fatalf("want exit 9 (canceled), got exit %d: %v", code, err)
	}
	e.noTemp()
	if _, err := os.Stat(filepath.Join(e.dir, "c/obj.bin")); !os.IsNotExist(err) {
		t.Fatalf("target exists after a cancel: %v", err)
	}
}

// A whole-object hash (here the MD5 ETag) paces the workers through a
// window of parts; whatever its size, every download must finish, also
// when workers outnumber the window and run out of parts at the end.
func TestHashWindowAnySize(t *testing.T) {
	e := newEnv(t)
	data := randBytes(23*partSize+5, 9)
	e.srv.Put(t, bucket, "paced.bin", data, nil)
	for _, tc := range []struct{ window, conc int }{
		{1, 8}, {1, 4}, {1, 2}, {4, 4}, {0, 4}, {7, 1},
	} {
		t.Run(fmt.Sprintf("window %d of %d workers", tc.window, tc.conc), func(t *testing.T) {
			o := e.o
			o.Concurrency, o.HashWindow = tc.conc, tc.window
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			os.Remove(filepath.Join(e.dir, "paced.bin"))
			res, err := e.runOpts(ctx, "paced.bin", o)
			if err != nil {
				t.Fatalf("download: %v (a stuck window ends in the timeout)", err)
			}
			got, _ := os.ReadFile(filepath.Join(e.dir, "paced.bin"))
			if res.Verified != "md5-etag" || !bytes.Equal(got, data) {
				t.Errorf("verified %q, %d bytes, identical %v", res.Verified, len(got), bytes.Equal(got, data))
			}
		})
	}
}
