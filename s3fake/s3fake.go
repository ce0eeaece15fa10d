// Package s3fake makes gofakes3 answer as S3 does where edge-drop relies on
// it. gofakes3 v1.2.0 checks If-Match only on PUT and echoes an object's
// stored x-amz-checksum-* headers on every answer; S3 answers a GET or HEAD
// whose If-Match names another ETag with 412 PreconditionFailed, and sends
// whole-object checksums only with the whole object. The task pins its
// ranged GETs with If-Match to notice an object replaced mid-download, so
// the local demo's bucket, the task's test server and the benchmark's
// server all put Handler in front of gofakes3. Handler can also present an
// object as a multipart upload (SetParts), for the task's tests and the
// benchmark.
//
// It is its own module, required by the root module (local/bucket) and the
// task module (its test server, internal/s3test) alike: the task module
// cannot import the root module, the contract module is dependency-free,
// and the task binary never imports this package.
package s3fake

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
)

// Handler answers GET and HEAD of an object as S3 does (see the package
// doc) and passes every request on to gofakes3.
type Handler struct {
	backend gofakes3.Backend
	next    http.Handler
	mu      sync.Mutex
	mp      map[string]multipart // "bucket/key": presented as a multipart upload
}

// New puts a Handler in front of next, the gofakes3 server of backend.
// Path-style requests only (as the demo and the tests send them).
func New(backend gofakes3.Backend, next http.Handler) *Handler {
	return &Handler{backend: backend, next: next}
}

// PreconditionFailed is the message S3 sends with a 412.
const PreconditionFailed = "At least one of the pre-conditions you specified did not hold"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o, ok := h.object(r)
	if !ok {
		h.next.ServeHTTP(w, r)
		return
	}
	if ifMatchFails(r.Header.Get("If-Match"), o.etag) {
		WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", PreconditionFailed)
		return
	}
	fw := &fixWriter{ResponseWriter: w, stripChecksums: r.Method == http.MethodGet && r.Header.Get("Range") != "", set: o.headers()}
	if pn := r.URL.Query().Get("partNumber"); pn != "" {
		if r = o.servePart(fw, r, pn); r == nil {
			return
		}
	}
	h.next.ServeHTTP(fw, r)
	fw.fix() // a HEAD may never call WriteHeader/Write
}

// ifMatchFails tells whether an If-Match header excludes the current ETag
// (quoted): S3 compares the entity tags, a weak one's W/ ignored; "*" and
// no header match any object.
func ifMatchFails(ifMatch, etag string) bool {
	return ifMatch != "" && ifMatch != "*" && strings.TrimPrefix(ifMatch, "W/") != etag
}

// current is what a GET or HEAD of an existing object needs to know.
type current struct {
	etag string // as S3 would send it: the multipart ETag of a presented upload
	size int64
	mp   multipart
	isMP bool
}

// object looks up the object a GET or HEAD names; ok is false for other
// requests and for a missing object (gofakes3 answers those itself).
func (h *Handler) object(r *http.Request) (current, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return current{}, false
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return current{}, false
	}
	obj, err := h.backend.HeadObject(bucket, key)
	if err != nil {
		return current{}, false
	}
	if obj.Contents != nil {
		_ = obj.Contents.Close()
	}
	c := current{etag: `"` + hex.EncodeToString(obj.Hash) + `"`, size: obj.Size, mp: multipart{ends: []int64{obj.Size}}}
	h.mu.Lock()
	mp, isMP := h.mp[bucket+"/"+key]
	h.mu.Unlock()
	if isMP && mp.hash == c.etag { // not replaced since SetParts
		c.etag, c.mp, c.isMP = mp.etag, mp, true
	}
	return c, true
}

// headers are the ones a whole-object answer of a presented multipart
// upload carries instead of gofakes3's.
func (c current) headers() map[string]string {
	set := map[string]string{}
	if c.isMP {
		set["ETag"] = c.etag
		if c.mp.header != "" {
			set[c.mp.header] = c.mp.whole
			set["x-amz-checksum-type"] = "COMPOSITE"
		}
	}
	return set
}

// servePart answers a HEAD ?partNumber= itself (it returns nil) and turns a
// GET ?partNumber= into the equivalent ranged GET for gofakes3, with the
// part's headers set on fw.
func (c current) servePart(fw *fixWriter, r *http.Request, pn string) *http.Request {
	n, err := strconv.Atoi(pn)
	if err != nil || n < 1 || n > len(c.mp.ends) {
		WriteError(fw.ResponseWriter, r, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
		return nil
	}
	start, end := c.mp.start(n), c.mp.ends[n-1]
	fw.stripChecksums = true
	fw.set = map[string]string{"ETag": c.etag, "x-amz-mp-parts-count": strconv.Itoa(len(c.mp.ends))}
	if c.mp.header != "" && strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		fw.set[c.mp.header] = c.mp.sums[n-1]
	}
	if r.Method == http.MethodHead {
		fw.fix()
		fw.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
		fw.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, c.size))
		fw.ResponseWriter.WriteHeader(http.StatusPartialContent)
		return nil
	}
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Del("partNumber")
	r.URL.RawQuery = q.Encode()
	r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
	return r
}

// fixWriter strips x-amz-checksum-* headers (from ranged answers) and sets
// others, once, before the status line goes out.
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
