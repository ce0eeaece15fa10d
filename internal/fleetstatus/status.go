package fleetstatus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fault"
	"github.com/edge-drop/edge-drop/internal/ledger"
)

// Cell is one board's state of one object.
type Cell struct {
	Board   string    `json:"board"`
	Status  string    `json:"status"` // an outcome word, or StatusPending
	Version string    `json:"version"`
	Time    time.Time `json:"time"`
	Cause   string    `json:"cause"`
}

// ObjectStatus is where an object is, one cell per board that should have
// it or has an outcome for it.
type ObjectStatus struct {
	Key    string `json:"key"`
	Boards []Cell `json:"boards"`
}

// Status says where key is: every target board's outcome of the object's
// current version, or pending with the reason. One DynamoDB Query for the
// object's outcomes; the last syncs (for "the next sync at T") are read
// only when a connected board is pending and a schedule exists.
func (f *Fleet) Status(ctx context.Context, key string) (ObjectStatus, error) {
	rows, err := f.Ledger.Object(ctx, key)
	if err != nil {
		return ObjectStatus{}, err
	}
	obj, err := f.Head(ctx, key)
	if err != nil {
		return ObjectStatus{}, err
	}
	if !obj.Exists && len(rows) == 0 {
		return ObjectStatus{}, fault.NotFoundf("unknown key %q: s3://%s has no such object and the ledger no outcome for it (keys are case-sensitive; edge-drop missing BOARD lists what a board lacks)", key, f.Bucket)
	}
	if obj.Exists && !f.Delivery.Delivered(key) && len(rows) == 0 {
		return ObjectStatus{}, fault.NotFoundf("key %q is not delivered: it does not match the pipeline's keyPattern %q%s", key, f.Delivery.KeyPattern, routeHint(f.Delivery))
	}
	boards, err := f.Boards(ctx)
	if err != nil {
		return ObjectStatus{}, err
	}
	return f.join(ctx, key, obj, rows, boards)
}

func routeHint(d contract.Delivery) string {
	if d.RoutePrefix != "" {
		return fmt.Sprintf(" (routed keys are %s<board-or-group>/<path>)", d.RoutePrefix)
	}
	return ""
}

// join makes the cells: a board's row when it is about the current
// version (or the object is gone), pending otherwise for target boards.
func (f *Fleet) join(ctx context.Context, key string, obj Object, rows []ledger.Row, boards []Board) (ObjectStatus, error) {
	st := ObjectStatus{Key: key, Boards: []Cell{}}
	byBoard := map[string]ledger.Row{}
	for _, r := range rows {
		byBoard[r.Board] = r
	}
	type pend struct {
		i     int
		board Board
	}
	var waiting []pend
	seen := map[string]bool{}
	for _, b := range boards {
		seen[b.Name] = true
		r, has := byBoard[b.Name]
		target := obj.Exists && f.Delivery.Targets(key, b.Name, b.Groups)
		switch {
		case has && (!obj.Exists || sameVersion(r, obj)):
			st.Boards = append(st.Boards, rowCell(r))
		case target:
			c := Cell{Board: b.Name, Status: StatusPending, Version: obj.Version()}
			if has {
				c.Cause = fmt.Sprintf("has an older version %s (%s %s); ", r.Version(), r.Status, r.At.UTC().Format(time.RFC3339))
			}
			st.Boards = append(st.Boards, c)
			waiting = append(waiting, pend{len(st.Boards) - 1, b})
		case has:
			st.Boards = append(st.Boards, rowCell(r))
		}
	}
	// Rows of boards that left the cluster stay visible.
	for _, r := range rows {
		if !seen[r.Board] {
			c := rowCell(r)
			c.Cause = strings.TrimPrefix(c.Cause+"; board no longer registered", "; ")
			st.Boards = append(st.Boards, c)
		}
	}
	if obj.Exists && len(st.Boards) == 0 && f.Delivery.DeliverTo == "any" {
		st.Boards = append(st.Boards, Cell{Board: "any", Status: StatusPending, Version: obj.Version(),
			Cause: "no outcome recorded yet (deliverTo=any: one board ECS picks)"})
	}
	var syncs map[string]ledger.Sync
	if every := f.Delivery.Every(); every > 0 {
		var connected []string
		for _, w := range waiting {
			if w.board.Connected {
				connected = append(connected, w.board.Name)
			}
		}
		if len(connected) > 0 {
			var err error
			if syncs, err = f.Ledger.Syncs(ctx, connected); err != nil {
				return st, err
			}
		}
	}
	for _, w := range waiting {
		st.Boards[w.i].Cause += f.pendingReason(key, w.board, syncs)
	}
	slices.SortStableFunc(st.Boards, func(a, b Cell) int { return strings.Compare(a.Board, b.Board) })
	return st, nil
}

func sameVersion(r ledger.Row, o Object) bool {
	if r.VersionID != "" && o.VersionID != "" {
		return r.VersionID == o.VersionID
	}
	return r.ETag == o.ETag
}

func rowCell(r ledger.Row) Cell {
	cause := r.Cause
	if cause == r.Status {
		cause = ""
	}
	return Cell{Board: r.Board, Status: r.Status, Version: r.Version(), Time: r.At.UTC(), Cause: cause}
}

// pendingReason says why a target board does not have the object yet and
// when it will.
func (f *Fleet) pendingReason(key string, b Board, syncs map[string]ledger.Sync) string {
	var why string
	if !b.Connected {
		why = "offline (agent disconnected)"
	}
	next := ""
	switch every := f.Delivery.Every(); {
	case every > 0:
		if sy, ok := syncs[b.Name]; ok && !sy.Start.IsZero() {
			t := sy.Start.Add(every)
			if t.Before(f.now()) {
				next = fmt.Sprintf("waiting for the next sync (due now, every %s)", Every(every))
			} else {
				next = "waiting for the next sync by " + t.UTC().Format(time.RFC3339)
			}
		} else {
			next = fmt.Sprintf("waiting for the next scheduled sync (every %s)", Every(every))
		}
	case f.Delivery.Sync:
		next = "no sync is scheduled: edge-drop sync --board " + b.Name
	default:
		next = "edge-drop redeliver " + quoteArg(key) + " --board " + b.Name
	}
	if why == "" {
		if f.Delivery.Every() > 0 {
			return next
		}
		return "no outcome recorded yet; " + next
	}
	if f.Delivery.Every() > 0 {
		return why + ", then " + next
	}
	return why + "; when it is back: " + strings.TrimPrefix(next, "no sync is scheduled: ")
}

// quoteArg quotes a key for a shell when it needs it.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Every prints an interval as people write it: 6h, 30m, 1h30m, 10s.
func Every(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
