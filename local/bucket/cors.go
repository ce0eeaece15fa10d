package bucket

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/edge-drop/edge-drop/s3fake"
)

// CheckOrigin validates a CORS origin for Options.CORSOrigin: one
// scheme://host[:port], no path and no wildcard.
func CheckOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(u.Host, "*") ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("CORS origin %q: want one origin, scheme://host[:port], e.g. http://localhost:3000 (no path, no *)", origin)
	}
	return nil
}

// preflight answers a CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method): allowed only for Options.CORSOrigin,
// refused (403, no Access-Control-Allow-Origin) for any other origin or
// when none is configured, as S3 answers for a bucket without CORS rules.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	origin := strings.TrimSuffix(r.Header.Get("Origin"), "/")
	if s.corsOrigin == "" || origin != s.corsOrigin {
		s3fake.WriteError(w, r, http.StatusForbidden, "AccessForbidden", "CORSResponse: this origin may not call the local S3 server (the demo's -cors-origin names the one origin that may)")
		return
	}
	switch r.Header.Get("Access-Control-Request-Method") {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		s3fake.WriteError(w, r, http.StatusForbidden, "AccessForbidden", "CORSResponse: this method is not allowed")
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	w.WriteHeader(http.StatusOK)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// corsWriter takes out the CORS headers gofakes3 adds to every answer
// (Access-Control-Allow-Origin: *, which no gofakes3 option turns off) and
// puts in the configured origin's, for a request from that origin only.
type corsWriter struct {
	http.ResponseWriter
	allow string // the origin to allow, "" for none
	vary  bool
	once  sync.Once
}

func (s *Server) cors(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	c := &corsWriter{ResponseWriter: w, vary: s.corsOrigin != ""}
	if origin := strings.TrimSuffix(r.Header.Get("Origin"), "/"); s.corsOrigin != "" && origin == s.corsOrigin {
		c.allow = origin
	}
	return c
}

func (c *corsWriter) fix() {
	c.once.Do(func() {
		h := c.Header()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(h, k)
			}
		}
		if c.allow != "" {
			h.Set("Access-Control-Allow-Origin", c.allow)
			h.Set("Access-Control-Expose-Headers", "ETag, x-amz-request-id, x-amz-version-id")
		}
		if c.vary {
			h.Add("Vary", "Origin")
		}
	})
}

func (c *corsWriter) WriteHeader(code int) {
	c.fix()
	c.ResponseWriter.WriteHeader(code)
}

func (c *corsWriter) Write(p []byte) (int, error) {
	c.fix()
	return c.ResponseWriter.Write(p)
}

func (c *corsWriter) Flush() {
	c.fix()
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
