package findup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirIsTheNearestHolder(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	for _, d := range []string{filepath.Join(root, "x"), filepath.Join(root, "a", "x"), deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(root, "x", "f"), filepath.Join(root, "a", "x", "f")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	if got, err := Dir("x/f"); err != nil || got != filepath.Join(root, "a") {
		t.Errorf("Dir(x/f) = %q, %v; want %q", got, err, filepath.Join(root, "a"))
	}
	if _, err := Dir("no/such/file-anywhere-e8d1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a file nowhere above: %v, want ErrNotFound", err)
	}
}
