// Package jsiiproc stops the jsii runtime's node process, quietly.
package jsiiproc

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/aws/jsii-runtime-go"
)

// abnormal is the line jsii-runtime-go's watcher goroutine prints when it
// loses the race to reap the child (see Close).
var abnormal = []byte("Runtime process exited abnormally: waitid: no child processes")

// grace is how long Close keeps standard error captured after jsii.Close
// returns, waiting for that line: the watcher goroutine is runnable as soon
// as the child is reaped, so it prints within a scheduling delay.
const grace = 500 * time.Millisecond

// Close stops the jsii node process and removes the runtime it unpacked
// into the temp dir (jsii-runtime.*, 2.2 MB); a process that never closes
// it leaves that behind. jsii-runtime-go waits for its child twice (once
// in a watcher goroutine, once in Close); when Close's wait wins, the
// watcher gets ECHILD and prints "Runtime process exited abnormally:
// waitid: no child processes" although the child exited cleanly with
// status 0 (jsii-runtime-go v1.139.0 internal/kernel/process), and it
// prints it after jsii.Close has returned. So standard error is captured
// at the file-descriptor level (swapping the os.Stderr variable would race
// with that goroutine) from before jsii.Close until that line arrives or
// grace passes; anything else written meanwhile is passed on. When the
// watcher wins nothing is printed and Close returns after grace. Closing
// a runtime that never started does nothing and returns at once.
func Close() {
	if !started() {
		jsii.Close()
		return
	}
	c := captureStderr()
	jsii.Close()
	c.release(abnormal, grace)
}

// started says whether this process has a node child (the jsii runtime
// holding our pipes): without one there is nothing to wait for. It reads
// /proc; where that fails it assumes one.
func started() bool {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	self := []byte(") ")
	ppid := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after
		// the last ") ".
		i := bytes.LastIndex(stat, self)
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+len(self):])
		if len(f) > 1 && string(f[1]) == ppid && bytes.Contains(stat[:i], []byte("(node")) {
			return true
		}
	}
	return false
}
