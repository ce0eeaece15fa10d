// Package statuspage serves the live fleet page of `edge-drop ui` and
// `make demo`: the boards (connected, last sync, missing) and the recent
// objects × boards as a grid of outcomes, pushed to the browser with
// server-sent events whenever the ledger or the fleet changes. Plain
// HTML, CSS and JavaScript embedded in the binary: no build step, nothing
// from a CDN; it serves on loopback only.
package statuspage

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/edge-drop/edge-drop/internal/fleetstatus"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

//go:embed assets
var assets embed.FS

// Options configures a page.
type Options struct {
	Fleet *fleetstatus.Fleet
	// Name says which deployment the page shows.
	Name string
	// Poll is how often the ledger and the fleet are read (2 s when 0).
	Poll time.Duration
	// MaxObjects bounds the grid's rows (1,000 when 0): the objects with
	// the most recent outcomes, from today's and yesterday's history.
	MaxObjects int
	// Slow is how often the bucket is listed again for the boards'
	// missing counts and their last syncs re-read (30 s when 0); new
	// outcomes bring it forward, at most every 5 s. Each Poll reads only
	// the boards' ECS state and the history recorded since the last one.
	Slow time.Duration
}

// reload: the history is read whole again this often, for an outcome
// recorded later than ledger.Lateness after its time.
const reload = 5 * time.Minute

// Server is a running page.
type Server struct {
	opts Options
	ln   net.Listener
	http *http.Server
	stop context.CancelFunc
	done chan struct{}

	// What the refresh loop keeps between polls (only it touches them).
	hist    []ledger.Row // today's and yesterday's history, newest first
	histDay string
	tail    ledger.Tail // today's history as it grows
	histAt  time.Time
	sums    map[string]fleetstatus.BoardSummary
	sumsAt  time.Time
	dirty   bool // outcomes arrived since sums

	mu      sync.Mutex
	current []byte // the last snapshot, JSON
	version int
	changed chan struct{} // closed and replaced when current changes
	err     string
}

// Start listens on addr (loopback) and refreshes the snapshot every Poll
// until ctx ends or Close.
func Start(ctx context.Context, addr string, opts Options) (*Server, error) {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = 1000
	}
	if opts.Slow <= 0 {
		opts.Slow = 30 * time.Second
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status page: listen %s: %w", addr, err)
	}
	ctx, stop := context.WithCancel(ctx)
	s := &Server{opts: opts, ln: ln, stop: stop, done: make(chan struct{}), changed: make(chan struct{})}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	s.refresh(ctx)
	go func() { _ = s.http.Serve(ln) }()
	go s.loop(ctx)
	return s, nil
}

// URL is the page's address.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops serving (open event streams end).
func (s *Server) Close() error {
	s.stop()
	err := s.http.Close()
	<-s.done
	return err
}

func (s *Server) loop(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.Poll):
			s.refresh(ctx)
		}
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	})
	mux.Handle("GET /app.js", files)
	mux.Handle("GET /app.css", files)
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b := s.current
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /events", s.events)
	return mux
}

// events streams the snapshot now and after every change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	sent := -1
	for {
		s.mu.Lock()
		b, v, changed := s.current, s.version, s.changed
		s.mu.Unlock()
		if v != sent {
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
			sent = v
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-time.After(15 * time.Second): // a comment keeps proxies and the browser from timing out
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// Snapshot is what the page shows.
type Snapshot struct {
	Name    string          `json:"name"`
	Error   string          `json:"error,omitempty"`
	Note    string          `json:"note,omitempty"`
	Boards  []Board         `json:"boards"`
	Objects []ObjectOutcome `json:"objects"`
}

// Board is a board's card.
type Board struct {
	Name         string   `json:"name"`
	Groups       []string `json:"groups"`
	Connected    bool     `json:"connected"`
	RunningTasks int      `json:"runningTasks"`
	LastSync     string   `json:"lastSync"`
	SyncStatus   string   `json:"syncStatus"`
	Missing      int      `json:"missing"` // -1: unknown (no ledger)
}

// ObjectOutcome is a row of the grid: the latest outcome per board.
type ObjectOutcome struct {
	Key   string          `json:"key"`
	At    string          `json:"at"`
	Cells map[string]Cell `json:"cells"`
}

// Cell is one object on one board.
type Cell struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	At      string `json:"at,omitempty"`
	Cause   string `json:"cause,omitempty"`
}

// refresh reads a new snapshot; a failure keeps the last good data and
// shows the error on the page.
func (s *Server) refresh(ctx context.Context) {
	snap, err := s.snapshot(ctx)
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var prev Snapshot
		_ = json.Unmarshal(s.current, &prev)
		prev.Name, prev.Error = s.opts.Name, err.Error()
		snap = prev
	}
	b, _ := json.Marshal(snap)
	if !bytes.Equal(b, s.current) {
		s.current = b
		s.version++
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

func (s *Server) now() time.Time {
	if s.opts.Fleet.Now != nil {
		return s.opts.Fleet.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Server) snapshot(ctx context.Context) (Snapshot, error) {
	f := s.opts.Fleet
	now := s.now()
	snap := Snapshot{Name: s.opts.Name, Boards: []Board{}, Objects: []ObjectOutcome{}}
	boards, err := f.Boards(ctx)
	if err != nil {
		return snap, err
	}
	if f.Ledger != nil {
		grew, err := s.history(ctx, now)
		if err != nil {
			return snap, err
		}
		s.dirty = s.dirty || grew
	}
	if s.sums == nil || now.Sub(s.sumsAt) >= s.opts.Slow || (s.dirty && now.Sub(s.sumsAt) >= 5*time.Second) || len(s.sums) != len(boards) {
		sums, err := f.SummariesOf(ctx, boards)
		if err != nil {
			return snap, err
		}
		s.sums, s.sumsAt, s.dirty = map[string]fleetstatus.BoardSummary{}, now, false
		for _, b := range sums {
			s.sums[b.Name] = b
		}
	}
	for _, b := range boards { // ECS's state fresh, syncs and missing from the last listing
		sum, ok := s.sums[b.Name]
		card := Board{Name: b.Name, Groups: b.Groups, Connected: b.Connected, RunningTasks: b.RunningTasks, Missing: -1}
		if ok {
			card.SyncStatus, card.Missing = sum.SyncStatus, sum.Missing
			if sum.LastSync != nil {
				card.LastSync = sum.LastSync.Format(time.RFC3339)
			}
		}
		snap.Boards = append(snap.Boards, card)
	}
	if f.Ledger == nil {
		snap.Note = "This deployment keeps no delivery ledger yet: the boards are live, outcomes appear once it has one."
		return snap, nil
	}
	snap.Objects = s.grid(s.hist, boards)
	return snap, nil
}

// history brings the kept history up to date: the outcomes recorded
// since the newest one seen (one query, ledger.Tail), or today's and
// yesterday's whole on a new day and every reload. It says whether
// anything new came.
func (s *Server) history(ctx context.Context, now time.Time) (bool, error) {
	today := now.Format(time.DateOnly)
	l := s.opts.Fleet.Ledger
	if today != s.histDay || now.Sub(s.histAt) >= reload {
		var rows []ledger.Row
		s.tail = ledger.Tail{}
		for _, day := range []time.Time{now, now.AddDate(0, 0, -1)} {
			got, err := l.Recent(ctx, day.Format(time.DateOnly), 0)
			if err != nil {
				return false, err
			}
			if day == now {
				s.tail.Seen(got)
			}
			rows = append(rows, got...)
		}
		s.hist, s.histDay, s.histAt = s.trim(rows), today, now
		return true, nil
	}
	since := s.tail.After()
	got, err := l.Day(ctx, today, since, 0) // oldest first
	if err != nil {
		return false, err
	}
	fresh := s.tail.New(got)
	if len(fresh) == 0 {
		return false, nil
	}
	// The fresh rows go in their place among the newest kept ones.
	recent := 0
	for recent < len(s.hist) && s.hist[recent].TSK > since {
		recent++
	}
	head := append(slices.Clone(s.hist[:recent]), fresh...)
	sort.SliceStable(head, func(i, j int) bool { return head[i].TSK > head[j].TSK })
	s.hist = s.trim(append(head, s.hist[recent:]...))
	return true, nil
}

// trim keeps the rows of the newest MaxObjects keys (rows newest first).
func (s *Server) trim(rows []ledger.Row) []ledger.Row {
	keys := map[string]bool{}
	out := rows[:0:0]
	for _, r := range rows {
		if r.Key == "" { // a sync's own history item
			continue
		}
		if !keys[r.Key] {
			if len(keys) == s.opts.MaxObjects {
				continue
			}
			keys[r.Key] = true
		}
		out = append(out, r)
	}
	return out
}

// grid keeps each key's newest outcome per board, keys by their newest
// outcome; a target board without one is pending.
func (s *Server) grid(rows []ledger.Row, boards []fleetstatus.Board) []ObjectOutcome {
	byKey := map[string]*ObjectOutcome{}
	var order []*ObjectOutcome
	for _, r := range rows { // newest first
		o := byKey[r.Key]
		if o == nil {
			o = &ObjectOutcome{Key: r.Key, At: r.At.UTC().Format(time.RFC3339), Cells: map[string]Cell{}}
			byKey[r.Key] = o
			order = append(order, o)
		}
		if _, seen := o.Cells[r.Board]; !seen {
			cause := r.Cause
			if cause == r.Status {
				cause = ""
			}
			o.Cells[r.Board] = Cell{Status: r.Status, Version: r.Version(), At: r.At.UTC().Format(time.RFC3339), Cause: cause}
		}
	}
	d := s.opts.Fleet.Delivery
	out := make([]ObjectOutcome, 0, len(order))
	for _, o := range order {
		for _, b := range boards {
			if _, has := o.Cells[b.Name]; !has && d.Targets(o.Key, b.Name, b.Groups) {
				c := Cell{Status: fleetstatus.StatusPending, Cause: "no outcome recorded yet"}
				if !b.Connected {
					c.Cause = "offline (agent disconnected)"
				}
				o.Cells[b.Name] = c
			}
		}
		out = append(out, *o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At > out[j].At })
	return out
}
