//go:build unix

package jsiiproc

import (
	"os"

	"golang.org/x/sys/unix"
)

// muteStderr points file descriptor 2 at /dev/null and returns a function
// that points it back.
func muteStderr() (restore func()) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	defer devNull.Close()
	saved, err := unix.Dup(2)
	if err != nil {
		return func() {}
	}
	if err := unix.Dup2(int(devNull.Fd()), 2); err != nil {
		unix.Close(saved)
		return func() {}
	}
	return func() {
		_ = unix.Dup2(saved, 2)
		_ = unix.Close(saved)
	}
}
