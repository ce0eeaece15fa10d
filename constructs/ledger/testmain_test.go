package ledger_test

import (
	"testing"

	"github.com/edge-drop/edge-drop/internal/cdktest"
)

// The tests start the jsii runtime: cdktest.Main closes it and leaves
// nothing in the temp dir.
func TestMain(m *testing.M) { cdktest.Main(m.Run) }
