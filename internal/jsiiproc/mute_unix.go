//go:build unix

package jsiiproc

import (
	"bytes"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// capture holds standard error (file descriptor 2) pointed at a pipe.
type capture struct {
	saved int           // the real standard error, -1 when not captured
	r     *os.File      // the pipe's read end
	lines chan []byte   // what was written, by read
	done  chan struct{} // the reader ended
	kept  bytes.Buffer  // what to pass on
}

// captureStderr points file descriptor 2 at a pipe.
func captureStderr() *capture {
	c := &capture{saved: -1}
	r, w, err := os.Pipe()
	if err != nil {
		return c
	}
	saved, err := unix.Dup(2)
	if err != nil {
		r.Close()
		w.Close()
		return c
	}
	if err := unix.Dup2(int(w.Fd()), 2); err != nil {
		unix.Close(saved)
		r.Close()
		w.Close()
		return c
	}
	w.Close() // fd 2 holds the write end now
	c.saved, c.r = saved, r
	c.lines, c.done = make(chan []byte, 16), make(chan struct{})
	go func() {
		defer close(c.done)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				c.lines <- bytes.Clone(buf[:n])
			}
			if err != nil {
				close(c.lines)
				return
			}
		}
	}()
	return c
}

// release waits until want was written or grace passed, points file
// descriptor 2 back and writes whatever else was captured to it.
func (c *capture) release(want []byte, grace time.Duration) {
	if c.saved < 0 {
		return
	}
	var all []byte
	deadline := time.After(grace)
wait:
	for !bytes.Contains(all, want) {
		select {
		case b, ok := <-c.lines:
			if !ok {
				break wait
			}
			all = append(all, b...)
		case <-deadline:
			break wait
		}
	}
	_ = unix.Dup2(c.saved, 2) // closes the pipe's write end held by fd 2
	_ = unix.Close(c.saved)
	<-c.done
	for b := range c.lines {
		all = append(all, b...)
	}
	c.r.Close()
	rest := bytes.ReplaceAll(all, want, nil)
	if len(bytes.TrimSpace(rest)) > 0 {
		_, _ = io.Copy(os.Stderr, bytes.NewReader(rest))
	}
}
