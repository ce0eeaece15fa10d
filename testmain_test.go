package main

import (
	"testing"

	"github.com/edge-drop/edge-drop/internal/cdktest"
)

// The tests build and run the CDK app, make and the scripts: each under a
// temp dir of the package's own that must be empty at the end.
func TestMain(m *testing.M) { cdktest.Main(m.Run) }
