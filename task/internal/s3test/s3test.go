// Package s3test runs a real S3-compatible HTTP server in-process for tests
// and the benchmark: gofakes3 with its in-memory backend, plus a thin
// handler that enforces If-Match on GET/HEAD (gofakes3 v1.2.0 only checks
// it on PUT), behind a fault-injecting reverse proxy.
package s3test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TB is the part of testing.TB used here.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server is a running fake S3 with a fault proxy in front.
type Server struct {
	Backend *s3mem.Backend
	Direct  *httptest.Server // gofakes3 (+If-Match), no faults
	Proxy   *httptest.Server // faults applied here; point clients at URL()
	Fixups  *Fixups          // If-Match, multipart presentation

	mu     sync.Mutex
	rule   Rule
	counts map[string]int
	Log    []string // "METHOD path range -> fault" for every proxied request
}

// Start starts the server; it is closed by t.Cleanup.
func Start(t TB) *Server {
	t.Helper()
	s := &Server{Backend: s3mem.New(), counts: map[string]int{}}
	fake := gofakes3.New(s.Backend, gofakes3.WithAutoBucket(true), gofakes3.WithTimeSkewLimit(0))
	s.Fixups = &Fixups{backend: s.Backend, next: fake.Server()}
	s.Direct = httptest.NewServer(s.Fixups)
	s.Proxy = httptest.NewServer(http.HandlerFunc(s.proxy))
	t.Cleanup(func() { s.Proxy.Close(); s.Direct.Close() })
	return s
}

// URL is the endpoint clients should use (the fault proxy).
func (s *Server) URL() string { return s.Proxy.URL }

// Put stores an object directly in the backend and returns its quoted ETag.
// meta may carry response headers such as "x-amz-checksum-crc32c".
func (s *Server) Put(t TB, bucket, key string, data []byte, meta map[string]string) string {
	t.Helper()
	if err := Put(s.Backend, bucket, key, data, meta); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Put stores an object in backend (creating the bucket as needed).
func Put(backend *s3mem.Backend, bucket, key string, data []byte, meta map[string]string) error {
	if ok, _ := backend.BucketExists(bucket); !ok {
		if err := backend.CreateBucket(bucket); err != nil {
			return err
		}
	}
	m := map[string]string{"Last-Modified": time.Now().UTC().Truncate(time.Second).Format(http.TimeFormat)}
	for k, v := range meta {
		m[k] = v
	}
	_, err := backend.PutObject(bucket, key, m, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// IfMatch wraps an S3 handler so GET and HEAD honour If-Match like S3 does
// (412 PreconditionFailed when the current ETag differs). Path-style only.
// It also drops x-amz-checksum-* headers from ranged responses: S3 returns
// whole-object checksums only for whole-object GETs, while gofakes3 echoes
// stored metadata on every response (and the SDK would then "validate" a
// range against the whole object's checksum).
func IfMatch(backend gofakes3.Backend, next http.Handler) http.Handler {
	return &Fixups{backend: backend, next: next}
}

// Fixups is the handler IfMatch returns. It can also present objects as
// multipart uploads (see SetMultipart).
type Fixups struct {
	backend gofakes3.Backend
	next    http.Handler
	mu      sync.Mutex
	mp      map[string]multipart
}

type multipart struct {
	hash     string // gofakes3's ETag of the stored content, to detect replacement
	etag     string // "<md5 of part md5s>-N"
	partSize int64
	size     int64
}

// SetMultipart makes bucket/key look like an object uploaded in parts of
// partSize: multipart ETag on GET/HEAD (and for If-Match), and HEAD with
// partNumber answered with that part's length and x-amz-mp-parts-count.
// It lasts until the object's content changes.
func (f *Fixups) SetMultipart(bucket, key string, data []byte, partSize int64) string {
	var sums []byte
	n := 0
	for off := int64(0); off < int64(len(data)) || n == 0; off += partSize {
		s := md5.Sum(data[off:min(off+partSize, int64(len(data)))])
		sums = append(sums, s[:]...)
		n++
	}
	d := md5.Sum(sums)
	whole := md5.Sum(data)
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(d[:]), n)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mp == nil {
		f.mp = map[string]multipart{}
	}
	f.mp[bucket+"/"+key] = multipart{hash: `"` + hex.EncodeToString(whole[:]) + `"`, etag: etag, partSize: partSize, size: int64(len(data))}
	return etag
}

func (f *Fixups) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		f.next.ServeHTTP(w, r)
		return
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || key == "" {
		f.next.ServeHTTP(w, r)
		return
	}
	obj, err := f.backend.HeadObject(bucket, key)
	if err != nil {
		f.next.ServeHTTP(w, r)
		return
	}
	etag := `"` + hex.EncodeToString(obj.Hash) + `"`
	f.mu.Lock()
	mp, isMP := f.mp[bucket+"/"+key]
	f.mu.Unlock()
	if isMP && mp.hash == etag {
		etag = mp.etag
	} else {
		isMP = false
	}
	if im := r.Header.Get("If-Match"); im != "" && im != "*" && strings.TrimPrefix(im, "W/") != etag {
		WriteError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if pn := r.URL.Query().Get("partNumber"); pn != "" && r.Method == http.MethodHead {
		n, err := strconv.Atoi(pn)
		parts := 1
		partSize := obj.Size
		if isMP {
			partSize = mp.partSize
			parts = int((mp.size + mp.partSize - 1) / mp.partSize)
		}
		if err != nil || n < 1 || n > parts {
			WriteError(w, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			return
		}
		start := int64(n-1) * partSize
		end := min(start+partSize, obj.Size)
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, obj.Size))
		w.Header().Set("x-amz-mp-parts-count", strconv.Itoa(parts))
		w.WriteHeader(http.StatusPartialContent)
		return
	}
	fw := &fixWriter{ResponseWriter: w, stripChecksums: r.Header.Get("Range") != "" && r.Method == http.MethodGet}
	if isMP {
		fw.etag = etag
	}
	f.next.ServeHTTP(fw, r)
	fw.fix() // a HEAD may never call WriteHeader/Write
}

// WriteError writes an S3 XML error response.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
}

type fixWriter struct {
	http.ResponseWriter
	stripChecksums bool
	etag           string
	done           bool
}

func (n *fixWriter) fix() {
	if n.done {
		return
	}
	n.done = true
	if n.etag != "" {
		n.Header().Set("ETag", n.etag)
	}
	if n.stripChecksums {
		for k := range n.Header() {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				n.Header().Del(k)
			}
		}
	}
}

func (n *fixWriter) WriteHeader(code int) { n.fix(); n.ResponseWriter.WriteHeader(code) }

func (n *fixWriter) Write(b []byte) (int, error) { n.fix(); return n.ResponseWriter.Write(b) }

func (n *fixWriter) Flush() {
	if f, ok := n.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
