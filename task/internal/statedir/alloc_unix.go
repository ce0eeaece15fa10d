//go:build unix

package statedir

import (
	"os"
	"syscall"
)

// allocated is the disk space f uses: a preallocated temp file uses its
// full size even if the download stopped early.
func allocated(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
