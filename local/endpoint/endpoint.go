// Package endpoint opens the listening sockets of the local stand-ins (the
// demo's S3 and Step Functions endpoints), and serves the small APIs on them: on a stable address by default,
// falling back to a free port when that one is taken, and saying so; and
// with a warning when the address is not a loopback one, since anything
// that can reach the port can then try it.
package endpoint

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Listen listens on addr for the endpoint named what ("S3"). With
// fallback (addr is the default, not one the user chose), a port already
// in use is replaced by a free one on the same host. notes are the lines
// to show the user: the fallback, and a warning for an address that other
// machines can reach.
func Listen(what, addr string, fallback bool) (ln net.Listener, notes []string, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s address %q: want host:port, e.g. 127.0.0.1:9470 (port 0: any free port)", what, addr)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil && fallback && errors.Is(err, syscall.EADDRINUSE) {
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err == nil {
			notes = append(notes, fmt.Sprintf("%s: %s is in use (another demo?), so it listens on %s instead", what, addr, Addr(host, ln)))
		}
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("%s: %s is in use (another demo?): choose another port (port 0: any free port)", what, addr)
		}
		return nil, nil, fmt.Errorf("%s: listen %s: %w", what, addr, err)
	}
	if !Loopback(host) {
		notes = append(notes, fmt.Sprintf("warning: %s listens on %s, which other machines can reach: anyone who gets the demo's credentials can upload, delete and start executions (the default is 127.0.0.1)", what, Addr(host, ln)))
	}
	return ln, notes, nil
}

// Loopback reports whether host names this machine only: localhost or a
// loopback IP. An empty host or 0.0.0.0 listens on every interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is ln's address with host as it was asked for (0.0.0.0, not the
// [::] a dual-stack socket reports).
func Addr(host string, ln net.Listener) string {
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil || host == "" {
		return ln.Addr().String()
	}
	return net.JoinHostPort(host, port)
}

// URL is the http URL clients on this machine use for ln: a socket on
// every interface (0.0.0.0, ::) is reached at 127.0.0.1.
func URL(ln net.Listener) string {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + ln.Addr().String()
	}
	if a.IP == nil || a.IP.IsUnspecified() {
		return fmt.Sprintf("http://127.0.0.1:%d", a.Port)
	}
	return "http://" + a.String()
}

// Server is a running HTTP endpoint: Serve starts it, Close stops it.
type Server struct {
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// Serve serves h on ln or, without one, on addr ("127.0.0.1:0" when
// empty), until Close.
func Serve(ln net.Listener, addr string, h http.Handler) (*Server, error) {
	if ln == nil {
		addr = cmp.Or(addr, "127.0.0.1:0")
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
	}
	s := &Server{ln: ln, done: make(chan struct{}), http: &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	return s, nil
}

// URL is the endpoint for clients (an SDK's BaseEndpoint, aws
// --endpoint-url), e.g. http://127.0.0.1:41235.
func (s *Server) URL() string { return URL(s.ln) }

// Close stops the server and waits for it.
func (s *Server) Close() error {
	err := s.http.Close()
	<-s.done
	return err
}
