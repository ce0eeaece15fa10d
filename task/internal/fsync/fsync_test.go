package fsync

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSyncsAFileAndItsFileSystem(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("bytes"); err != nil {
		t.Fatal(err)
	}
	if err := Data(f); err != nil {
		t.Errorf("Data: %v", err)
	}
	if err := FileSystem(f); err != nil && !errors.Is(err, ErrNoSyncfs) {
		t.Errorf("FileSystem: %v", err)
	}
	f.Close()
	// A closed file is an error naming it, not a silent success.
	if err := Data(f); err == nil {
		t.Error("Data of a closed file succeeded")
	}
	if err := FileSystem(f); err == nil {
		t.Error("FileSystem of a closed file succeeded")
	}
}
