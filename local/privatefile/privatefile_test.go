package privatefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteIsPrivateAndWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(path, []byte("old, world-readable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new\n" {
		t.Fatalf("content %q, %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

func TestWriteIntoAMissingDirFailsNamingThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "f.json")
	if err := Write(path, []byte("x")); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Write into a missing dir: %v", err)
	}
}
