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
	s.Direct = httptest.NewServer(IfMatch(s.Backend, fake.Server()))
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" && r.Method == http.MethodGet {
			w = &noChecksums{ResponseWriter: w}
		}
		im := r.Header.Get("If-Match")
		if im != "" && im != "*" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if ok && key != "" {
				if obj, err := backend.HeadObject(bucket, key); err == nil {
					if `"`+hex.EncodeToString(obj.Hash)+`"` != strings.TrimPrefix(im, "W/") {
						WriteError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// WriteError writes an S3 XML error response.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
}

type noChecksums struct {
	http.ResponseWriter
	done bool
}

func (n *noChecksums) strip() {
	if n.done {
		return
	}
	n.done = true
	for k := range n.Header() {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			n.Header().Del(k)
		}
	}
}

func (n *noChecksums) WriteHeader(code int) { n.strip(); n.ResponseWriter.WriteHeader(code) }

func (n *noChecksums) Write(b []byte) (int, error) { n.strip(); return n.ResponseWriter.Write(b) }

func (n *noChecksums) Flush() {
	if f, ok := n.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
