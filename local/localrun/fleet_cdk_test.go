package localrun

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/edge-drop/edge-drop/cdkapp"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl"
)

// The fleet end to end with the state machine the CDK app synthesizes for
// each deliverTo / routePrefix: three boards in two groups (a; b@site1;
// c@site1+eu), the real task binary on each.

var (
	fleetAsmMu sync.Mutex
	fleetAsms  = map[string]string{}
)

// synthFleet synthesizes the app with these -c values once per test binary.
func synthFleet(t testing.TB, ctx map[string]string) string {
	t.Helper()
	fleetAsmMu.Lock()
	defer fleetAsmMu.Unlock()
	b, _ := json.Marshal(ctx)
	if dir, ok := fleetAsms[string(b)]; ok {
		return dir
	}
	dir := filepath.Join(sharedTempRoot, "fleet-"+string(rune('a'+len(fleetAsms)))+".out")
	if _, err := cdkapp.Synth("../..", dir, ctx); err != nil {
		t.Fatalf("synth %v: %v", ctx, err)
	}
	fleetAsms[string(b)] = dir
	return dir
}

// delivered lists the boards whose data dir holds rel with body.
func delivered(t testing.TB, h *harness, rel string, body []byte) []string {
	t.Helper()
	var got []string
	for _, b := range []string{"a", "b", "c"} {
		file, err := os.ReadFile(filepath.Join(h.data, b, filepath.FromSlash(rel)))
		switch {
		case err == nil && string(file) == string(body):
			got = append(got, b)
		case err == nil:
			t.Errorf("board %s holds %d bytes of %s, not the %d uploaded", b, len(file), rel, len(body))
		case !os.IsNotExist(err):
			t.Error(err)
		}
	}
	return got
}

func TestSynthesizedFleetDeliversToItsTarget(t *testing.T) {
	for _, tc := range []struct {
		deliverTo string
		want      []string
	}{
		{"all", []string{"a", "b", "c"}},
		{"group:site1", []string{"b", "c"}},
		{"board:a", []string{"a"}},
		{"group:eu", []string{"c"}},
	} {
		t.Run(tc.deliverTo, func(t *testing.T) {
			h := start(t, synthFleet(t, map[string]string{"deliverTo": tc.deliverTo}), Options{Boards: threeBoards})
			body := randomBytes(2<<20 + 5)
			h.put("demo1.txt", body)
			r := h.results(1)["demo1.txt"]
			if r.Execution.Status != asl.StatusSucceeded {
				t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
			}
			if got := delivered(t, h, "demo1.txt", body); !slices.Equal(got, tc.want) {
				t.Errorf("delivered to %v, want %v", got, tc.want)
			}
			got := outcomes(t, r)
			for _, b := range tc.want {
				if got[b] != contract.OutcomeDelivered {
					t.Errorf("outcome of %s: %q", b, got[b])
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("outcomes %v, want one per board of %v", got, tc.want)
			}
		})
	}
}

func TestSynthesizedFleetRoutesByKey(t *testing.T) {
	h := start(t, synthFleet(t, map[string]string{"routePrefix": "to/", "keyPattern": "to/*"}), Options{Boards: threeBoards})
	toA, toSite1 := []byte("for board a"), []byte("for the boards of site1")
	h.put("to/a/docs/x.txt", toA)
	h.put("to/site1/y y.bin", toSite1)
	h.put("to/nobody/z.txt", []byte("no such board"))
	h.put("to/a.b/z.txt", []byte("not a name"))
	got := h.results(4)
	for _, key := range []string{"to/a/docs/x.txt", "to/site1/y y.bin"} {
		if x := got[key].Execution; x.Status != asl.StatusSucceeded {
			t.Errorf("%s: %s %s %s", key, x.Status, x.Error, x.Cause)
		}
	}
	if b := delivered(t, h, "docs/x.txt", toA); !slices.Equal(b, []string{"a"}) {
		t.Errorf("to/a/docs/x.txt landed on %v as docs/x.txt, want [a]", b)
	}
	if b := delivered(t, h, "y y.bin", toSite1); !slices.Equal(b, []string{"b", "c"}) {
		t.Errorf("to/site1/y y.bin landed on %v as \"y y.bin\", want [b c]", b)
	}
	if x := got["to/nobody/z.txt"].Execution; x.Status != asl.StatusFailed || x.Error != contract.ErrNoBoards || !strings.Contains(x.Cause, "nobody") {
		t.Errorf("unknown target: %s %s %s", x.Status, x.Error, x.Cause)
	}
	if x := got["to/a.b/z.txt"].Execution; x.Status != asl.StatusFailed || !strings.Contains(x.Cause, "a.b") {
		t.Errorf("invalid target: %s %s %s", x.Status, x.Error, x.Cause)
	}
	for _, b := range []string{"a", "b", "c"} {
		for _, rel := range []string{"z.txt", "to"} {
			if _, err := os.Stat(filepath.Join(h.data, b, rel)); err == nil {
				t.Errorf("board %s holds %s", b, rel)
			}
		}
	}
}

func TestSynthesizedFleetWithNoMatchingBoard(t *testing.T) {
	h := start(t, synthFleet(t, map[string]string{"deliverTo": "group:nowhere"}), Options{Boards: threeBoards})
	h.put("demo1.txt", []byte("x"))
	x := h.results(1)["demo1.txt"].Execution
	if x.Status != asl.StatusFailed || x.Error != contract.ErrNoBoards || !strings.Contains(x.Cause, "nowhere") {
		t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
	}
	if got := delivered(t, h, "demo1.txt", []byte("x")); len(got) != 0 {
		t.Errorf("delivered to %v", got)
	}
}

// offlineWait is bounded below by a minute; the Sleep hook runs the
// retry waits at once and counts them.
func TestSynthesizedFleetBoardOfflineDuringTheUpload(t *testing.T) {
	asm := synthFleet(t, map[string]string{"deliverTo": "all", "offlineWait": "1m"})
	t.Run("back within offlineWait", func(t *testing.T) {
		var waits atomic.Int32
		var h *harness
		h = start(t, asm, Options{Boards: threeBoards, Sleep: noWait(&waits, func(n int32) {
			if n == 2 {
				if err := h.p.SetConnected("b", true); err != nil {
					t.Error(err)
				}
			}
		})})
		if err := h.p.SetConnected("b", false); err != nil {
			t.Fatal(err)
		}
		body := []byte("b comes back")
		h.put("demo1.txt", body)
		r := h.results(1)["demo1.txt"]
		if r.Execution.Status != asl.StatusSucceeded {
			t.Fatalf("%s %s %s", r.Execution.Status, r.Execution.Error, r.Execution.Cause)
		}
		if got := delivered(t, h, "demo1.txt", body); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("delivered to %v", got)
		}
		if waits.Load() != 2 {
			t.Errorf("%d retry waits, want 2", waits.Load())
		}
	})
	t.Run("offline past offlineWait", func(t *testing.T) {
		var waits atomic.Int32
		var tally atomic.Value // TallyOutcomes' output: the outcomes the cause refers to
		h := start(t, asm, Options{Boards: threeBoards, Sleep: noWait(&waits, nil), Observer: func(_ string, e asl.Event) {
			if e.Kind == asl.EventStateExited && e.State == "TallyOutcomes" {
				tally.Store(e.Output)
			}
		}})
		if err := h.p.SetConnected("c", false); err != nil {
			t.Fatal(err)
		}
		body := []byte("c stays away")
		h.put("demo1.txt", body)
		x := h.results(1)["demo1.txt"].Execution
		if x.Status != asl.StatusFailed || x.Error != contract.ErrSomeBoardsFailed ||
			!strings.Contains(x.Cause, `offline ["c"], failed []`) {
			t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
		}
		out, _ := json.Marshal(tally.Load())
		var tallied struct {
			Tally struct {
				Undelivered []struct{ Board, Status, Cause string }
			}
		}
		if err := json.Unmarshal(out, &tallied); err != nil || len(tallied.Tally.Undelivered) != 1 ||
			tallied.Tally.Undelivered[0].Board != "c" || tallied.Tally.Undelivered[0].Status != contract.OutcomeOffline ||
			!strings.Contains(tallied.Tally.Undelivered[0].Cause, `"AGENT"`) {
			t.Errorf("TallyOutcomes: %s (%v)", out, err)
		}
		if got := delivered(t, h, "demo1.txt", body); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("delivered to %v", got)
		}
		if waits.Load() < 2 {
			t.Errorf("%d retry waits: the offline board must be retried", waits.Load())
		}
	})
}
