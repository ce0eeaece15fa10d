// Package browsertest starts headless chromium for the tests of the status
// page: Debian's browser (apt-get install chromium; .ci/run installs it),
// a fresh profile that leaves nothing behind, the viewport a test asks for.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start starts chromium with a width × height viewport and returns a
// context for chromedp that ends after timeout or with the test. Without
// chromium the test is skipped, or in CI failed.
func Start(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	// A short directory: chromium's singleton socket path must fit in 108
	// bytes, and a TempDir (named after the test) may be too long.
	dir, err := os.MkdirTemp("", "eds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "p")), chromedp.WindowSize(width, height),
		chromedp.Env("TMPDIR="+dir)) // chromium's own scratch dirs too: nothing left in /tmp
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel3)
	// Headless chromium keeps its window at least 500 px wide whatever
	// --window-size says: the page's viewport is set as asked.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// chromium finds the browser.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}
