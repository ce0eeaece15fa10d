package fsync

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Data makes f's data (and the metadata needed to read it) durable.
func Data(f *os.File) error {
	serr, err := control(f, syscall.Fdatasync)
	if err != nil {
		return f.Sync()
	}
	return pathError("fdatasync", f, serr)
}

// FileSystem makes everything written to f's file system durable.
func FileSystem(f *os.File) error {
	serr, err := control(f, unix.Syncfs)
	if err != nil {
		return err
	}
	return pathError("syncfs", f, serr)
}

// control runs sync on f's descriptor, again when a signal interrupts it:
// serr is the call's error, err that of reaching the descriptor at all.
func control(f *os.File, sync func(fd int) error) (serr, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	err = rc.Control(func(fd uintptr) {
		for {
			if serr = sync(int(fd)); !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	})
	return serr, err
}

func pathError(op string, f *os.File, err error) error {
	if err != nil {
		return &os.PathError{Op: op, Path: f.Name(), Err: err}
	}
	return nil
}
