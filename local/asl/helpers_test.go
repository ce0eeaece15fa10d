package asl_test

// The tests of this package are external (package asl_test) so that they
// share asltest with the pipeline's definition tests; asltest imports
// asl, so they dot-import it to read as if inside the package (Go Code
// Review Comments, "Import Dot"). export_test.go lends them the few
// internals they check directly.

import (
	"context"
	"testing"

	. "github.com/edge-drop/edge-drop/local/asl"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// run executes def on input with tasks answering its Task states and sl
// its waits (nil: none scripted, waits recorded), JITTER draws fixed at
// 0.5.
func run(t *testing.T, def string, input string, tasks *asltest.Tasks, sl *asltest.Sleeps) *Execution {
	t.Helper()
	m := asltest.MustParse(t, def)
	if tasks == nil {
		tasks = asltest.NewTasks(nil)
	}
	if sl == nil {
		sl = &asltest.Sleeps{}
	}
	return m.Execute(context.Background(), asltest.JSON(t, input), Options{Task: tasks.Handle, Sleep: sl.Sleep, Rand: func() float64 { return 0.5 }})
}
