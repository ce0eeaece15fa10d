package pipeline

import (
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
