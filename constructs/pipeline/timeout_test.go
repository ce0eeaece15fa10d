package pipeline

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWorstCaseRetryWaits(t *testing.T) {
	// 5+10+20+40+60 s for ECS API errors; 15..240 s then five times the
	// 300-s cap for a busy board.
	for i, want := range []time.Duration{135 * time.Second, 1965 * time.Second} {
		if got := retries[i].worstCaseWait(); got != want {
			t.Errorf("retry %v: worst case %s, want %s", retries[i].errors, got, want)
		}
	}
}

func TestExecutionTimeoutOutlastsEveryRetryAndTheTask(t *testing.T) {
	for _, tc := range []struct{ task, want time.Duration }{
		{time.Minute, 57 * time.Minute},
		{30 * time.Minute, 86 * time.Minute},
		{2 * time.Hour, 176 * time.Minute},
		{24 * time.Hour, 24*time.Hour + 56*time.Minute},
	} {
		got := ExecutionTimeout(tc.task)
		if got != tc.want {
			t.Errorf("task %s: execution timeout %s, want %s", tc.task, got, tc.want)
		}
		var waits time.Duration
		attempts := 1
		for _, r := range retries {
			waits += r.worstCaseWait()
			attempts += r.maxAttempts
		}
		if floor := tc.task + waits + time.Duration(attempts)*attemptAllowance; got < floor {
			t.Errorf("task %s: %s < worst case %s: a slow board would end TIMED_OUT", tc.task, got, floor)
		}
		if got > 365*24*time.Hour {
			t.Errorf("task %s: %s is over the 1-year STANDARD limit", tc.task, got)
		}
	}
}

// offlineWait is a guarantee: the retries' least total wait (no jitter:
// their only one) covers it, with one retry fewer it would not, so a board
// back at any time within offlineWait is tried again after it is back.
func TestFleetOfflineRetriesCoverOfflineWait(t *testing.T) {
	for _, tc := range []struct {
		wait     time.Duration
		attempts int
		waited   time.Duration
	}{
		{time.Minute, 3, 105 * time.Second},                // 15+30+60 s
		{30 * time.Minute, 10, 1965 * time.Second},         // 15..240 s, then 5 × 300 s
		{2 * time.Hour, 28, 2*time.Hour + 165*time.Second}, // 15..240 s, then 23 × 300 s
	} {
		r := FleetTiming{TaskTimeout: 30 * time.Minute, OfflineWait: tc.wait}.offlineRetry()
		if r.maxAttempts != tc.attempts || r.leastWait() != tc.waited || r.leastWait() < tc.wait || !r.exact {
			t.Errorf("offlineWait %s: %d attempts, least wait %s (exact %v), want %d waiting %s (≥ offlineWait, no jitter)", tc.wait, r.maxAttempts, r.leastWait(), r.exact, tc.attempts, tc.waited)
		}
		fewer := r
		fewer.maxAttempts--
		if fewer.leastWait() >= tc.wait {
			t.Errorf("offlineWait %s: %d retries would do", tc.wait, fewer.maxAttempts)
		}
		if full := (retryPolicy{interval: time.Minute, maxAttempts: 99, backoff: 2, maxDelay: time.Hour}); full.leastWait() != 0 {
			t.Errorf("FULL jitter promises no least wait, got %s", full.leastWait())
		}
		if !slices.Equal(r.errors, OfflineErrors) {
			t.Errorf("offline rule retries %v", r.errors)
		}
	}
}

// The history bound (25,000 events per execution; a board offline for all
// of offlineWait costs the most) and the payload bound (256 KiB of state:
// the outcomes so far and one page's description) limit one execution.
func TestFleetHistoryAndPayloadBounds(t *testing.T) {
	fits := func(f FleetTiming, n int) (history, payload bool) {
		pages := (n + BoardsPerPage - 1) / BoardsPerPage
		return fixedEvents+pages*pageEvents+n*f.EventsPerBoard() <= MaxHistoryEvents,
			stateBytes+BoardsPerPage*describedBytes+(n+BoardsPerPage)*outcomeBytes <= MaxPayloadBytes
	}
	for _, tc := range []struct {
		wait           time.Duration
		perBoard, most int
	}{
		{time.Minute, 69, 336}, // with the ledger's worst 18 events per board
		{30 * time.Minute, 90, 261},
		{2 * time.Hour, 144, 167},
	} {
		f := FleetTiming{TaskTimeout: 30 * time.Minute, OfflineWait: tc.wait}
		if f.EventsPerBoard() != tc.perBoard || f.MaxFleet() != tc.most {
			t.Errorf("offlineWait %s: %d events per board, %d boards; want %d and %d", tc.wait, f.EventsPerBoard(), f.MaxFleet(), tc.perBoard, tc.most)
		}
		if h, p := fits(f, f.MaxFleet()); !h || !p {
			t.Errorf("offlineWait %s: %d boards exceed history (%v) or payload (%v)", tc.wait, f.MaxFleet(), !h, !p)
		}
		if h, p := fits(f, f.MaxFleet()+1); h && p {
			t.Errorf("offlineWait %s: %d boards would still fit", tc.wait, f.MaxFleet()+1)
		}
	}
}

// Every board of the largest fleet ends in an outcome before the execution
// times out: MaxFleet boards through MaxConcurrency slots, each taking its
// worst case (all retries, then the task's whole timeout).
func TestFleetExecutionTimeoutOutlastsTheLargestFleet(t *testing.T) {
	for _, tc := range []struct {
		task, wait, want time.Duration
	}{
		{30 * time.Minute, 30 * time.Minute, 25*time.Hour + 35*time.Minute},
		{time.Minute, time.Minute, 12*time.Hour + 20*time.Minute},
		{24 * time.Hour, 2 * time.Hour, 244*time.Hour + 5*time.Minute},
	} {
		f := FleetTiming{TaskTimeout: tc.task, OfflineWait: tc.wait}
		got := f.ExecutionTimeout()
		if got != tc.want {
			t.Errorf("task %s, offlineWait %s: %s, want %s", tc.task, tc.wait, got, tc.want)
		}
		// Both task states' attempts, the spread wait, every retry's wait.
		perBoard := tc.task + 2*attemptAllowance + offlineSpread
		for _, r := range f.retries() {
			perBoard += r.worstCaseWait() + time.Duration(r.maxAttempts)*attemptAllowance
		}
		if floor := time.Duration(f.MaxFleet()/MaxConcurrency+1) * perBoard; got < floor {
			t.Errorf("task %s: %s < %s: the last boards would end TIMED_OUT", tc.task, got, floor)
		}
		if got > 365*24*time.Hour {
			t.Errorf("%s is over the 1-year STANDARD limit", got)
		}
	}
}

// A paged delivery: each child (BoardsPerChild boards, every one at its
// worst) and the parent of 10,000 boards stay within 25,000 history
// events; the child's timeout outlasts its boards, the parent's outlasts
// every page one after another, and both stay within a year.
func TestPagedFleetHistoryAndTimeouts(t *testing.T) {
	for _, tc := range []struct {
		task, wait            time.Duration
		childEvents           int
		childTimeout, timeout time.Duration
	}{
		{30 * time.Minute, 30 * time.Minute, 7550, 9*time.Hour + 29*time.Minute, 961*time.Hour + 45*time.Minute},
		{time.Minute, time.Minute, 5450, 2*time.Hour + 47*time.Minute, 291*time.Hour + 45*time.Minute},
	} {
		f := FleetTiming{TaskTimeout: tc.task, OfflineWait: tc.wait}
		if got := f.PageEvents(BoardsPerChild); got != tc.childEvents || got > MaxHistoryEvents {
			t.Errorf("task %s: a child of %d boards at worst: %d events, want %d (≤ %d)", tc.task, BoardsPerChild, got, tc.childEvents, MaxHistoryEvents)
		}
		if got := PagedEvents(10_000); got != 22+100*parentPageEvents || got > MaxHistoryEvents {
			t.Errorf("parent of 10,000 boards: %d events", got)
		}
		if got := f.PageTimeout(); got != tc.childTimeout || got < time.Duration(BoardsPerChild/MaxConcurrency+1)*f.boardBudget() {
			t.Errorf("task %s: child timeout %s, want %s (≥ its boards' rounds)", tc.task, got, tc.childTimeout)
		}
		if got := f.PagedTimeout(10_000); got != tc.timeout || got < 100*f.PageTimeout() || got > MaxExecutionDuration {
			t.Errorf("task %s: parent timeout %s, want %s (≥ 100 children, ≤ a year)", tc.task, got, tc.timeout)
		}
		if err := f.CheckPagedFleet(10_000); err != nil {
			t.Error(err)
		}
	}
	// A 24-h task with a 2-h offlineWait cannot page 10,000 boards within a
	// year: the error names the most it can.
	long := FleetTiming{TaskTimeout: 24 * time.Hour, OfflineWait: 2 * time.Hour}
	err := long.CheckPagedFleet(10_000)
	if err == nil || !strings.Contains(err.Error(), "lower maxBoards to 5400") {
		t.Errorf("24h/2h: %v", err)
	}
	if long.PagedTimeout(5400) > MaxExecutionDuration || long.PagedTimeout(5500) <= MaxExecutionDuration {
		t.Errorf("24h/2h: 5,400 boards %s, 5,500 %s", long.PagedTimeout(5400), long.PagedTimeout(5500))
	}
}
