package bucket

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/edge-drop/edge-drop/local/sigv4"

	"github.com/edge-drop/edge-drop/s3fake"
)

// authenticate checks r's SigV4 signature and arranges for its body to be
// checked against what was signed: a hex X-Amz-Content-Sha256 as it is
// read, a signed aws-chunked body chunk by chunk. It answers a refused
// request itself (false) in S3's XML error shape.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	payload := r.Header.Get("X-Amz-Content-Sha256")
	signed, err := s.verifier.Verify(r, payload)
	if err != nil {
		s.refuse(w, r, err)
		return false
	}
	switch {
	case signed.Presigned && payload == "":
		// A presigned request's body is not signed (UNSIGNED-PAYLOAD).
	case payload == sigv4.UnsignedPayload:
	case payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" || payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
		chunks, err := signed.Chunks()
		if err == nil {
			err = unchunk(r, chunks)
		}
		if err != nil {
			s.refuse(w, r, err)
			return false
		}
	case payload == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
		if err := unchunk(r, nil); err != nil {
			s.refuse(w, r, err)
			return false
		}
	case strings.HasPrefix(payload, "STREAMING-"):
		s3fake.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "the local S3 server does not accept X-Amz-Content-Sha256 "+payload+": sign the chunks with AWS4-HMAC-SHA256 (SigV4a is not supported)")
		return false
	case sha256Hex.MatchString(payload):
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = sigv4.HashedBody(r.Body, payload)
		} else if strings.ToLower(payload) != emptySHA256 {
			s.refuse(w, r, &sigv4.Error{Kind: sigv4.BadPayload, Message: "the request has no body, but X-Amz-Content-Sha256 is not the SHA-256 of an empty one"})
			return false
		}
	default:
		s3fake.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], STREAMING-UNSIGNED-PAYLOAD-TRAILER or the body's hex SHA-256")
		return false
	}
	return true
}

var sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// refuse answers a request the signature check refused, as S3 would.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := sigv4.AsError(err)
	if !ok {
		s3fake.WriteError(w, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	status, code := http.StatusForbidden, "SignatureDoesNotMatch"
	switch e.Kind {
	case sigv4.Missing:
		code = "AccessDenied"
	case sigv4.UnknownKey:
		code = "InvalidAccessKeyId"
	case sigv4.Skewed:
		code = "RequestTimeTooSkewed"
	case sigv4.Expired:
		code = "AccessDenied"
	case sigv4.Unsupported:
		status, code = http.StatusBadRequest, "InvalidRequest"
	case sigv4.Malformed, sigv4.WrongScope:
		status, code = http.StatusBadRequest, "AuthorizationHeaderMalformed"
		if r.URL.Query().Has("X-Amz-Signature") || r.URL.Query().Has("X-Amz-Credential") {
			code = "AuthorizationQueryParametersError"
		}
	case sigv4.BadPayload:
		status, code = http.StatusBadRequest, "XAmzContentSHA256Mismatch"
	}
	msg := e.Message
	if e.Kind == sigv4.Missing {
		msg = "Access Denied: " + msg + "; sign it with the credentials the demo printed (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
	}
	s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", code, "why", e.Message)
	s3fake.WriteError(w, r, status, code, msg)
}

// bodyGuard answers for a request whose body failed its signature check
// while gofakes3 read it: gofakes3 reports a read error as its own
// (InternalError), so the first header written is replaced by the
// refusal, and whatever gofakes3 writes after it is dropped.
type bodyGuard struct {
	http.ResponseWriter
	server *Server
	req    *http.Request
	body   *watchedBody
	once   sync.Once
	took   bool // the refusal was written instead
}

// watchedBody remembers the first signature failure its reader returned.
type watchedBody struct {
	rc     io.ReadCloser
	mu     sync.Mutex
	failed error
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if _, ok := sigv4.AsError(err); ok {
		b.mu.Lock()
		if b.failed == nil {
			b.failed = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *watchedBody) Close() error { return b.rc.Close() }

func (b *watchedBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}

// guardBody wraps r's body and w so that a signature failure found while
// reading the body is what the client gets.
func (s *Server) guardBody(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if r.Body == nil || r.Body == http.NoBody {
		return w
	}
	b := &watchedBody{rc: r.Body}
	r.Body = b
	return &bodyGuard{ResponseWriter: w, server: s, req: r, body: b}
}

func (g *bodyGuard) check() {
	g.once.Do(func() {
		if err := g.body.failure(); err != nil {
			g.took = true
			h := g.Header()
			for k := range h { // what gofakes3 set for its own answer (ETag, ...)
				if k != "X-Amz-Request-Id" && k != "X-Amz-Id-2" {
					delete(h, k)
				}
			}
			g.server.refuse(g.ResponseWriter, g.req, err)
		}
	})
}

func (g *bodyGuard) WriteHeader(code int) {
	if g.check(); g.took {
		return
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *bodyGuard) Write(p []byte) (int, error) {
	if g.check(); g.took {
		return len(p), nil
	}
	return g.ResponseWriter.Write(p)
}

func (g *bodyGuard) Flush() {
	if f, ok := g.ResponseWriter.(http.Flusher); ok && !g.took {
		f.Flush()
	}
}
