// Package jsiiproc stops the jsii runtime's node process, quietly.
package jsiiproc

import "github.com/aws/jsii-runtime-go"

// Close stops the jsii node process and removes the runtime it unpacked
// into the temp dir (jsii-runtime.*, 2.2 MB); a process that never closes
// it leaves that behind. jsii-runtime-go waits for its child twice (once
// in a watcher goroutine, once in Close); the loser of the race gets ECHILD
// and prints "Runtime process exited abnormally: waitid: no child
// processes" although the child exited cleanly with status 0
// (jsii-runtime-go v1.139.0 internal/kernel/process). All output is written
// by now, so that one line is dropped: standard error is pointed at
// /dev/null at the file-descriptor level while jsii closes (swapping the
// os.Stderr variable instead would race with jsii's goroutine). Closing a
// runtime that never started does nothing.
func Close() {
	restore := muteStderr()
	defer restore()
	jsii.Close()
}
