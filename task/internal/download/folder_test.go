package download_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// Folder markers: consoles and tools create "folders" as zero-byte objects
// whose key ends with "/". Delivered as a directory (same path rules as a
// file); with bytes such a key cannot be a file: exit 3.
func TestFolderMarkers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		objects map[string]string // key -> content, in the bucket
		setup   func(t *testing.T, dir string)
		key     string // as in the event
		strip   int
		code    exitcode.Code
		dir     string   // directory that must exist afterwards ("" = none)
		entries []string // top-level entries of the data dir afterwards (besides .edge-drop)
		words   string   // the error must say this
		noHEAD  bool     // refused before any request
	}{
		{name: "marker", objects: map[string]string{"photos/": ""}, key: "photos/", dir: "photos", entries: []string{"photos"}},
		{name: "nested marker", objects: map[string]string{"a/b/": ""}, key: "a/b/", dir: "a/b", entries: []string{"a"}},
		{name: "event-encoded marker", objects: map[string]string{"red photos/": ""}, key: "red+photos%2F", dir: "red photos", entries: []string{"red photos"}},
		{name: "marker already there", objects: map[string]string{"photos/": ""}, key: "photos/", dir: "photos", entries: []string{"photos"},
			setup: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "photos", "old")) }},
		{name: "routed marker", objects: map[string]string{"to/site1/photos/": ""}, key: "to/site1/photos/", strip: 2, dir: "photos", entries: []string{"photos"}},
		{name: "routing folder itself", objects: map[string]string{"to/site1/": ""}, key: "to/site1/", strip: 2, dir: ".", entries: nil},
		{name: "marker with bytes", objects: map[string]string{"photos/": "bytes"}, key: "photos/", code: exitcode.UnsafeKey,
			words: "holds 5 bytes, which cannot be written as a file"},
		{name: "missing marker", key: "gone/", code: exitcode.NotFound},
		{name: "dot-dot marker", key: "..%2F", code: exitcode.UnsafeKey, words: `".."`, noHEAD: true},
		{name: "state dir marker", key: ".edge-drop/", code: exitcode.UnsafeKey, words: "reserved", noHEAD: true},
		{name: "double slash marker", key: "a//", code: exitcode.UnsafeKey, words: "empty path component", noHEAD: true},
		{name: "file in the way", objects: map[string]string{"f/": ""}, key: "f/", code: exitcode.LocalIO, entries: []string{"f"},
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "f"), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "symlink out of the data dir", objects: map[string]string{"evil/sub/": ""}, key: "evil/sub/", code: exitcode.UnsafeKey, entries: []string{"evil"},
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(t.TempDir(), filepath.Join(dir, "evil")); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			for k, v := range tc.objects {
				e.srv.Put(t, bucket, k, []byte(v), nil)
			}
			if tc.setup != nil {
				tc.setup(t, e.dir)
			}
			res, err := e.runWith(context.Background(), tc.key, func(o *download.Options) { o.StripComponents = tc.strip })
			if got := exitcode.Of(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d", got, err, tc.code)
			}
			if tc.words != "" && !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error does not say %q: %v", tc.words, err)
			}
			if tc.noHEAD && e.srv.Count(http.MethodHead) != 0 {
				t.Errorf("%d HEADs for a refused key", e.srv.Count(http.MethodHead))
			}
			if n := e.srv.Count(http.MethodGet); n != 0 {
				t.Errorf("%d GETs: a folder has nothing to download", n)
			}
			if tc.dir != "" {
				if fi, err := os.Lstat(filepath.Join(e.dir, tc.dir)); err != nil || !fi.IsDir() {
					t.Fatalf("%s is not a directory: %v", tc.dir, err)
				}
				if want := filepath.Join(e.dir, tc.dir); res.Path != want {
					t.Errorf("path %q, want %q", res.Path, want)
				}
			}
			if outside, err := os.Readlink(filepath.Join(e.dir, "evil")); err == nil {
				if ents, _ := os.ReadDir(outside); len(ents) != 0 {
					t.Errorf("created outside the data dir: %v", ents)
				}
			}
			var names []string
			ents, _ := os.ReadDir(e.dir)
			for _, de := range ents {
				if de.Name() != ".edge-drop" {
					names = append(names, de.Name())
				}
			}
			if !slices.Equal(names, tc.entries) {
				t.Errorf("data dir holds %v, want %v", names, tc.entries)
			}
			if recs, _ := filepath.Glob(filepath.Join(e.dir, ".edge-drop", "records", "*.json")); len(recs) != 0 {
				t.Errorf("a folder wrote a delivery record: %v", recs)
			}
			e.noTemp()
		})
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}
