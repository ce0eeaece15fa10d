//go:build !linux

package fsync

import "os"

// Data makes f durable (File.Sync: no fdatasync here).
func Data(f *os.File) error { return f.Sync() }

// FileSystem is ErrNoSyncfs: no syncfs here.
func FileSystem(f *os.File) error { return ErrNoSyncfs }
