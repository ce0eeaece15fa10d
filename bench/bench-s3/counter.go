package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// counter counts the response body bytes served: GET /__bytes reads the
// count; POST /__bytes resets it and lets paused responses go on; POST
// /__bytes?pause=N makes every response stop sending once N bytes have
// been served in all (a network that stops at a known byte: the resume
// benchmark kills the task there).
type counter struct {
	next   http.Handler
	bytes  atomic.Int64
	mu     sync.Mutex
	pause  int64         // 0: none
	resume chan struct{} // closed to let paused writers go on
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__bytes" {
		if r.Method == http.MethodPost {
			c.reset(r.URL.Query().Get("pause"))
		}
		fmt.Fprintln(w, c.bytes.Load())
		return
	}
	c.next.ServeHTTP(&countingWriter{ResponseWriter: w, c: c, ctx: r.Context().Done()}, r)
}

// reset zeroes the count, lets paused writers go on and sets the next
// pause point ("" or "0": none).
func (c *counter) reset(pause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resume != nil {
		close(c.resume)
	}
	c.resume = make(chan struct{})
	c.pause, _ = strconv.ParseInt(pause, 10, 64)
	c.bytes.Store(0)
}

type countingWriter struct {
	http.ResponseWriter
	c   *counter
	ctx <-chan struct{}
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.c.mu.Lock()
	pause, goOn := w.c.pause, w.c.resume
	w.c.mu.Unlock()
	if pause <= 0 {
		return w.write(b)
	}
	room := pause - w.c.bytes.Load()
	if room >= int64(len(b)) {
		return w.write(b)
	}
	n := 0
	if room > 0 {
		n, _ = w.write(b[:room])
	}
	w.Flush()
	select { // hold the rest until the pause is lifted (or the client goes)
	case <-goOn:
	case <-w.ctx:
		return n, http.ErrAbortHandler
	}
	m, err := w.write(b[n:])
	return n + m, err
}

func (w *countingWriter) write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.c.bytes.Add(int64(n))
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
