package download_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// Routing by key: to/<target>/<rest> lands as <rest>; the lock and record
// are the path's, the record names the key it came from.
func TestStripComponentsDeliversUnderTheRest(t *testing.T) {
	e := newEnv(t)
	e.o.StripComponents = 2
	body := []byte("routed to board a")
	e.srv.Put(t, bucket, "to/a/dir/red flower.txt", body, nil)
	res := e.mustOK("to%2Fa%2Fdir%2Fred+flower.txt", "dir/red flower.txt", body)
	if res.Path != filepath.Join(e.dir, "dir/red flower.txt") || res.Key != "to/a/dir/red flower.txt" {
		t.Errorf("result: key %q path %q", res.Key, res.Path)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "to")); err == nil {
		t.Error("the routing prefix must not become a directory")
	}
	rec := e.record("dir/red flower.txt")
	if rec.Path != "dir/red flower.txt" || rec.Key != "to/a/dir/red flower.txt" {
		t.Errorf("record path %q key %q", rec.Path, rec.Key)
	}
	if res := e.mustOK("to/a/dir/red+flower.txt", "dir/red flower.txt", body); !res.UpToDate {
		t.Error("the second delivery must be up to date (record of the path, naming this key)")
	}
	// The same file routed by a group key is another key for the same
	// path: uploaded later, it takes the path (TestTwoKeysOnePath).
	group := []byte("routed to group site1, longer")
	e.srv.Put(t, bucket, "to/site1/dir/red flower.txt", group, nil)
	if res := e.mustOK("to/site1/dir/red+flower.txt", "dir/red flower.txt", group); res.UpToDate {
		t.Error("another key must not be up to date by the first key's record")
	}
	// Unrouted deliveries keep records without a path (unchanged format).
	e.o.StripComponents = 0
	e.srv.Put(t, bucket, "plain.txt", body, nil)
	e.mustOK("plain.txt", "plain.txt", body)
	if rec := e.record("plain.txt"); rec.Path != "" || rec.LocalPath() != "plain.txt" {
		t.Errorf("plain record path %q", rec.Path)
	}
}

func TestStripComponentsRefusesKeysWithoutAFileName(t *testing.T) {
	for _, tc := range []struct {
		key   string
		strip int
		want  string
	}{
		{"to/a", 2, "leaves no file name"},
		{"to/a/x", 3, "leaves no file name"},
		{"to/a/.edge-drop/records/x.json", 2, "reserved"},
		{"to/a/.edge-drop%2Fx", 2, "reserved"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.runWith(context.Background(), tc.key, func(o *download.Options) { o.StripComponents = tc.strip })
			if exitcode.Of(err) != exitcode.UnsafeKey || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("exit %d (%v), want 3 naming %q", exitcode.Of(err), err, tc.want)
			}
			if n := e.srv.Count(http.MethodHead); n != 0 {
				t.Errorf("%d HEADs: a refused key must not reach S3", n)
			}
			if entries, _ := os.ReadDir(e.dir); len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}
