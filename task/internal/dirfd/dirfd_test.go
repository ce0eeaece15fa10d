package dirfd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := Open(d, "a", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("hello")
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "a")); string(b) != "hello" {
		t.Fatalf("wrote %q", b)
	}
	if _, err := Open(d, "a", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v", err)
	}
	if _, err := Open(d, "missing", os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	if f, err := Open(d, "link", os.O_RDONLY, 0); err == nil {
		f.Close()
		t.Error("followed a symlink")
	}
	for _, bad := range []string{"", ".", "..", "x/y", "../a"} {
		if f, err := Open(d, bad, os.O_RDONLY, 0); err == nil {
			f.Close()
			t.Errorf("opened %q", bad)
		}
	}
}
