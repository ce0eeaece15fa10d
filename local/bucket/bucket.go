// Package bucket runs an embedded, S3-compatible HTTP server for the local
// demo and reports every completed upload and every deletion as a
// Notification, the way S3 reports "Object Created" and "Object Deleted" to
// EventBridge in the cloud.
//
// The S3 protocol is served by github.com/johannesboyne/gofakes3 (a plain
// net/http handler). Objects live under Options.Dir (s3afero backend: one
// real file per object under <Dir>/buckets/<bucket>/<key>, metadata under
// <Dir>/metadata) so they survive restarts, or in memory when Dir is "".
//
// Notifications are produced by wrapping the gofakes3 handler: requests that
// create an object (PutObject, CopyObject, CompleteMultipartUpload) are
// recognised by method, query and headers, handed to gofakes3 unchanged, and
// on a 2xx answer the object is looked up through the backend to fill size
// and ETag. Deletions (DeleteObject, DeleteObjects) are recognised the same
// way; each key that existed before the request and is gone after it is
// reported (a delete of a missing key changes nothing and reports nothing).
// Notifications are queued without bound and delivered in order on
// Events(); none is dropped while the server runs.
//
// Every request must be signed (AWS Signature Version 4) with
// Options.Credentials, as S3 requires of a private bucket: the signature is
// checked before gofakes3 sees the request, and the body against what was
// signed (X-Amz-Content-Sha256, or each chunk of an aws-chunked upload).
// A refused request gets S3's XML error (403 AccessDenied,
// SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed; 400 for
// a malformed signature or a body that is not the signed one). No answer
// carries CORS headers unless Options.CORSOrigin names the one origin
// allowed (gofakes3 would send Access-Control-Allow-Origin: * to all).
package bucket

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/local/endpoint"
	"github.com/edge-drop/edge-drop/local/sigv4"
	"github.com/edge-drop/edge-drop/s3fake"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Options configures Start.
type Options struct {
	// Dir keeps objects as files under this directory (created if missing).
	// Empty means in memory.
	Dir string
	// Addr to listen on; "127.0.0.1:0" (random port) when empty.
	Addr string
	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	// Buckets are created at start when they do not exist yet.
	Buckets []string
	// Credentials and Region: every request must be signed (SigV4, in its
	// Authorization header or as a presigned URL) with these credentials,
	// for this region; others get S3's 403 (AccessDenied,
	// SignatureDoesNotMatch, ...). Both are required.
	Credentials sigv4.Credentials
	Region      string
	// CORSOrigin is the one web origin (scheme://host[:port]) whose pages
	// may call the server from a browser; empty (the default): none, and no
	// answer carries CORS headers.
	CORSOrigin string
	// Logger receives server logs; slog.Default() when nil.
	Logger *slog.Logger
}

// Reasons reported in Notification.Reason (the values S3 puts in the
// EventBridge event's detail.reason). S3 reports DeleteObjects' keys with
// reason DeleteObject too.
const (
	ReasonPutObject               = "PutObject"
	ReasonCopyObject              = "CopyObject"
	ReasonCompleteMultipartUpload = "CompleteMultipartUpload"
	ReasonDeleteObject            = "DeleteObject"
)

// Notification describes one completed upload, or one deletion (Deleted;
// Size and ETag are then those of the object that was removed). Key is the
// raw object key (not URL-encoded); ETag has no quotes.
type Notification struct {
	Bucket, Key, ETag, Sequencer, RequestID, SourceIP, Reason string
	Size                                                      int64
	Time                                                      time.Time
	Deleted                                                   bool
}

// Server is a running S3-compatible server. Create it with Start.
type Server struct {
	log        *slog.Logger
	onDisk     bool   // objects are files: some keys cannot be stored faithfully
	spoolDir   string // on disk: where PutObject bodies wait until whole
	verifier   *sigv4.Verifier
	corsOrigin string
	backend    gofakes3.Backend
	s3         http.Handler
	ln         net.Listener
	http       *http.Server
	url        string

	events chan Notification

	mu      sync.Mutex
	queue   []Notification // pending, not yet handed to events
	wake    chan struct{}  // 1-buffered: queue grew
	closing bool
	lastSeq uint64

	serveDone    chan struct{}
	dispatchDone chan struct{}
	closeOnce    sync.Once
	closeErr     error
	stopWatch    chan struct{}
	drain        chan struct{} // closed when no more notifications can be queued
}

// drainTimeout bounds how long Close waits for a reader to take the
// notifications still queued when the server stops.
const drainTimeout = 5 * time.Second

// Start listens on opts.Addr, creates opts.Buckets and serves S3 until Close
// is called or ctx is cancelled.
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "bucket")
	if err := opts.check(); err != nil {
		return nil, err
	}
	backend, err := openBackend(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := createBuckets(backend, opts.Buckets); err != nil {
		return nil, err
	}
	fake := gofakes3.New(backend,
		gofakes3.WithLogger(slogAdapter{log}),
		gofakes3.WithAutoBucket(false),
		gofakes3.WithHostBucket(false), // path-style only: 127.0.0.1 has no bucket subdomains
	)
	ln := opts.Listener
	if ln == nil {
		addr := cmp.Or(opts.Addr, "127.0.0.1:0")
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("bucket: listen %s: %w", addr, err)
		}
	}
	s := &Server{
		log:          log,
		onDisk:       opts.Dir != "",
		spoolDir:     spoolPath(opts.Dir),
		verifier:     &sigv4.Verifier{Credentials: opts.Credentials, Service: "s3", Region: opts.Region},
		corsOrigin:   strings.TrimSuffix(opts.CORSOrigin, "/"),
		backend:      backend,
		s3:           s3fake.New(backend, fake.Server()), // If-Match on GET and HEAD, as S3
		ln:           ln,
		url:          endpoint.URL(ln),
		events:       make(chan Notification, 64),
		wake:         make(chan struct{}, 1),
		serveDone:    make(chan struct{}),
		dispatchDone: make(chan struct{}),
		stopWatch:    make(chan struct{}),
		drain:        make(chan struct{}),
	}
	s.serve(ctx)
	log.Info("S3 server listening", "url", s.url, "dir", opts.Dir, "buckets", opts.Buckets)
	return s, nil
}

func (o Options) check() error {
	if !o.Credentials.Valid() || o.Region == "" {
		return errors.New("bucket: Credentials and Region are required: every request is checked against them")
	}
	if o.CORSOrigin != "" {
		if err := CheckOrigin(o.CORSOrigin); err != nil {
			return fmt.Errorf("bucket: %w", err)
		}
	}
	return nil
}

// openBackend keeps objects as files under dir (its spool of unfinished
// uploads emptied), or in memory when dir is "".
func openBackend(dir string) (gofakes3.Backend, error) {
	if dir == "" {
		return s3mem.New(), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bucket: create dir: %w", err)
	}
	if err := clearSpool(spoolPath(dir)); err != nil {
		return nil, fmt.Errorf("bucket: %w", err)
	}
	b, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	if err != nil {
		return nil, fmt.Errorf("bucket: filesystem backend in %s: %w", dir, err)
	}
	return b, nil
}

// createBuckets creates the buckets that do not exist yet.
func createBuckets(backend gofakes3.Backend, names []string) error {
	for _, name := range names {
		if err := gofakes3.ValidateBucketName(name); err != nil {
			return fmt.Errorf("bucket: invalid bucket name %q: %w", name, err)
		}
		ok, err := backend.BucketExists(name)
		if err != nil {
			return fmt.Errorf("bucket: check bucket %q: %w", name, err)
		}
		if !ok {
			if err := backend.CreateBucket(name); err != nil {
				return fmt.Errorf("bucket: create bucket %q: %w", name, err)
			}
		}
	}
	return nil
}

// serve serves HTTP and dispatches notifications until Close, which ctx's
// end calls too.
func (s *Server) serve(ctx context.Context) {
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(s.serveDone)
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	go s.dispatch()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.stopWatch:
		}
	}()
}

// URL is the endpoint for S3 clients (path-style), e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Events delivers one Notification per completed upload or deletion, in
// completion order. It is closed after Close.
func (s *Server) Events() <-chan Notification { return s.events }

// Close stops the server: it stops accepting requests, waits (up to 10s) for
// requests in flight, then waits (up to 5s) for a reader to take the
// notifications still queued, and closes Events. It is safe to call twice.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopWatch)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("bucket: shutdown: %w", err)
			_ = s.http.Close()
		}
		<-s.serveDone
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		close(s.drain)
		<-s.dispatchDone
	})
	return s.closeErr
}

// ServeHTTP checks the request's signature, serves S3 through gofakes3
// and records object creations and deletions.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isPreflight(r) { // browsers send it unsigned, before the request itself
		s.preflight(w, r)
		return
	}
	w = s.cors(w, r)
	if !s.authenticate(w, r) {
		return
	}
	w = s.guardBody(w, r)
	if s.onDisk {
		if why := unsafeKey(r.URL.Path); why != "" {
			s3fake.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", why)
			return
		}
	}
	if r.Method == http.MethodDelete && hasAny(r.URL.Query(), subresources) {
		// gofakes3 v1.2.0 deletes the whole object on e.g. DELETE ?tagging.
		s3fake.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "the local S3 server does not support deleting object sub-resources ("+strings.Join(subresources, ", ")+")")
		return
	}
	bucket, keys, ok, err := s.deletion(r)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if ok {
		for _, k := range keys { // DeleteObjects' keys are in the body, not the path
			if why := keyProblem(k); why != "" && s.onDisk {
				s3fake.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", why)
				return
			}
		}
		s.serveDeletion(w, r, bucket, keys)
		return
	}
	reason, bucket, key := classify(r)
	if reason == "" {
		s.s3.ServeHTTP(w, r)
		return
	}
	if s.onDisk && reason == ReasonPutObject {
		ok, done := s.spool(w, r)
		defer done()
		if !ok {
			return
		}
	}
	rec := &recorder{ResponseWriter: w}
	s.s3.ServeHTTP(rec, r)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 299 || rec.errorBody {
		return
	}
	s.created(r, rec, reason, bucket, key)
}

// maxDeleteBody bounds the DeleteObjects request body read here (S3 takes
// at most 1000 keys of at most 1024 bytes each).
const maxDeleteBody = 2 << 20

// deletion tells whether r is a DeleteObject or DeleteObjects request, and
// which keys it names. A DeleteObjects body is read whole (its signature
// checked: a failure is err) and put back for gofakes3; a malformed one is
// left to gofakes3 to reject (ok false).
func (s *Server) deletion(r *http.Request) (bucket string, keys []string, ok bool, err error) {
	b, k, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if b == "" {
		return "", nil, false, nil
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodDelete && k != "" && !q.Has("uploadId"):
		return b, []string{k}, true, nil
	case r.Method == http.MethodPost && k == "" && q.Has("delete"):
		body, err := io.ReadAll(io.LimitReader(r.Body, maxDeleteBody+1))
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, refused := sigv4.AsError(err); refused {
			return "", nil, false, err
		}
		if err != nil || len(body) > maxDeleteBody {
			return "", nil, false, nil
		}
		var req struct {
			Objects []struct{ Key string } `xml:"Object"`
		}
		if xml.Unmarshal(body, &req) != nil {
			return "", nil, false, nil
		}
		for _, o := range req.Objects {
			keys = append(keys, o.Key)
		}
		return b, keys, len(keys) > 0, nil
	}
	return "", nil, false, nil
}

// serveDeletion serves a deletion through gofakes3 and reports each key
// that existed before and is gone after. The before/after lookups are not
// atomic with the delete: a key re-created meanwhile is not reported (its
// creation is).
func (s *Server) serveDeletion(w http.ResponseWriter, r *http.Request, bucket string, keys []string) {
	type before struct {
		key, etag string
		size      int64
	}
	var existed []before
	for _, k := range keys {
		if obj, err := s.backend.HeadObject(bucket, k); err == nil {
			existed = append(existed, before{k, hex.EncodeToString(obj.Hash), obj.Size})
			if obj.Contents != nil {
				_ = obj.Contents.Close()
			}
		}
	}
	rec := &recorder{ResponseWriter: w}
	s.s3.ServeHTTP(rec, r)
	if rec.status != 0 && (rec.status < 200 || rec.status > 299) {
		return
	}
	for _, b := range existed {
		if obj, err := s.backend.HeadObject(bucket, b.key); err == nil {
			if obj.Contents != nil {
				_ = obj.Contents.Close()
			}
			continue // not deleted (DeleteObjects reports per-key errors in a 200)
		}
		s.enqueue(Notification{
			Bucket: bucket, Key: b.key, ETag: b.etag, Size: b.size, Deleted: true,
			Reason:    ReasonDeleteObject,
			RequestID: rec.Header().Get("x-amz-request-id"),
			SourceIP:  sourceIP(r.RemoteAddr),
		})
	}
}

// created builds the notification for a successful creation and queues it.
func (s *Server) created(r *http.Request, rec *recorder, reason, bucket, key string) {
	ev := Notification{
		Bucket:    bucket,
		Key:       key,
		Reason:    reason,
		RequestID: rec.Header().Get("x-amz-request-id"),
		SourceIP:  sourceIP(r.RemoteAddr),
	}
	if obj, err := s.backend.HeadObject(bucket, key); err == nil {
		ev.Size = obj.Size
		ev.ETag = hex.EncodeToString(obj.Hash)
		if obj.Contents != nil {
			_ = obj.Contents.Close()
		}
	} else {
		// The object vanished between the response and this lookup (a racing
		// DELETE): report what the request itself said.
		s.log.Warn("object created but gone before notification lookup", "bucket", bucket, "key", key, "err", err)
		ev.ETag = strings.Trim(rec.Header().Get("ETag"), `"`)
		if n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil {
			ev.Size = n
		} else if reason == ReasonPutObject {
			ev.Size = r.ContentLength
		}
	}
	s.enqueue(ev)
}

// enqueue stamps Time and Sequencer and appends to the pending queue. The
// sequencer is assigned under the queue lock, so it grows in delivery order.
func (s *Server) enqueue(ev Notification) {
	s.mu.Lock()
	now := time.Now().UTC()
	seq := uint64(now.UnixNano())
	if seq <= s.lastSeq {
		seq = s.lastSeq + 1
	}
	s.lastSeq = seq
	ev.Time = now
	// Fixed width upper-case hex, like S3's "0055AED6DCD90281E5": string
	// order equals numeric order; time-based so it also grows across restarts.
	ev.Sequencer = fmt.Sprintf("%018X", seq)
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	s.log.Debug("object notification", "bucket", ev.Bucket, "key", ev.Key, "size", ev.Size, "reason", ev.Reason, "deleted", ev.Deleted)
	s.signal()
}

func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch moves queued notifications to the events channel, blocking on a
// slow reader without ever blocking the S3 request path.
func (s *Server) dispatch() {
	defer close(s.dispatchDone)
	defer close(s.events)
	var deadline <-chan time.Time // set once Close has begun
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for i := 0; i < len(batch); {
			select {
			case s.events <- batch[i]:
				i++
			case <-s.closingCh(deadline):
				deadline = time.After(drainTimeout)
			case <-deadline:
				s.mu.Lock()
				dropped := len(batch) - i + len(s.queue)
				s.mu.Unlock()
				s.log.Warn("server closed with undelivered notifications: nobody read Events()", "dropped", dropped)
				return
			}
		}
		s.mu.Lock()
		done := s.closing && len(s.queue) == 0
		s.mu.Unlock()
		if done {
			return
		}
		select {
		case <-s.wake:
		case <-s.closingCh(deadline):
			deadline = time.After(drainTimeout)
		}
	}
}

// closingCh is closed once Close has finished serving requests; it returns
// nil (never ready) after the drain deadline has been armed.
func (s *Server) closingCh(deadline <-chan time.Time) <-chan struct{} {
	if deadline != nil {
		return nil
	}
	return s.drain
}

// unsafeKey explains why the object key in urlPath ("/bucket/key") cannot
// be kept as a file (see keyProblem); "" when it can, or there is none.
func unsafeKey(urlPath string) string {
	_, key, ok := strings.Cut(strings.TrimPrefix(urlPath, "/"), "/")
	if !ok || key == "" {
		return ""
	}
	return keyProblem(key)
}

// keyProblem explains why key cannot be kept as a file: the filesystem
// backend joins bucket and key as a path, so "." / ".." / empty segments
// and a trailing '/' would alias another key or another bucket. "" when
// the key is fine.
func keyProblem(key string) string {
	if strings.HasSuffix(key, "/") {
		return "keys ending in '/' (folder markers) are not supported by the local filesystem-backed S3"
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "keys with empty, '.' or '..' path segments are not supported by the local filesystem-backed S3"
		}
	}
	return ""
}

// classify tells whether r creates an object, and which bucket and key.
func classify(r *http.Request) (reason, bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	b, k, ok := strings.Cut(path, "/")
	if !ok || b == "" || k == "" {
		return "", "", ""
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		if q.Has("uploadId") || q.Has("versionId") || hasAny(q, subresources) {
			return "", "", "" // UploadPart(Copy), or an object sub-resource
		}
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return ReasonCopyObject, b, k
		}
		return ReasonPutObject, b, k
	case http.MethodPost:
		if q.Get("uploadId") != "" {
			return ReasonCompleteMultipartUpload, b, k
		}
	}
	return "", "", ""
}

// subresources are PUT query parameters that modify an existing object
// instead of creating one.
var subresources = []string{"tagging", "acl", "retention", "legal-hold", "torrent", "restore", "attributes"}

func hasAny(q map[string][]string, names []string) bool {
	for _, n := range names {
		if _, ok := q[n]; ok {
			return true
		}
	}
	return false
}

func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// recorder captures the status code, and whether a 200 body is an S3 error
// document (CompleteMultipartUpload may fail after a 200 status on real S3).
type recorder struct {
	http.ResponseWriter
	status    int
	sniffed   bool
	errorBody bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.sniffed {
		r.sniffed = true
		head := string(p[:min(len(p), 256)])
		r.errorBody = strings.Contains(head, "<Error>")
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// slogAdapter routes gofakes3 logs to slog (gofakes3 INFO is per request,
// so it goes to Debug).
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Print(level gofakes3.LogLevel, v ...interface{}) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	switch level {
	case gofakes3.LogErr:
		a.l.Error(msg)
	case gofakes3.LogWarn:
		a.l.Warn(msg)
	default:
		a.l.Debug(msg)
	}
}
