package fleetstatus

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/internal/ledger"
)

// MissingObject is an object a board should hold and has not confirmed.
type MissingObject struct {
	Key          string    `json:"key"`
	Version      string    `json:"version"`
	LastModified time.Time `json:"lastModified"`
	// Status is the board's last outcome for the object ("" when the
	// ledger has none), Cause its words.
	Status string `json:"status"`
	Cause  string `json:"cause"`
}

// Missing lists the objects under the pattern that are the board's and
// that it has not confirmed: neither older than the start of its last
// successful sync (a sync that ended synced has every older object) nor
// confirmed by the ledger in their current version.
func (f *Fleet) Missing(ctx context.Context, board string) ([]MissingObject, error) {
	boards, err := f.Boards(ctx)
	if err != nil {
		return nil, err
	}
	b, ok := FindBoard(boards, board)
	if !ok {
		return nil, UnknownBoard(board, boards)
	}
	objs, err := f.list(ctx, f.Delivery.ListPrefix)
	if err != nil {
		return nil, err
	}
	syncs, err := f.Ledger.Syncs(ctx, []string{board})
	if err != nil {
		return nil, err
	}
	rows, err := f.Ledger.Board(ctx, board)
	if err != nil {
		return nil, err
	}
	return f.missing(b, objs, rows, syncs[board].LastOKStart), nil
}

func (f *Fleet) missing(b Board, objs []Object, rows []ledger.Row, lastOK time.Time) []MissingObject {
	byKey := map[string]ledger.Row{}
	for _, r := range rows {
		byKey[r.Key] = r
	}
	out := []MissingObject{}
	for _, o := range objs {
		if !f.Delivery.Targets(o.Key, b.Name, b.Groups) || (!lastOK.IsZero() && o.LastModified.Before(lastOK)) {
			continue
		}
		m := MissingObject{Key: o.Key, Version: o.Version(), LastModified: o.LastModified.UTC()}
		if r, ok := byKey[o.Key]; ok {
			if r.Confirmed() && sameVersion(r, o) {
				continue
			}
			m.Status, m.Cause = r.Status, r.Cause
			if !sameVersion(r, o) {
				m.Cause = strings.TrimSuffix("holds an older version "+r.Version()+"; "+r.Cause, "; ")
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b MissingObject) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// BoardSummary is a board with its last sync and how many objects it is
// missing.
type BoardSummary struct {
	Board
	LastSync    *time.Time `json:"lastSync"`
	LastSyncOK  *time.Time `json:"lastSuccessfulSync"`
	SyncStatus  string     `json:"syncStatus"`
	Missing     int        `json:"missing"`
	MissingKeys []string   `json:"-"`
}

// Summaries describes every board: ECS's view, its last sync and its
// missing count (one listing of the bucket, one BatchGetItem for the
// syncs, one Query per board). Without a ledger Missing is -1 (unknown).
func (f *Fleet) Summaries(ctx context.Context) ([]BoardSummary, error) {
	boards, err := f.Boards(ctx)
	if err != nil {
		return nil, err
	}
	return f.SummariesOf(ctx, boards)
}

// SummariesOf is Summaries for boards already listed.
func (f *Fleet) SummariesOf(ctx context.Context, boards []Board) ([]BoardSummary, error) {
	var err error
	var objs []Object
	if f.Ledger != nil {
		if objs, err = f.list(ctx, f.Delivery.ListPrefix); err != nil {
			return nil, err
		}
	}
	out := []BoardSummary{}
	if f.Ledger == nil { // no ledger: what ECS says, nothing about syncs or missing objects
		for _, b := range boards {
			out = append(out, BoardSummary{Board: b, Missing: -1})
		}
		return out, nil
	}
	var names []string
	for _, b := range boards {
		names = append(names, b.Name)
	}
	syncs, err := f.Ledger.Syncs(ctx, names)
	if err != nil {
		return nil, err
	}
	for _, b := range boards {
		rows, err := f.Ledger.Board(ctx, b.Name)
		if err != nil {
			return nil, err
		}
		sy := syncs[b.Name]
		miss := f.missing(b, objs, rows, sy.LastOKStart)
		s := BoardSummary{Board: b, SyncStatus: sy.Status, Missing: len(miss)}
		if !sy.Start.IsZero() {
			t := sy.Start.UTC()
			s.LastSync = &t
		}
		if !sy.LastOKStart.IsZero() {
			t := sy.LastOKStart.UTC()
			s.LastSyncOK = &t
		}
		for _, m := range miss {
			s.MissingKeys = append(s.MissingKeys, m.Key)
		}
		out = append(out, s)
	}
	return out, nil
}
