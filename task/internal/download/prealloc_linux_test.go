package download

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// memDir returns a directory on tmpfs (/dev/shm), or skips.
func memDir(t *testing.T) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "edge-drop-prealloc-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestPreallocateTmpfs(t *testing.T) {
	dir := memDir(t)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	tests := []struct {
		name    string
		size    int64
		wantErr error
	}{
		{"fits: sized, no page written", 64 << 20, nil},
		{"too big: ENOSPC before any byte", free + 1<<30, syscall.ENOSPC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.CreateTemp(dir, "p")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = preallocate(f, tt.size)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("preallocate(%d) = %v, want %v", tt.size, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			var fst syscall.Stat_t
			if err := syscall.Fstat(int(f.Fd()), &fst); err != nil {
				t.Fatal(err)
			}
			// fallocate would have zeroed 64 MiB of pages (Blocks = 131072).
			if fst.Size != tt.size || fst.Blocks != 0 {
				t.Errorf("size %d, %d blocks allocated; want %d and 0 (checked, not zero-filled)", fst.Size, fst.Blocks, tt.size)
			}
		})
	}
}

func TestPreallocateDiskReserves(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "p")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Statfs_t
	const ext4Magic = 0xef53 // ext2/3/4: fallocate reserves extents without writing them
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != ext4Magic {
		t.Skip("temp dir is not on ext4")
	}
	const size = 4 << 20
	if err := preallocate(f, size); err != nil {
		t.Fatal(err)
	}
	var fst syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &fst); err != nil {
		t.Fatal(err)
	}
	if fst.Size != size || fst.Blocks*512 < size {
		t.Fatalf("size %d, %d blocks; want %d bytes reserved", fst.Size, fst.Blocks, size)
	}
}
