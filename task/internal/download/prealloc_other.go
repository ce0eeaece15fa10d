//go:build !linux

package download

import (
	"errors"
	"os"
)

func allocate(f *os.File, size int64, _ bool, _ int64) error { return preallocate(f, size) }

func preallocate(f *os.File, size int64) error {
	if size <= 0 {
		return nil
	}
	return f.Truncate(size)
}

// fsSpace is unknown here: no floor is enforced.
func fsSpace(f *os.File) (total, free int64, mem bool, err error) { return 0, 0, false, errNoStatfs }

var errNoStatfs = errors.New("free space unknown on this platform")

func allocated(f *os.File) int64 { return 0 }
