package download

import (
	"errors"
	"os"
	"syscall"
)

// preallocate reserves size bytes so a full disk fails before the download
// rather than at its end, and the file is laid out contiguously on the SD
// card. File systems without fallocate get a sparse Truncate.
func preallocate(f *os.File, size int64) error {
	if size <= 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Truncate(size)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Fallocate(int(fd), 0, 0, size) }); err != nil {
		return f.Truncate(size)
	}
	if ferr == nil {
		return nil
	}
	if errors.Is(ferr, syscall.ENOSPC) || errors.Is(ferr, syscall.EDQUOT) || errors.Is(ferr, syscall.EFBIG) {
		return ferr
	}
	return f.Truncate(size)
}
