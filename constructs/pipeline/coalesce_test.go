package pipeline

import (
	"strings"
	"testing"
	"time"
)

// A batch's worst case (one part per event, each a whole delivery) must end
// within the year; the defaults do with room to spare, the longest
// timings to a fleet do not and are refused.
func TestCheckCoalesceBoundsABatchByTheYear(t *testing.T) {
	if err := CheckCoalesce(30*time.Minute, 30*time.Minute, TargetAll, false); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := CheckCoalesce(30*time.Minute, 30*time.Minute, TargetAny, false); err != nil {
		t.Errorf("defaults, any: %v", err)
	}
	p := Props{Flow: Flow{TaskTimeout: 24 * time.Hour, OfflineWait: 2 * time.Hour, Target: Target{Kind: TargetAll}}, CoalesceWindow: time.Second}
	err := CheckCoalesce(24*time.Hour, 2*time.Hour, TargetAll, false)
	if (p.timeout() > MaxExecutionDuration) != (err != nil) {
		t.Fatalf("timeout %s, error %v: an error exactly when over the year", p.timeout(), err)
	}
	if err != nil && !strings.Contains(err.Error(), "coalesceWindow=off") {
		t.Errorf("the error names no fix: %v", err)
	}
	if got, want := p.timeout(), p.executionTimeout()*CoalesceBatchSize; got != want {
		t.Errorf("batch timeout %s, want %d parts of %s", got, CoalesceBatchSize, p.executionTimeout())
	}
}
