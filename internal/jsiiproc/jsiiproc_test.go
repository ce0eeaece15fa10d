package jsiiproc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Without a node child there is nothing to wait for: Close returns at once.
func TestCloseWithoutARuntimeReturnsAtOnce(t *testing.T) {
	if started() {
		t.Skip("this test process has a node child")
	}
	start := time.Now()
	Close()
	if d := time.Since(start); d > grace/2 {
		t.Errorf("Close took %s with no runtime to stop", d)
	}
}

// The line jsii's watcher prints after Close returns is dropped; anything
// else written to standard error meanwhile is passed on.
func TestReleaseDropsTheLineAndPassesTheRest(t *testing.T) {
	if os.Getenv("JSIIPROC_CHILD") == "1" {
		c := captureStderr()
		go func() {
			time.Sleep(50 * time.Millisecond) // after "Close" returned, as jsii's goroutine does
			os.Stderr.Write([]byte("keep this\n"))
			os.Stderr.Write(abnormal)
		}()
		c.release(abnormal, 5*time.Second)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReleaseDropsTheLineAndPassesTheRest$")
	cmd.Env = append(os.Environ(), "JSIIPROC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "keep this") || strings.Contains(got, string(abnormal)) {
		t.Errorf("stderr: %q, want %q passed on and the jsii line dropped", got, "keep this")
	}
}
