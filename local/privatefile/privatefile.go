// Package privatefile writes the local demo's files that hold its
// credentials (credentials.json, endpoints.json, stepfunctions.json):
// readable by their owner only, and whole or not at all, so that a reader
// (make sync, the CLI, a shell) never sees half of one.
package privatefile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes b to path, mode 0600, through a temp file in the same
// directory renamed over path.
func Write(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
