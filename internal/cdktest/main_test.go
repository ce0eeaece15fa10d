package cdktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m.Run) }

// A package that leaves something in its temp dir fails, naming it; the
// temp dir is gone either way, and TMPDIR is what it was.
func TestIsolatedFailsOnLeftoversAndCleansUp(t *testing.T) {
	outer := t.TempDir()
	t.Setenv("TMPDIR", outer)
	var private string
	var out strings.Builder
	code := isolated(func() int {
		private = os.TempDir()
		d, _ := os.MkdirTemp("", "removed")
		_ = os.RemoveAll(d)
		_ = os.WriteFile(filepath.Join(os.TempDir(), "left.txt"), nil, 0o644)
		_ = os.Mkdir(filepath.Join(os.TempDir(), "jsii-runtime.1"), 0o755)
		return 0
	}, &out)
	if code != 1 || out.String() != "cdktest: the tests left jsii-runtime.1, left.txt in the temp dir: each test writes under t.TempDir(), closes what it starts (jsii: jsiiproc.Close)\n" {
		t.Errorf("code %d, said %q", code, out.String())
	}
	if filepath.Dir(private) != outer {
		t.Errorf("the package's temp dir %s is not in %s", private, outer)
	}
	if entries, _ := os.ReadDir(outer); len(entries) != 0 || os.Getenv("TMPDIR") != outer {
		t.Errorf("left %d entries; TMPDIR %s", len(entries), os.Getenv("TMPDIR"))
	}
	out.Reset()
	if code := isolated(func() int { return 3 }, &out); code != 3 || out.String() != "" {
		t.Errorf("a clean failing run: %d %q", code, out.String())
	}
}
