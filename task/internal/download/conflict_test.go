package download

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/task/internal/keypath"
)

func TestConflictName(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 15, 0, 0, time.UTC)
	long := strings.Repeat("日", 84) // 252 bytes
	for _, tc := range []struct{ rel, want string }{
		{"report.pdf", "report.edge-drop-conflict-20261130-061500-a1b2c3.pdf"},
		{"dir/sub/archive.tar.gz", "dir/sub/archive.tar.edge-drop-conflict-20261130-061500-a1b2c3.gz"},
		{"README", "README.edge-drop-conflict-20261130-061500-a1b2c3"},
		{".bashrc", ".bashrc.edge-drop-conflict-20261130-061500-a1b2c3"},
		{"a/.config.json", "a/.config.edge-drop-conflict-20261130-061500-a1b2c3.json"},
		{"trailing.", "trailing.edge-drop-conflict-20261130-061500-a1b2c3."},
	} {
		if got := conflictName(tc.rel, at, "a1b2c3"); got != tc.want {
			t.Errorf("conflictName(%q) = %q, want %q", tc.rel, got, tc.want)
		}
	}
	// Names at the component limit are cut (at a rune boundary), never over it.
	for _, rel := range []string{long + ".txt", "d/" + long, "x." + strings.Repeat("e", 250)} {
		got := conflictName(rel, at, "a1b2c3")
		base := filepath.Base(got)
		if len(base) > keypath.MaxComponentBytes || !utf8.ValidString(got) || !strings.Contains(base, ConflictMark) {
			t.Errorf("conflictName(%d-byte name) = %d bytes %q", len(rel), len(base), got)
		}
		if _, err := keypath.Validate(got); err != nil {
			t.Errorf("conflict name is not a valid path: %v", err)
		}
	}
}

// keepAside never replaces an existing name, and undo puts the file back.
func TestKeepAside(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	os.WriteFile(filepath.Join(dir, "f.txt"), []byte("mine"), 0o644)
	a, err := keepAside(root, "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := keepAside(root, "f.txt")
	if err != nil || b.name == a.name {
		t.Fatalf("second copy %+v, %v", b, err)
	}
	for _, n := range []string{a.name, b.name, "f.txt"} {
		if got, _ := os.ReadFile(filepath.Join(dir, n)); string(got) != "mine" {
			t.Fatalf("%s holds %q", n, got)
		}
	}
	// Not yet replaced: undo only drops the extra name.
	if err := b.undo(false); err != nil {
		t.Fatal(err)
	}
	// Replaced: undo puts the kept file back at the path.
	os.WriteFile(filepath.Join(dir, "new"), []byte("delivered"), 0o644)
	os.Rename(filepath.Join(dir, "new"), filepath.Join(dir, "f.txt"))
	if err := a.undo(true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "f.txt")); string(got) != "mine" {
		t.Fatalf("after undo: %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
}
