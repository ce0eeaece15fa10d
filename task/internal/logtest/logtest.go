// Package logtest collects what the task logs, for its tests: a Buffer
// takes slog's JSON lines from any number of goroutines, and a test reads
// back the lines of one message.
package logtest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
)

// Buffer is a log destination safe for concurrent writers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Logger logs JSON lines into s.
func (s *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, nil))
}

// Lines returns the fields of every line logged with msg, in order.
func (s *Buffer) Lines(msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(s.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
