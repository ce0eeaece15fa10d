package pipeline

import (
	"fmt"
	"time"
)

// FleetTiming is what bounds a fleet delivery in time and in history
// events: the task's timeout and how long an offline board is retried.
type FleetTiming struct {
	TaskTimeout time.Duration
	OfflineWait time.Duration
}

// attemptAllowance is what one RunTask attempt that fails before a task
// exists may take (the API call, Step Functions' scheduling); executionMargin
// covers the other states and the task's stop and report.
const (
	attemptAllowance = time.Minute
	executionMargin  = 5 * time.Minute
)

// RetryBudget is the worst-case time the download state spends before its
// last attempt: every retry's wait plus every failed attempt. The retried
// errors come from RunTask itself (placement, throttling), before a task
// runs, so only the last attempt runs for up to the task timeout.
func RetryBudget() time.Duration {
	var budget time.Duration
	for _, r := range retries {
		budget += r.worstCaseWait() + time.Duration(r.maxAttempts)*attemptAllowance
	}
	return budget
}

// ExecutionTimeout is the state machine's TimeoutSeconds for a task
// timeout: long enough that every Retry and the task's own timeout end in a
// state with a Catch (DeliveryFailed) instead of an execution TIMED_OUT,
// which nothing catches. Whole minutes.
func ExecutionTimeout(taskTimeout time.Duration) time.Duration {
	return (taskTimeout + attemptAllowance + RetryBudget() + executionMargin).Round(time.Minute)
}

// executionTimeout is ExecutionTimeout or, for a fleet target,
// FleetTiming.ExecutionTimeout; with deletes under "any" the longer one.
func (p Props) executionTimeout() time.Duration {
	timing := p.timing()
	fleet := timing.ExecutionTimeout()
	switch {
	case p.paged() && p.MirrorDeletes: // paged deliveries, deletes in one execution
		return max(timing.PagedTimeout(p.MaxBoards), fleet)
	case p.paged():
		return timing.PagedTimeout(p.MaxBoards)
	case p.Target.Kind != TargetAny:
		return fleet
	case p.MirrorDeletes: // deliveries to one board, deletes on every board
		return max(ExecutionTimeout(p.TaskTimeout), fleet)
	}
	return ExecutionTimeout(p.TaskTimeout)
}

// timeout is the execution's TimeoutSeconds. A batch runs its parts one
// after another, each as long as one delivery may take; at worst every
// event of the batch is a part of its own (keys too long to share a list).
func (p Props) timeout() time.Duration {
	if p.CoalesceWindow > 0 {
		return p.executionTimeout() * CoalesceBatchSize
	}
	return p.executionTimeout()
}

// boardBudget is the longest one iteration can take: every retry's wait
// and failed attempt of both task states, the spread wait, then the task
// for its whole timeout.
func (t FleetTiming) boardBudget() time.Duration {
	d := t.TaskTimeout + time.Duration(t.attempts())*attemptAllowance + offlineSpread
	for _, r := range t.retries() {
		d += r.worstCaseWait()
	}
	return d
}

// ExecutionTimeout is the state machine's TimeoutSeconds for a fleet: the
// largest fleet (MaxFleet) through MaxConcurrency slots, each board as long
// as its worst case (list scheduling ends within n/C+1 board times), plus
// the listing and the margin. So every board ends in an outcome rather
// than the execution TIMED_OUT.
func (t FleetTiming) ExecutionTimeout() time.Duration {
	n := t.MaxFleet()
	rounds := n/MaxConcurrency + 1
	pages := (n + BoardsPerPage - 1) / BoardsPerPage
	listing := time.Duration(pages*listingCalls) * (sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance)
	return (time.Duration(rounds)*t.boardBudget() + listing + executionMargin).Round(time.Minute)
}

// PageTimeout is a child execution's TimeoutSeconds: its BoardsPerChild
// boards through MaxConcurrency slots at their worst, describing them in
// chunks (each call with every retry), and the margin.
func (t FleetTiming) PageTimeout() time.Duration {
	rounds := BoardsPerChild/MaxConcurrency + 1
	chunks := (BoardsPerChild + BoardsPerPage - 1) / BoardsPerPage
	describe := time.Duration(chunks) * (sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance)
	return (time.Duration(rounds)*t.boardBudget() + describe + executionMargin).Round(time.Minute)
}

// PagedTimeout is the parent's TimeoutSeconds for maxBoards boards: the
// pages run one after the other, each its listing at worst and its child
// for all of PageTimeout, and the margin. So a child ends (in its own
// summary or TIMED_OUT, which the parent catches) before the parent does.
func (t FleetTiming) PagedTimeout(maxBoards int) time.Duration {
	pages := (maxBoards + BoardsPerChild - 1) / BoardsPerChild
	list := sdkRetry.worstCaseWait() + time.Duration(1+sdkRetry.maxAttempts)*attemptAllowance
	return (time.Duration(pages)*(list+attemptAllowance+t.PageTimeout()) + executionMargin).Round(time.Minute)
}

// MaxExecutionDuration is the STANDARD workflow's limit: one year.
const MaxExecutionDuration = 365 * 24 * time.Hour

// CheckPagedFleet says whether maxBoards boards can be delivered within
// one STANDARD execution's year with these timings (a 24-h task with a
// 2-h offlineWait cannot reach 10,000 boards one page after another).
func (t FleetTiming) CheckPagedFleet(maxBoards int) error {
	if maxBoards <= t.MaxFleet() {
		return nil
	}
	if d := t.PagedTimeout(maxBoards); d > MaxExecutionDuration {
		most := 0
		for n := BoardsPerChild; t.PagedTimeout(n) <= MaxExecutionDuration; n += BoardsPerChild {
			most = n
		}
		return fmt.Errorf("maxBoards=%d with taskTimeout=%s and offlineWait=%s needs an execution of up to %d days, over Step Functions' one year: lower maxBoards to %d or less, or taskTimeout or offlineWait",
			maxBoards, t.TaskTimeout, t.OfflineWait, int(d.Hours()/24+0.5), most)
	}
	return nil
}

// CheckCoalesce says whether a batch can end within one STANDARD
// execution's year: its parts run one after another, at worst one part per
// event of the batch (keys long enough that one fills a task's list), each
// as long as one delivery may take (a 24-h task with a 2-h offlineWait to
// a fleet cannot: its batches would outlast the year).
func CheckCoalesce(taskTimeout, offlineWait time.Duration, target TargetKind, deletes bool) error {
	p := Props{
		Flow:           Flow{TaskTimeout: taskTimeout, OfflineWait: offlineWait, Target: Target{Kind: target}, MirrorDeletes: deletes},
		CoalesceWindow: time.Second,
	}
	if d := p.timeout(); d > MaxExecutionDuration {
		return fmt.Errorf("coalesceWindow with taskTimeout=%s and offlineWait=%s: a batch of up to %d parts may need %d days, over Step Functions' one year: lower taskTimeout or offlineWait, or set coalesceWindow=off",
			taskTimeout, offlineWait, CoalesceBatchSize, int(d.Hours()/24+0.5))
	}
	return nil
}
