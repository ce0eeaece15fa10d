// Package dirfd opens files by a single name in a directory that is
// already open: one openat(2), where os.Root's and os.OpenFile's opens
// also try to register each file with the runtime's poller (fcntl F_GETFL,
// F_SETFL twice and a refused epoll_ctl: 5 more system calls a file,
// measured with strace), which a regular file never uses. The state dir
// opens three files per delivery (its lock, its partial, its record), and
// a sync reads a record per listed key.
//
// A name is one path component (the state dir's hex names): nothing is
// walked, and O_NOFOLLOW refuses a symlink in its place.
package dirfd

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Open opens name in dir with flag (os.O_* flags) and, when it creates
// the file, perm.
func Open(dir *os.File, name string, flag int, perm os.FileMode) (*os.File, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return nil, &os.PathError{Op: "open", Path: name, Err: unix.EINVAL}
	}
	for {
		fd, err := unix.Openat(int(dir.Fd()), name, flag|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
