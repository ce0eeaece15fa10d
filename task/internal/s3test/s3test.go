// Package s3test runs a real S3-compatible HTTP server in-process for the
// task's tests: gofakes3 with its in-memory backend behind s3fake (If-Match
// on GET/HEAD, checksums and multipart uploads presented as S3 does),
// behind a fault-injecting reverse proxy.
package s3test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edge-drop/edge-drop/s3fake"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
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
	Fixups  *s3fake.Handler  // If-Match, multipart presentation

	mu     sync.Mutex
	rule   Rule
	counts map[string]int
	body   int64
	Log    []string // "METHOD path range -> fault" for every proxied request
}

// Start starts the server; it is closed by t.Cleanup.
func Start(t TB) *Server {
	t.Helper()
	s := &Server{Backend: s3mem.New(), counts: map[string]int{}}
	fake := gofakes3.New(s.Backend, gofakes3.WithAutoBucket(true), gofakes3.WithTimeSkewLimit(0))
	s.Fixups = s3fake.New(s.Backend, fake.Server())
	s.Direct = httptest.NewServer(s.Fixups)
	s.Proxy = httptest.NewServer(http.HandlerFunc(s.proxy))
	t.Cleanup(func() { s.Proxy.Close(); s.Direct.Close() })
	return s
}

// URL is the endpoint clients should use (the fault proxy).
func (s *Server) URL() string { return s.Proxy.URL }

// Client is an S3 client of the server made as the task makes its own
// (s3conn), with o's timeouts and retries and test credentials.
func (s *Server) Client(t TB, o s3conn.Options) *s3.Client {
	t.Helper()
	o.Endpoint = s.URL()
	o.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	api, err := s3conn.New(context.Background(), o, func(string) string { return "" })
	if err != nil {
		t.Fatalf("S3 client: %v", err)
	}
	return api
}

// Put stores an object directly in the backend and returns its quoted ETag.
// meta may carry response headers such as "x-amz-checksum-crc32c".
func (s *Server) Put(t TB, bucket, key string, data []byte, meta map[string]string) string {
	t.Helper()
	if err := s3fake.Put(s.Backend, bucket, key, data, meta); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Put stores an object in backend (creating the bucket as needed), as
// s3fake.Put does; for faults that change an object mid-request.
func Put(backend *s3mem.Backend, bucket, key string, data []byte, meta map[string]string) error {
	return s3fake.Put(backend, bucket, key, data, meta)
}
