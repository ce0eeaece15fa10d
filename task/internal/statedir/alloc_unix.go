//go:build unix

package statedir

import (
	"os"
	"syscall"
	"time"
)

// usage is the disk space f uses (a preallocated partial uses its full
// size however little was written) and its ctime: when it was last
// written, which nobody can set back.
func usage(f *os.File) (int64, time.Time) {
	fi, err := f.Stat()
	if err != nil {
		return 0, time.Time{}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512, time.Unix(st.Ctim.Unix())
	}
	return fi.Size(), fi.ModTime()
}
