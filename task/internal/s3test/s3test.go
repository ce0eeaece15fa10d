// Package s3test runs a real S3-compatible HTTP server in-process for tests
// and the benchmark: gofakes3 with its in-memory backend, plus a thin
// handler that enforces If-Match on GET/HEAD (gofakes3 v1.2.0 only checks
// it on PUT), behind a fault-injecting reverse proxy.
package s3test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
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
	body   int64
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
func IfMatch(backend gofakes3.Backend, next http.Handler) *Fixups {
	return &Fixups{backend: backend, next: next}
}

// Fixups is the handler IfMatch returns. It can also present objects as
// multipart uploads, with composite checksums (see SetParts).
type Fixups struct {
	backend gofakes3.Backend
	next    http.Handler
	mu      sync.Mutex
	mp      map[string]multipart
}

type multipart struct {
	hash   string  // gofakes3's ETag of the stored content, to detect replacement
	etag   string  // "<md5 of part md5s>-N"
	ends   []int64 // end offset of each part
	header string  // "x-amz-checksum-<algo>" of a composite checksum, or ""
	sums   []string
	whole  string // the composite checksum "<base64>-N"
}

// start returns where part n (from 1) begins.
func (m multipart) start(n int) int64 {
	if n == 1 {
		return 0
	}
	return m.ends[n-2]
}

// SetMultipart makes bucket/key look like an object uploaded in parts of
// partSize (the last one shorter); see SetParts.
func (f *Fixups) SetMultipart(bucket, key string, data []byte, partSize int64) string {
	var sizes []int64
	for off := int64(0); off < int64(len(data)) || len(sizes) == 0; off += partSize {
		sizes = append(sizes, min(partSize, int64(len(data))-off))
	}
	etag, _ := f.SetParts(bucket, key, data, sizes, "")
	return etag
}

// ChecksumAlgos are the algorithms SetParts knows, by S3 name.
var ChecksumAlgos = map[string]func() hash.Hash{
	"CRC32":     func() hash.Hash { return crc32.NewIEEE() },
	"CRC32C":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"CRC64NVME": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
	"SHA1":      sha1.New,
	"SHA256":    sha256.New,
}

// SetParts makes bucket/key look like an object uploaded in parts of the
// given sizes, as S3 presents one: multipart ETag on GET/HEAD (and for
// If-Match); GET and HEAD with ?partNumber= answered with that part's
// bytes/length, Content-Range and x-amz-mp-parts-count. With algo (a key of
// ChecksumAlgos) it also carries a COMPOSITE checksum: the checksum of the
// concatenated part checksums, "<base64>-N", on whole-object responses and
// each part's own checksum on ?partNumber= responses with checksum mode.
// It lasts until the object's content changes. It returns the quoted ETag
// and the composite checksum ("" without algo).
func (f *Fixups) SetParts(bucket, key string, data []byte, sizes []int64, algo string) (string, string) {
	var md5s []byte
	m := multipart{}
	var comp hash.Hash
	if algo != "" {
		m.header = "x-amz-checksum-" + strings.ToLower(algo)
		comp = ChecksumAlgos[algo]()
	}
	off := int64(0)
	for _, n := range sizes {
		part := data[off : off+n]
		s := md5.Sum(part)
		md5s = append(md5s, s[:]...)
		if comp != nil {
			h := ChecksumAlgos[algo]()
			h.Write(part)
			sum := h.Sum(nil)
			comp.Write(sum)
			m.sums = append(m.sums, base64.StdEncoding.EncodeToString(sum))
		}
		off += n
		m.ends = append(m.ends, off)
	}
	if off != int64(len(data)) {
		panic(fmt.Sprintf("s3test.SetParts: sizes add up to %d, data has %d bytes", off, len(data)))
	}
	d := md5.Sum(md5s)
	whole := md5.Sum(data)
	m.etag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(d[:]), len(sizes))
	m.hash = `"` + hex.EncodeToString(whole[:]) + `"`
	if comp != nil {
		m.whole = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(comp.Sum(nil)), len(sizes))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mp == nil {
		f.mp = map[string]multipart{}
	}
	f.mp[bucket+"/"+key] = m
	return m.etag, m.whole
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
		mp = multipart{ends: []int64{obj.Size}}
	}
	if im := r.Header.Get("If-Match"); im != "" && im != "*" && strings.TrimPrefix(im, "W/") != etag {
		WriteError(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	fw := &fixWriter{ResponseWriter: w, stripChecksums: r.Header.Get("Range") != "" && r.Method == http.MethodGet, set: map[string]string{}}
	if isMP {
		fw.set["ETag"] = etag
		if mp.header != "" {
			fw.set[mp.header] = mp.whole
			fw.set["x-amz-checksum-type"] = "COMPOSITE"
		}
	}
	if pn := r.URL.Query().Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > len(mp.ends) {
			WriteError(w, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			return
		}
		start, end := mp.start(n), mp.ends[n-1]
		fw.stripChecksums = true
		fw.set = map[string]string{"ETag": etag, "x-amz-mp-parts-count": strconv.Itoa(len(mp.ends))}
		if mp.header != "" && strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
			fw.set[mp.header] = mp.sums[n-1]
		}
		if r.Method == http.MethodHead {
			fw.fix()
			w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, obj.Size))
			w.WriteHeader(http.StatusPartialContent)
			return
		}
		// GET: serve the part as the equivalent range.
		r = r.Clone(r.Context())
		q := r.URL.Query()
		q.Del("partNumber")
		r.URL.RawQuery = q.Encode()
		r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
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
	set            map[string]string // headers to set (after stripping)
	done           bool
}

func (n *fixWriter) fix() {
	if n.done {
		return
	}
	n.done = true
	if n.stripChecksums {
		for k := range n.Header() {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				n.Header().Del(k)
			}
		}
	}
	for k, v := range n.set {
		n.Header().Set(k, v)
	}
}

func (n *fixWriter) WriteHeader(code int) { n.fix(); n.ResponseWriter.WriteHeader(code) }

func (n *fixWriter) Write(b []byte) (int, error) { n.fix(); return n.ResponseWriter.Write(b) }

func (n *fixWriter) Flush() {
	if f, ok := n.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
