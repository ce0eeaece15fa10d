package download_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// partGet reports a GET ?partNumber=n (n = 0: any part).
func partGet(r *http.Request, n int) bool {
	pn := r.URL.Query().Get("partNumber")
	return isGet(r) && pn != "" && (n == 0 || pn == strconv.Itoa(n))
}

// Composite checksums of every algorithm, uniform and mixed part sizes:
// each part is fetched once with ?partNumber= (no extra GETs), one extra
// HEAD learns the layout, every part is checked against its own checksum.
func TestCompositeChecksums(t *testing.T) {
	data := randBytes(5*partSize+333, 11)
	layouts := map[string][]int64{
		"uniform":   {96 << 10, 96 << 10, 96 << 10, int64(len(data)) - 3*(96<<10)},
		"mixed":     {40 << 10, 130 << 10, 64<<10 + 1, 30 << 10, int64(len(data)) - (264<<10 + 1)},
		"one part":  {int64(len(data))},
		"tiny last": {int64(len(data)) - 1, 1},
	}
	for _, algo := range []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
		for name, sizes := range layouts {
			t.Run(algo+"/"+name, func(t *testing.T) {
				e := newEnv(t)
				e.srv.Put(t, bucket, "c.bin", data, nil)
				_, comp := e.srv.Fixups.SetParts(bucket, "c.bin", data, sizes, algo)
				if !strings.HasSuffix(comp, "-"+strconv.Itoa(len(sizes))) {
					t.Fatalf("composite %s", comp)
				}
				res := e.mustOK("c.bin", "c.bin", data)
				if want := strings.ToLower(algo) + "-composite"; res.Verified != want {
					t.Fatalf("verified with %q, want %q", res.Verified, want)
				}
				if got := e.srv.Count(http.MethodGet); got != len(sizes) {
					t.Errorf("%d GETs for %d parts", got, len(sizes))
				}
				if got := e.srv.Count(http.MethodHead); got != 2 {
					t.Errorf("%d HEADs, want 2 (object, ?partNumber=1)", got)
				}
			})
		}
	}
}

// A composite value that does not match the parts: exit 8, no temp file,
// the old target intact.
func TestCompositeMismatch(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*partSize+10, 12)
	e.srv.Put(t, bucket, "bad.bin", data, nil)
	e.srv.Fixups.SetParts(bucket, "bad.bin", data, []int64{partSize, partSize, partSize, 10}, "CRC32")
	old := []byte("previous version")
	os.WriteFile(filepath.Join(e.dir, "bad.bin"), old, 0o644)
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if r.Method == http.MethodHead && r.URL.Query().Get("partNumber") == "" {
			return &s3test.Fault{Kind: s3test.Header, Name: "x-amz-checksum-crc32", Value: "AAAAAA==-4"}
		}
		return nil
	})
	err := e.mustFail(context.Background(), "bad.bin", "bad.bin", exitcode.Integrity, old)
	if !strings.Contains(err.Error(), "crc32-composite") {
		t.Errorf("error does not name the check: %v", err)
	}
}

// One corrupted part is caught by its own checksum and re-fetched alone;
// a part that stays bad is exit 8.
func TestCorruptPartRefetched(t *testing.T) {
	e := newEnv(t)
	data := randBytes(4*partSize+77, 13)
	sizes := []int64{partSize, partSize, partSize, partSize, 77}
	e.srv.Put(t, bucket, "p.bin", data, nil)
	e.srv.Fixups.SetParts(bucket, "p.bin", data, sizes, "CRC32C")
	var mu sync.Mutex
	part3 := 0
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if partGet(r, 3) {
			mu.Lock()
			defer mu.Unlock()
			if part3++; part3 == 1 {
				return &s3test.Fault{Kind: s3test.Flip, N: 1000}
			}
		}
		return nil
	})
	if res := e.mustOK("p.bin", "p.bin", data); res.Verified != "crc32c-composite" {
		t.Fatalf("verified with %q", res.Verified)
	}
	if got := e.srv.Count(http.MethodGet); got != len(sizes)+1 || part3 != 2 {
		t.Errorf("%d GETs (part 3 twice), want %d", got, len(sizes)+1)
	}
	// Bad every time: exit 8 after two fetches of that part.
	os.Remove(filepath.Join(e.dir, "p.bin"))
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if partGet(r, 2) {
			return &s3test.Fault{Kind: s3test.Flip, N: 5}
		}
		return nil
	})
	err := e.mustFail(context.Background(), "p.bin", "p.bin", exitcode.Integrity, nil)
	if !strings.Contains(err.Error(), "part 2") {
		t.Errorf("error does not name the part: %v", err)
	}
}

// A part cut off mid-body is resumed with a Range request; its checksum
// still covers all of it.
func TestPartResumed(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*partSize, 14)
	e.srv.Put(t, bucket, "r.bin", data, nil)
	e.srv.Fixups.SetParts(bucket, "r.bin", data, []int64{100 << 10, 92 << 10}, "SHA256")
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if partGet(r, 1) {
			return &s3test.Fault{Kind: s3test.Reset, N: 5000}
		}
		return nil
	})
	res := e.mustOK("r.bin", "r.bin", data)
	if res.Verified != "sha256-composite" || res.Resumes != 1 {
		t.Fatalf("verified %q, resumes %d", res.Verified, res.Resumes)
	}
	ranged := 0
	for _, l := range e.srv.Log {
		if strings.Contains(l, "bytes=5000-102399") {
			ranged++
		}
	}
	if ranged != 1 {
		t.Errorf("no resume from byte 5000 of part 1:\n%s", strings.Join(e.srv.Log, "\n"))
	}
}

// Multipart ETag with mixed part sizes: MD5 per part, inline, and a
// flipped byte caught.
func TestMultipartETagMixedParts(t *testing.T) {
	e := newEnv(t)
	data := randBytes(5*partSize+100, 15)
	sizes := []int64{200 << 10, 50 << 10, 70<<10 + 100}
	e.srv.Put(t, bucket, "m.bin", data, nil)
	e.srv.Fixups.SetParts(bucket, "m.bin", data, sizes, "")
	if res := e.mustOK("m.bin", "m.bin", data); res.Verified != "md5-multipart-etag" {
		t.Fatalf("verified with %q", res.Verified)
	}
	if got := e.srv.Count(http.MethodGet); got != len(sizes) {
		t.Errorf("%d GETs for %d parts", got, len(sizes))
	}
	os.Remove(filepath.Join(e.dir, "m.bin"))
	e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
		if partGet(r, 2) {
			return &s3test.Fault{Kind: s3test.Flip, N: 7}
		}
		return nil
	})
	e.mustFail(context.Background(), "m.bin", "m.bin", exitcode.Integrity, nil)
}

// A server that reports no part layout: the download still succeeds,
// length-checked and pinned, and says it could not verify.
func TestCompositeWithoutLayout(t *testing.T) {
	e := newEnv(t)
	data := randBytes(3*partSize, 16)
	e.srv.Put(t, bucket, "n.bin", data, nil)
	e.srv.Fixups.SetParts(bucket, "n.bin", data, []int64{partSize, partSize, partSize}, "CRC32")
	for name, fault := range map[string]*s3test.Fault{
		"400":          {Kind: s3test.Status, Status: 400, Code: "InvalidArgument"},
		"no count":     {Kind: s3test.Header, Name: "x-amz-mp-parts-count", Value: ""},
		"other count":  {Kind: s3test.Header, Name: "x-amz-mp-parts-count", Value: "2"},
		"whole object": {Kind: s3test.Header, Name: "Content-Length", Value: strconv.Itoa(len(data))},
	} {
		os.Remove(filepath.Join(e.dir, "n.bin"))
		e.srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
			if r.Method == http.MethodHead && r.URL.Query().Get("partNumber") != "" {
				return fault
			}
			return nil
		})
		if res := e.mustOK("n.bin", "n.bin", data); res.Verified != "" {
			t.Errorf("%s: verified with %q, want none", name, res.Verified)
		}
	}
}
