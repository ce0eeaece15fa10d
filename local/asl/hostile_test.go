package asl_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// Definitions and handlers that try to break the interpreter: every one
// ends as a failed execution, never as a panic or a wrong wait.

const taskDef = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`

func TestHandlerErrorsThatPanicBecomeTaskFailed(t *testing.T) {
	var nilNamed *Error
	var nilPath *os.PathError
	for name, err := range map[string]error{
		"typed-nil *Error":         nilNamed,
		"typed-nil *os.PathError":  nilPath,
		"Error method that panics": panickyError{},
	} {
		t.Run(name, func(t *testing.T) {
			m := asltest.MustParse(t, taskDef)
			e := m.Execute(context.Background(), map[string]any{}, Options{Task: func(context.Context, string, any) (any, error) {
				return nil, err
			}})
			asltest.Equal(t, "status", e.Status, StatusFailed)
			asltest.Equal(t, "error", e.Error, ErrTaskFailed)
			if !strings.Contains(e.Cause, "task handler") {
				t.Errorf("cause %q should blame the task handler", e.Cause)
			}
		})
	}
}

type panickyError struct{}

func (panickyError) Error() string { panic("no message") }

type panickyResult struct{}

func (panickyResult) MarshalJSON() ([]byte, error) { panic("cannot marshal") }

func TestHandlerResultThatPanicsBecomesTaskFailed(t *testing.T) {
	m := asltest.MustParse(t, taskDef)
	e := m.Execute(context.Background(), map[string]any{}, Options{Task: func(context.Context, string, any) (any, error) {
		return panickyResult{}, nil
	}})
	asltest.Equal(t, "status", e.Status, StatusFailed)
	asltest.Equal(t, "error", e.Error, ErrTaskFailed)
}

func TestObserverPanicFailsTheExecution(t *testing.T) {
	for _, kind := range []EventKind{EventExecutionStarted, EventStateEntered, EventStateExited, EventExecutionEnded} {
		t.Run(string(kind), func(t *testing.T) {
			m := asltest.MustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"T"},"T":{"Type":"Task","Resource":"r","End":true}}}`)
			calls := 0
			e := m.Execute(context.Background(), map[string]any{}, Options{
				Task: func(context.Context, string, any) (any, error) { calls++; return "ok", nil },
				Observer: func(ev Event) {
					if ev.Kind == kind {
						panic("observer bug")
					}
				},
			})
			asltest.Equal(t, "status", e.Status, StatusFailed)
			asltest.Equal(t, "error", e.Error, ErrRuntime)
			if !strings.Contains(e.Cause, "Observer panicked: observer bug") {
				t.Errorf("cause %q", e.Cause)
			}
			if kind == EventExecutionStarted && calls != 0 {
				t.Errorf("the task ran %d times after the observer failed", calls)
			}
		})
	}
}

// The AWS limits: TimeoutSeconds, HeartbeatSeconds, Wait Seconds and
// Retry IntervalSeconds/MaxAttempts up to 99999999, MaxDelaySeconds below
// 31622401. Beyond them time.Duration would overflow.
func TestParseRejectsValuesBeyondTheAWSLimits(t *testing.T) {
	task := func(fields string) string {
		return `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r",` + fields + `"End":true}}}`
	}
	retry := func(fields string) string { return task(`"Retry":[{"ErrorEquals":["X"],` + fields + `}],`) }
	for _, c := range []struct{ def, field string }{
		{`{"StartAt":"A","TimeoutSeconds":100000000,"States":{"A":{"Type":"Succeed"}}}`, "TimeoutSeconds"},
		{task(`"TimeoutSeconds":100000000,`), "TimeoutSeconds"},
		{task(`"TimeoutSeconds":9223372036,`), "TimeoutSeconds"},
		{task(`"HeartbeatSeconds":100000000,`), "HeartbeatSeconds"},
		{task(`"HeartbeatSeconds":0,`), "HeartbeatSeconds"},
		{task(`"TimeoutSeconds":10,"HeartbeatSeconds":10,`), "HeartbeatSeconds"},
		{`{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":100000000,"End":true}}}`, "Seconds"},
		{retry(`"IntervalSeconds":100000000`), "IntervalSeconds"},
		{retry(`"MaxAttempts":100000000`), "MaxAttempts"},
		{retry(`"MaxDelaySeconds":31622401`), "MaxDelaySeconds"},
	} {
		_, err := Parse([]byte(c.def))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming %s", c.def, err, c.field)
		}
	}
	for _, def := range []string{
		`{"StartAt":"A","TimeoutSeconds":99999999,"States":{"A":{"Type":"Wait","Seconds":99999999,"End":true}}}`,
		task(`"TimeoutSeconds":99999999,"HeartbeatSeconds":99999998,`),
		retry(`"IntervalSeconds":99999999,"MaxAttempts":99999999,"MaxDelaySeconds":31622400`),
	} {
		if _, err := Parse([]byte(def)); err != nil {
			t.Errorf("%s: %v", def, err)
		}
	}
}

// Values that come from the input at run time, and retry backoff, saturate
// instead of wrapping around to a negative duration.
func TestDurationsSaturate(t *testing.T) {
	t.Run("SecondsPath", func(t *testing.T) {
		sl := &asltest.Sleeps{}
		e := run(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":1e12}`, asltest.NewTasks(nil), sl)
		asltest.Equal(t, "status", e.Status, StatusSucceeded)
		asltest.Equal(t, "wait", sl.Delays(), []time.Duration{math.MaxInt64})
	})
	t.Run("TimeoutSecondsPath", func(t *testing.T) {
		m := asltest.MustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","TimeoutSecondsPath":"$.t","End":true}}}`)
		var left time.Duration
		e := m.Execute(context.Background(), asltest.JSON(t, `{"t":10000000000000}`), Options{Task: func(ctx context.Context, _ string, _ any) (any, error) {
			deadline, ok := ctx.Deadline()
			if !ok {
				return nil, fmt.Errorf("no deadline")
			}
			left = time.Until(deadline)
			return "ok", ctx.Err()
		}})
		asltest.Equal(t, "status", e.Status, StatusSucceeded)
		if left < 100*365*24*time.Hour {
			t.Errorf("the task's deadline is %s away, want practically never", left)
		}
	})
	t.Run("Retry backoff", func(t *testing.T) {
		sl := &asltest.Sleeps{}
		e := run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"IntervalSeconds":99999999,"BackoffRate":1000,"MaxAttempts":5}],"End":true}}}`,
			`{}`, asltest.NewTasks(map[string][]asltest.Outcome{"r": {{Error: "X"}}}), sl)
		asltest.Equal(t, "error", e.Error, "X")
		asltest.Equal(t, "waits", len(sl.Delays()), 5)
		for i, d := range sl.Delays() {
			if d <= 0 || (i > 0 && d < sl.Delays()[i-1]) {
				t.Fatalf("retry waits %v: want positive and growing", sl.Delays())
			}
		}
		asltest.Equal(t, "last wait", sl.Delays()[4], time.Duration(math.MaxInt64))
	})
}

// AWS limits a cause to 32,768 characters; a States.Runtime cause that
// quotes a 1 MB input is cut there.
func TestCausesAreCutToTheAWSLimit(t *testing.T) {
	big := strings.Repeat("ü", 1<<20)
	e := run(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.missing","End":true}}}`, `{"big":"`+big+`"}`, asltest.NewTasks(nil), &asltest.Sleeps{})
	asltest.Equal(t, "error", e.Error, ErrRuntime)
	if n := utf8.RuneCountInString(e.Cause); n != MaxCauseChars || !utf8.ValidString(e.Cause) {
		t.Errorf("cause has %d characters (valid UTF-8: %v), want %d", n, utf8.ValidString(e.Cause), MaxCauseChars)
	}
	if !strings.Contains(e.Cause, "$.missing") {
		t.Errorf("the cut cause lost its start: %.200s", e.Cause)
	}
	if got := e.Path[0].Cause; got != e.Cause {
		t.Errorf("the step's cause is not cut the same way (%d bytes)", len(got))
	}

	long := strings.Repeat("x", MaxCauseChars+10)
	e = run(t, taskDef, `{}`, asltest.NewTasks(map[string][]asltest.Outcome{"r": {{Error: "Big", Cause: long}}}), &asltest.Sleeps{})
	asltest.Equal(t, "task error cause length", len(e.Cause), MaxCauseChars)
}

func TestArrayUniqueIsLinear(t *testing.T) {
	// 40,000 distinct items: the pairwise version took over 40 s.
	items := make([]any, 40000)
	for i := range items {
		items[i] = map[string]any{"i": Num(int64(i)), "s": fmt.Sprint(i)}
	}
	done := make(chan error, 1)
	go func() {
		out, err := FnArrayUnique([]any{items})
		if err == nil && len(out.([]any)) != len(items) {
			err = fmt.Errorf("kept %d of %d distinct items", len(out.([]any)), len(items))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("States.ArrayUnique of 40,000 items took more than 20 s")
	}
}

func TestArrayUniqueEquality(t *testing.T) {
	got, err := evalIntrinsic(t, `States.ArrayUnique($.a)`,
		`{"a":[1,1.0,10e-1,"1",-0,0,{"x":1,"y":[2,{"z":null}]},{"y":[2,{"z":null}],"x":1.0},[1,"a"],[1,"a"],["a",1],true,true,false,null,null,{},[],"",""]}`)
	if err != nil {
		t.Fatal(err)
	}
	asltest.AssertJSON(t, got, `[1,"1",-0,{"x":1,"y":[2,{"z":null}]},[1,"a"],["a",1],true,false,null,{},[],""]`)
}

// AWS rounds non-integer arguments of the math and array intrinsics to the
// nearest integer; States.MathAdd takes 32-bit integers.
func TestIntrinsicIntegerArguments(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`States.MathAdd(1.5, 1)`, `3`},
		{`States.MathAdd(-1.5, 0)`, `-1`},
		{`States.MathAdd(2.4, 0.6)`, `3`},
		{`States.MathAdd(2147483647, 2147483647)`, `4294967294`},
		{`States.MathAdd(-2147483648, 0)`, `-2147483648`},
		{`States.ArrayRange(0.6, 3.4, 1)`, `[1,2,3]`},
		{`States.ArrayRange(1, 2, 0.5)`, `[1,2]`},
		{`States.ArrayPartition(States.Array(1,2,3), 1.6)`, `[[1,2],[3]]`},
	} {
		got, err := evalIntrinsic(t, c.expr, `{}`)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if g, w := asltest.Canon(t, got), asltest.Canon(t, asltest.JSON(t, c.want)); g != w {
			t.Errorf("%s = %s, want %s", c.expr, g, w)
		}
	}
	for i := 0; i < 20; i++ {
		r, err := evalIntrinsic(t, `States.MathRandom(1.4, 2.5)`, `{}`)
		if f, _ := ToFloat(r); err != nil || (f != 1 && f != 2) {
			t.Fatalf("MathRandom(1.4, 2.5) = %v, %v; want 1 or 2 (range [1, 3))", r, err)
		}
	}
	for _, c := range []struct{ expr, want string }{
		{`States.MathAdd(2147483648, 0)`, "-2147483648 to 2147483647"},
		{`States.MathAdd(0, -2147483649)`, "argument 2"},
		{`States.MathAdd(1e300, 0)`, "argument 1"},
		{`States.ArrayRange(1, 2, 0.4)`, "non-zero"},
		{`States.ArrayPartition(States.Array(1), 0.4)`, "positive"},
	} {
		_, err := evalIntrinsic(t, c.expr, `{}`)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want containing %q", c.expr, err, c.want)
		}
	}
}
