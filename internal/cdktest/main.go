package cdktest

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/edge-drop/edge-drop/internal/jsiiproc"
)

// Main runs a test package whose test binary links the CDK: use it as
//
//	func TestMain(m *testing.M) { cdktest.Main(m.Run) }
//
// (run may set up and tear down more around m.Run). jsii-runtime-go
// unpacks its runtime (jsii-runtime.*, 2.2 MB) into the temp dir as soon
// as the CDK packages initialise, before TestMain, and removes it only when
// jsii is closed: a test binary that just exits leaves it behind. Main
// closes jsii after the tests, and runs them with TMPDIR pointing at a
// directory of the package's own (for t.TempDir, os.MkdirTemp, the jsii
// kernel's files and the processes the tests start); anything left there
// fails the package with its name, and the directory is removed.
func Main(run func() int) { os.Exit(isolated(run, os.Stderr)) }

// isolated is Main without the exit: run's status, 1 when it left
// something in its temp dir (said on w).
func isolated(run func() int, w io.Writer) int {
	dir, err := os.MkdirTemp("", "p")
	if err == nil {
		defer os.Setenv("TMPDIR", os.Getenv("TMPDIR"))
		err = os.Setenv("TMPDIR", dir)
	}
	if err != nil {
		fmt.Fprintln(w, "cdktest: a temp dir for the package:", err)
		return 1
	}
	code := run()
	jsiiproc.Close()
	if left := leftovers(dir); len(left) > 0 {
		fmt.Fprintf(w, "cdktest: the tests left %s in the temp dir: each test writes under t.TempDir(), closes what it starts (jsii: jsiiproc.Close)\n", strings.Join(left, ", "))
		if code == 0 {
			code = 1
		}
	}
	_ = os.RemoveAll(dir)
	return code
}

func leftovers(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
