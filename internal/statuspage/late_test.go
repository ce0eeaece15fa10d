package statuspage_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/fleettest"
	"github.com/edge-drop/edge-drop/internal/statuspage"
	"github.com/edge-drop/edge-drop/local/ecstask"
)

// cellOf is board's cell of key in the page's snapshot ("" without one).
func cellOf(t *testing.T, s *statuspage.Server, key, board string) string {
	t.Helper()
	resp, err := http.Get(s.URL() + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap statuspage.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	for _, o := range snap.Objects {
		if o.Key == key {
			return o.Cells[board].Status
		}
	}
	return ""
}

// waitCell waits (a second at most: the page polls every 50 ms) until
// board's cell of key shows want.
func waitCell(t *testing.T, s *statuspage.Server, key, board, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = cellOf(t, s, key, board); got == want {
			return
		}
	}
	t.Fatalf("the page shows %s on %s as %q, want %q", key, board, got, want)
}

// Boards record their outcomes in parallel (a Map's iterations), so an
// outcome can be written after a newer one the page has already read: the
// page must still show it on its next poll, not after its next full reload
// minutes later (the demo's e2e test saw board a "pending" for minutes
// while the CLI said "delivered").
func TestAnOutcomeRecordedLateStillShows(t *testing.T) {
	e := fleettest.Start(t, []ecstask.Board{{Name: "a"}, {Name: "b"}}, toAll, "")
	etag, _ := e.Put("demo1.txt", "hello")
	s := serve(t, e)
	waitCell(t, s, "demo1.txt", "a", "") // the page has read the empty ledger

	entered := time.Now().UTC()
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "b", Status: contract.OutcomeDelivered, ETag: etag, At: entered.Add(time.Second)})
	waitCell(t, s, "demo1.txt", "b", contract.OutcomeDelivered)
	waitCell(t, s, "demo1.txt", "a", "pending")

	// a's record state was entered first, its write lands now.
	e.Record(fleettest.Outcome{Key: "demo1.txt", Board: "a", Status: contract.OutcomeDelivered, ETag: etag, At: entered})
	waitCell(t, s, "demo1.txt", "a", contract.OutcomeDelivered)
	waitCell(t, s, "demo1.txt", "b", contract.OutcomeDelivered)
}
