package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
	"github.com/edge-drop/edge-drop/task/internal/statedir"
)

// resumable returns options that keep interrupted downloads, recording
// their progress every 128 KiB (the default 8 MiB is larger than these
// objects).
func (e *env) resumable() download.Options {
	o := e.o
	o.Partials = statedir.Bounds{MaxAge: time.Hour, MaxBytes: 1 << 30}
	o.CheckpointBytes = 128 << 10
	return o
}

// interrupt runs a delivery whose GETs after the first allow stall, and
// stops it (as SIGTERM does) once its progress record names at least frac
// of size bytes; it returns what the record named then.
func (e *env) interrupt(key string, size int64, allow int, frac float64) int64 {
	e.t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if r.Method == http.MethodGet && n > allow {
			return &s3test.Fault{Kind: s3test.Stall, D: time.Minute}
		}
		return nil
	})
	defer e.srv.SetRule(nil)
	o := e.resumable()
	var recorded int64
	o.Hooks.Checkpoint = func(n int64) {
		recorded = n
		if n >= int64(float64(size)*frac) {
			cancel(fmt.Errorf("%w (test)", download.ErrSignal))
		}
	}
	_, err := e.runOpts(ctx, key, o)
	if exitcode.Of(err) != exitcode.Canceled {
		e.t.Fatalf("interrupted delivery: exit %d (%v), want 9", exitcode.Of(err), err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, statedir.TmpDir, statedir.Name(key)+".resume")); err != nil {
		e.t.Fatalf("no progress record kept: %v", err)
	}
	return recorded
}

// TestResumeEveryCheck: a delivery stopped at ~60% leaves its partial and
// progress; the next delivery of the same version fetches only the rest
// (bytes counted at the server) and verifies, for every kind of check:
// per-part CRCs combined, composite checksums and multipart ETags by the
// upload's parts, whole-object SHA-256 and MD5 through the hash's saved
// state, and no check at all.
func TestResumeEveryCheck(t *testing.T) {
	const size = 4<<20 + 123
	sha := func(b []byte) string { s := sha256.Sum256(b); return base64.StdEncoding.EncodeToString(s[:]) }
	for i, c := range []struct {
		name, verified string
		allow          int // GETs before the rest stall: ~60% of the object
		put            func(e *env, key string, data []byte)
	}{
		{"full-object CRC", "crc32c", 40, func(e *env, key string, data []byte) {
			e.putChecked(key, data)
		}},
		{"composite", "crc32-composite", 6, func(e *env, key string, data []byte) {
			e.srv.Put(e.t, bucket, key, data, nil)
			sizes := []int64{512 << 10, 512 << 10, 512 << 10, 512 << 10, 512 << 10, 512 << 10, 512 << 10, 512 << 10, 123}
			e.srv.Fixups.SetParts(bucket, key, data, sizes, "CRC32")
		}},
		{"multipart ETag", "md5-multipart-etag", 6, func(e *env, key string, data []byte) {
			e.srv.Put(e.t, bucket, key, data, nil)
			e.srv.Fixups.SetMultipart(bucket, key, data, 512<<10)
		}},
		{"whole-object SHA-256", "sha256", 40, func(e *env, key string, data []byte) {
			e.srv.Put(e.t, bucket, key, data, map[string]string{"x-amz-checksum-sha256": sha(data)})
		}},
		{"MD5 ETag", "md5-etag", 40, func(e *env, key string, data []byte) { e.srv.Put(e.t, bucket, key, data, nil) }},
		{"unverifiable", "", 40, func(e *env, key string, data []byte) {
			e.srv.Put(e.t, bucket, key, data, map[string]string{"x-amz-server-side-encryption": "aws:kms"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			data := randBytes(size, uint64(100+i))
			c.put(e, "big.bin", data)
			recorded := e.interrupt("big.bin", size, c.allow, 0.55)
			e.srv.SetRule(nil) // counts anew
			res, err := e.runOpts(context.Background(), "big.bin", e.resumable())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(e.dir, "big.bin")); !bytes.Equal(got, data) {
				t.Fatal("the resumed file differs from the object")
			}
			if res.Verified != c.verified {
				t.Errorf("verified %q, want %q", res.Verified, c.verified)
			}
			fetched := e.srv.BodyBytes()
			t.Logf("the record named %d bytes; the second delivery kept %d and fetched %d (%d at the server) of %d", recorded, res.Kept, res.Fetched, fetched, size)
			if fetched > size*45/100 || res.Kept < recorded || res.Kept+res.Fetched != size {
				t.Errorf("second delivery fetched %d of %d bytes (kept %d, the record named %d); want at most 45%%", fetched, size, res.Kept, recorded)
			}
			e.noTemp()
		})
	}
}

// Another version discards what an interrupted delivery left; so does a
// delivery that does not keep partials.
func TestResumeOnlyTheSameVersion(t *testing.T) {
	e := newEnv(t)
	const size = 2 << 20
	v1, v2 := randBytes(size, 1), randBytes(size, 2)
	e.putChecked("v.bin", v1)
	e.interrupt("v.bin", size, 16, 0.4)
	e.putChecked("v.bin", v2)
	e.srv.SetRule(nil)
	res, err := e.runOpts(context.Background(), "v.bin", e.resumable())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.dir, "v.bin")); !bytes.Equal(got, v2) || res.Kept != 0 || e.srv.BodyBytes() != size {
		t.Fatalf("kept %d, fetched %d of %d bytes; want the new version fetched whole", res.Kept, e.srv.BodyBytes(), size)
	}
	e.noTemp()
}

// A part the partial no longer holds as recorded (the file changed on
// disk) is fetched again, and the delivery still verifies.
func TestResumeRechecksWhatItKept(t *testing.T) {
	e := newEnv(t)
	const size = 2 << 20
	data := randBytes(size, 3)
	e.putChecked("r.bin", data)
	e.interrupt("r.bin", size, 20, 0.5)
	p := filepath.Join(e.dir, statedir.TmpDir, statedir.Name("r.bin")+".part")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{^data[10]}, 10) // part 1, which the record names
	f.Close()
	e.srv.SetRule(nil)
	res, err := e.runOpts(context.Background(), "r.bin", e.resumable())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.dir, "r.bin")); !bytes.Equal(got, data) {
		t.Fatal("a changed part was kept")
	}
	if res.Kept == 0 || res.Kept+res.Fetched != size || !strings.Contains(strings.Join(e.srv.Log, "\n"), "bytes=0-") {
		t.Fatalf("kept %d, fetched %d; want the changed first part fetched again and the rest kept\n%s", res.Kept, res.Fetched, strings.Join(e.srv.Log, "\n"))
	}
}

// A kept partial older than its bound is removed by the next task start;
// a failure that is not an interruption (a bad checksum) keeps nothing.
func TestPartialsNotKept(t *testing.T) {
	e := newEnv(t)
	const size = 2 << 20
	data := randBytes(size, 4)
	e.putChecked("old.bin", data)
	e.interrupt("old.bin", size, 16, 0.4)
	o := e.resumable()
	o.Partials.MaxAge = time.Nanosecond
	e.srv.Put(t, bucket, "other.bin", []byte("x"), nil)
	if _, err := e.runOpts(context.Background(), "other.bin", o); err != nil {
		t.Fatal(err)
	}
	e.noTemp()

	e.srv.Put(t, bucket, "bad.bin", data, map[string]string{"x-amz-checksum-crc32c": crc32c(data[1:])})
	if _, err := e.runOpts(context.Background(), "bad.bin", e.resumable()); exitcode.Of(err) != exitcode.Integrity {
		t.Fatalf("exit %d (%v), want 8", exitcode.Of(err), err)
	}
	e.noTemp()
}

// An interrupted download is not lost to a failure before its resume
// starts (the free-space floor in the way): it stays for a later try.
func TestPartialSurvivesAFailedStart(t *testing.T) {
	e := newEnv(t)
	const size = 2 << 20
	data := randBytes(size, 5)
	e.putChecked("f.bin", data)
	e.interrupt("f.bin", size, 16, 0.4)
	o := e.resumable()
	o.Floor, o.FloorSetting = func(total int64) int64 { return total }, "100%"
	if _, err := e.runOpts(context.Background(), "f.bin", o); exitcode.Of(err) != exitcode.LocalIO {
		t.Fatalf("exit %d (%v), want 6", exitcode.Of(err), err)
	}
	res, err := e.runOpts(context.Background(), "f.bin", e.resumable())
	if err != nil || res.Kept == 0 || !bytes.Equal(e.content("f.bin"), data) {
		t.Fatalf("kept %d (%v): the interrupted download was lost to the failed start", res.Kept, err)
	}
}
