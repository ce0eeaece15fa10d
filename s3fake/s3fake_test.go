package s3fake

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// serve starts gofakes3 on an in-memory backend with a Handler in front
// (fixed false: gofakes3 alone) and stores b/k.
func serve(t *testing.T, fixed bool, data string, meta map[string]string) (*httptest.Server, *Handler, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	if err := Put(backend, "b", "k", []byte(data), meta); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0)).Server()
	fx := New(backend, h)
	if fixed {
		h = fx
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, fx, backend
}

func do(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func etagOf(s string) string {
	sum := md5.Sum([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Why this package exists: if gofakes3 learns If-Match on GET, this fails
// and the Handler's own check can go.
func TestGofakes3AloneIgnoresIfMatchOnGet(t *testing.T) {
	srv, _, _ := serve(t, false, "hello", nil)
	if resp, _ := do(t, "GET", srv.URL+"/b/k", "If-Match", `"other"`); resp.StatusCode != http.StatusOK {
		t.Skipf("gofakes3 now answers %d to a failed If-Match: the Handler's check may be redundant", resp.StatusCode)
	}
}

func TestIfMatchOnGetAndHead(t *testing.T) {
	srv, _, _ := serve(t, true, "hello", nil)
	etag := etagOf("hello")
	for _, tc := range []struct {
		method, ifMatch string
		want            int
	}{
		{"GET", etag, 200},
		{"GET", "W/" + etag, 200},
		{"GET", "*", 200},
		{"GET", "", 200},
		{"GET", `"0123"`, 412},
		{"HEAD", etag, 200},
		{"HEAD", `"0123"`, 412},
	} {
		resp, body := do(t, tc.method, srv.URL+"/b/k", "If-Match", tc.ifMatch)
		if resp.StatusCode != tc.want {
			t.Errorf("%s If-Match %q: %d, want %d", tc.method, tc.ifMatch, resp.StatusCode, tc.want)
		}
		if tc.want == 412 && tc.method == "GET" && !strings.Contains(body, "<Code>PreconditionFailed</Code>") {
			t.Errorf("412 body: %s", body)
		}
		if tc.method == "HEAD" && body != "" {
			t.Errorf("HEAD with a body: %q", body)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/b/missing", "If-Match", etag); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing object is gofakes3's 404, got %d", resp.StatusCode)
	}
}

// S3 sends a whole-object checksum with the whole object only.
func TestRangedGetCarriesNoWholeObjectChecksum(t *testing.T) {
	srv, _, _ := serve(t, true, "hello world", map[string]string{"x-amz-checksum-crc32": "DUoRhQ=="})
	if resp, _ := do(t, "GET", srv.URL+"/b/k"); resp.Header.Get("x-amz-checksum-crc32") != "DUoRhQ==" {
		t.Errorf("whole GET: checksum %q", resp.Header.Get("x-amz-checksum-crc32"))
	}
	resp, body := do(t, "GET", srv.URL+"/b/k", "Range", "bytes=0-4")
	if body != "hello" || resp.Header.Get("x-amz-checksum-crc32") != "" {
		t.Errorf("ranged GET: %q with checksum %q", body, resp.Header.Get("x-amz-checksum-crc32"))
	}
}

func TestObjectPresentedAsMultipartUpload(t *testing.T) {
	srv, fx, backend := serve(t, true, "aaaabbbbcc", nil)
	etag, whole := fx.SetParts("b", "k", []byte("aaaabbbbcc"), []int64{4, 4, 2}, "CRC32")
	if !strings.HasSuffix(etag, `-3"`) || !strings.HasSuffix(whole, "-3") {
		t.Fatalf("SetParts: etag %s, composite %s", etag, whole)
	}
	resp, _ := do(t, "HEAD", srv.URL+"/b/k")
	if resp.Header.Get("ETag") != etag || resp.Header.Get("x-amz-checksum-crc32") != whole || resp.Header.Get("x-amz-checksum-type") != "COMPOSITE" {
		t.Errorf("HEAD: %v", resp.Header)
	}
	if resp, _ := do(t, "GET", srv.URL+"/b/k", "If-Match", etagOf("aaaabbbbcc")); resp.StatusCode != 412 {
		t.Errorf("If-Match with the single-part ETag: %d, want 412", resp.StatusCode)
	}
	resp, body := do(t, "GET", srv.URL+"/b/k?partNumber=2", "If-Match", etag, "x-amz-checksum-mode", "ENABLED")
	if body != "bbbb" || resp.Header.Get("Content-Range") != "bytes 4-7/10" || resp.Header.Get("x-amz-mp-parts-count") != "3" || resp.Header.Get("x-amz-checksum-crc32") == "" || resp.Header.Get("x-amz-checksum-crc32") == whole {
		t.Errorf("GET part 2: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = do(t, "HEAD", srv.URL+"/b/k?partNumber=3")
	if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != 2 || resp.Header.Get("Content-Range") != "bytes 8-9/10" {
		t.Errorf("HEAD part 3: %d %d %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	if resp, _ := do(t, "GET", srv.URL+"/b/k?partNumber=4"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("part 4 of 3: %d", resp.StatusCode)
	}
	// New content ends the presentation.
	if err := Put(backend, "b", "k", []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "HEAD", srv.URL+"/b/k"); resp.Header.Get("ETag") != etagOf("new") {
		t.Errorf("after a new Put: ETag %s", resp.Header.Get("ETag"))
	}
}
