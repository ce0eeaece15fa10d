package s3test

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/edge-drop/edge-drop/s3fake"
)

// Kind of injected fault.
type Kind int

// Faults the proxy can inject.
const (
	None   Kind = iota
	Status      // answer with an S3 error Status/Code instead of forwarding
	Delay       // sleep D before forwarding (response headers late)
	Reset       // forward N body bytes, then drop the connection
	Short       // forward N body bytes, then end the response early (body shorter than Content-Length)
	Stall       // forward N body bytes, then stop sending for D
	Flip        // flip the bits of body byte N
	Header      // override response header Name with Value
	Hook        // run Fn before forwarding (e.g. change the object)
)

// Fault describes what to do to one request.
type Fault struct {
	Kind   Kind
	Status int
	Code   string
	N      int64
	D      time.Duration
	Name   string
	Value  string
	Fn     func()
}

// Rule decides the fault for a request; n counts requests with the same
// method, from 1. Returning nil forwards normally.
type Rule func(r *http.Request, n int) *Fault

// SetRule installs rule (nil clears it) and resets the counters.
func (s *Server) SetRule(rule Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule = rule
	s.counts = map[string]int{}
	s.body = 0
	s.Log = nil
}

// BodyBytes returns how many response body bytes the proxy sent to clients
// since the last SetRule: what a download fetched, counted at the server.
func (s *Server) BodyBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.body
}

// Count returns how many requests of method were proxied.
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method]
}

var upstream = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}

func (s *Server) proxy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[r.Method]++
	n := s.counts[r.Method]
	rule := s.rule
	s.mu.Unlock()
	var f *Fault
	if rule != nil {
		f = rule(r, n)
	}
	if f == nil {
		f = &Fault{}
	}
	s.mu.Lock()
	s.Log = append(s.Log, fmt.Sprintf("%s %s %s -> %d", r.Method, r.URL.Path, r.Header.Get("Range"), f.Kind))
	s.mu.Unlock()

	switch f.Kind {
	case Status:
		s3fake.WriteError(w, r, f.Status, f.Code, "injected fault")
		return
	case Delay:
		select {
		case <-time.After(f.D):
		case <-r.Context().Done():
			return
		}
	case Hook:
		f.Fn()
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, s.Direct.URL+r.URL.RequestURI(), r.Body)
	if err != nil {
		s3fake.WriteError(w, r, http.StatusBadGateway, "ProxyError", err.Error())
		return
	}
	out.Header = r.Header.Clone()
	out.ContentLength = r.ContentLength
	resp, err := upstream.RoundTrip(out)
	if err != nil {
		s3fake.WriteError(w, r, http.StatusBadGateway, "ProxyError", err.Error())
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if f.Kind == Header {
		w.Header().Set(f.Name, f.Value)
	}
	w.WriteHeader(resp.StatusCode)
	s.forwardBody(&countingWriter{ResponseWriter: w, s: s}, r, resp, f)
}

// forwardBody forwards the response body, with f's body fault.
func (s *Server) forwardBody(w http.ResponseWriter, r *http.Request, resp *http.Response, f *Fault) {
	switch f.Kind {
	case Reset, Short, Stall:
		if _, err := io.CopyN(w, resp.Body, f.N); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		switch f.Kind {
		case Reset:
			panic(http.ErrAbortHandler) // net/http drops the connection
		case Short:
			return // net/http closes: fewer bytes than Content-Length
		case Stall:
			select {
			case <-time.After(f.D):
			case <-r.Context().Done():
				return
			}
		}
	case Flip:
		if _, err := io.CopyN(w, resp.Body, f.N); err != nil {
			return
		}
		var b [1]byte
		if _, err := io.ReadFull(resp.Body, b[:]); err == nil {
			b[0] ^= 0xff
			w.Write(b[:])
		}
	}
	io.Copy(w, resp.Body)
}

// countingWriter counts the body bytes it forwards (BodyBytes).
type countingWriter struct {
	http.ResponseWriter
	s *Server
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.s.mu.Lock()
	c.s.body += int64(n)
	c.s.mu.Unlock()
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
