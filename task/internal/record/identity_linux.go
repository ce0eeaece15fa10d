package record

import (
	"io/fs"
	"syscall"
)

// IdentityOf returns the identity of a regular file from its FileInfo
// (Lstat/Stat/fstat: no further system call). ok is false for anything
// else.
func IdentityOf(fi fs.FileInfo) (Identity, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return Identity{}, false
	}
	return Identity{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size,
		MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano(),
	}, true
}
