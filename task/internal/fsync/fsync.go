// Package fsync makes written bytes durable with the narrowest flush the
// platform has: fdatasync(2) for one file, syncfs(2) for everything written
// to one file system (a batch of files in one call). Elsewhere File.Sync
// stands in, and there is no syncfs.
package fsync

import "errors"

// ErrNoSyncfs is FileSystem's answer where there is no syncfs: the caller
// syncs its files one by one.
var ErrNoSyncfs = errors.New("syncfs is Linux only")
