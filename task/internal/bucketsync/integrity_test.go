package bucketsync_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
)

// Issue 17 in sync mode. Each test here failed before the delivery record
// named the file's identity.

func (e *env) copies(rel string) map[string]string {
	e.t.Helper()
	ext := filepath.Ext(rel)
	names, _ := filepath.Glob(filepath.Join(e.dir, strings.TrimSuffix(rel, ext)+".edge-drop-conflict-*"+ext))
	out := map[string]string{}
	for _, n := range names {
		b, _ := os.ReadFile(n)
		r, _ := filepath.Rel(e.dir, n)
		out[r] = string(b)
	}
	return out
}

// flip changes one byte of rel in place and puts its mtime back.
func (e *env) flip(rel string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, rel)
	fi, err := os.Stat(p)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	b[0] ^= 0x20
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	f.WriteAt(b[:1], 0)
	f.Close()
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	return string(b)
}

// Why 1 and the cost rule: a flipped byte (size and mtime kept) is found
// and put right, the changed file kept as a copy; a file touched without a
// change is verified and adopted (no download); untouched files cost no
// request and no hashing.
func TestSyncVerifiesTouchedFiles(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		e.put(key(i), content(i, 1))
	}
	e.mustRun()
	flipped := e.flip(key(3))
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(e.dir, key(7)), later, later)

	e.srv.SetRule(nil)
	sum := e.mustRun()
	e.mustHave(key(3), content(3, 1))
	e.mustHave(key(7), content(7, 1))
	if c := e.copies(key(3)); len(c) != 1 {
		t.Fatalf("copies of the flipped file: %v", c)
	} else {
		for _, b := range c {
			if b != flipped {
				t.Fatalf("copy holds %q, want %q", b, flipped)
			}
		}
	}
	if len(e.copies(key(7))) != 0 {
		t.Fatal("a touched but unchanged file was copied")
	}
	if sum.Conflicts != 1 || sum.Reverified != 2 || sum.UpToDate != 19 || sum.Downloaded != 1 {
		t.Fatalf("summary %+v: want 1 conflict (downloaded), 2 re-verified, 19 up to date", sum)
	}
	// Only the flipped file's body was fetched (2 GETs: listing + object).
	if g := e.srv.Count(http.MethodGet); g != 2 {
		t.Fatalf("%d GETs, want 2", g)
	}
	e.srv.SetRule(nil)
	if sum := e.mustRun(); sum.Reverified != 0 || sum.UpToDate != 20 || e.srv.Count(http.MethodHead) != 0 {
		t.Fatalf("third sync: %+v, %d HEADs", sum, e.srv.Count(http.MethodHead))
	}
}

// Why 2: to/b/same.txt and to/site1/same.txt both land as same.txt. A sync
// of to/b/ makes the path hold the newest LastModified, reports the loser
// with both keys, and a second sync changes nothing.
func TestSyncTwoKeysOnePath(t *testing.T) {
	for _, boardNewer := range []bool{false, true} {
		t.Run(map[bool]string{false: "group newer", true: "board newer"}[boardNewer], func(t *testing.T) {
			e := newEnv(t)
			e.o.Prefix, e.o.Pattern, e.o.Download.StripComponents = "to/b/", "*", 2
			t0 := time.Now().UTC().Truncate(time.Second)
			lm := func(d time.Duration) map[string]string {
				return map[string]string{"Last-Modified": t0.Add(d).Format(http.TimeFormat)}
			}
			group, board := []byte("group's same.txt"), []byte("board's same.txt")
			d := time.Minute
			if boardNewer {
				d = -d
			}
			e.srv.Put(t, bucket, "to/site1/same.txt", group, lm(d))
			e.srv.Put(t, bucket, "to/b/same.txt", board, lm(0))
			o := e.o.Download
			o.Bucket, o.Key, o.DataDir = bucket, "to/site1/same.txt", e.dir
			if _, err := download.Run(context.Background(), e.api, o); err != nil {
				t.Fatal(err)
			}
			want := group
			if boardNewer {
				want = board
			}
			for run := range 2 {
				sum := e.mustRun()
				e.mustHave("same.txt", want)
				// The loser is reported by every sync that lists it; the
				// board's key, once it holds the path, is simply up to date.
				conflicts := 1
				if boardNewer && run == 1 {
					conflicts = 0
				}
				if sum.Conflicts != conflicts {
					t.Fatalf("sync %d: %+v, want %d conflict", run+1, sum, conflicts)
				}
				lines := e.log.Lines("conflict") // every line so far
				if boardNewer && len(lines) != 1 || !boardNewer && len(lines) != run+1 {
					t.Fatalf("sync %d: %d conflict lines", run+1, len(lines))
				}
				if r := lines[0]["reason"].(string); !strings.Contains(r, "to/site1/same.txt") || !strings.Contains(r, "to/b/same.txt") {
					t.Fatalf("sync %d: conflict line %v, want both keys named", run+1, lines[0])
				}
				if len(e.copies("same.txt")) != 0 {
					t.Fatal("edge-drop's own delivery of the other key was kept as a copy")
				}
				if run == 1 && e.srv.Count(http.MethodGet) != 1 {
					t.Fatalf("second sync: %d GETs, want only the listing", e.srv.Count(http.MethodGet))
				}
				e.srv.SetRule(nil)
			}
		})
	}
}

// Why 3, mirrored: a delivered file edited in place with size and mtime
// kept used to be removed when its object was deleted.
func TestSyncMirrorKeepsEditedFile(t *testing.T) {
	e := newEnv(t)
	e.o.MirrorDeletes = true
	e.put(key(1), content(1, 1))
	e.put(key(2), content(2, 1))
	e.mustRun()
	edited := e.flip(key(1))
	e.del(key(1))
	e.del(key(2))
	sum := e.mustRun()
	e.mustHave(key(1), []byte(edited))
	if _, ok := e.file(key(2)); ok {
		t.Fatal("the untouched delivered file was not removed")
	}
	if sum.Deleted != 1 || sum.Kept != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if l := e.log.Lines("kept (changed since delivery)"); len(l) != 1 || l[0]["key"] != key(1) {
		t.Fatalf("kept lines %v", l)
	}
}

// Why 5: routed keys whose local path is unsafe (the state dir in any
// case after stripping to/b/) are skipped, never a failed sync.
func TestSyncRoutedUnsafeKeysSkipped(t *testing.T) {
	e := newEnv(t)
	e.o.Prefix, e.o.Pattern, e.o.Download.StripComponents, e.o.MirrorDeletes = "to/b/", "*", 2, true
	for _, k := range []string{"to/b/.edge-drop/records/x.json", "to/b/.EDGE-DROP/y", "to/b/.Edge-Drop"} {
		e.put(k, []byte("not a file for the board"))
	}
	e.put("to/b/ok.txt", []byte("fine"))
	sum, err := e.run()
	if err != nil {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	e.mustHave("ok.txt", []byte("fine"))
	if sum.Skipped != 3 || sum.Failed != 0 || sum.Downloaded != 1 {
		t.Fatalf("summary %+v", sum)
	}
	lines := e.log.Lines("skipped: unsafe key")
	if len(lines) != 3 {
		t.Fatalf("%d skipped lines, want 3", len(lines))
	}
	for _, l := range lines {
		if k, _ := l["key"].(string); !strings.HasPrefix(k, "to/b/") {
			t.Errorf("skipped line without its key: %v", l)
		}
	}
	if ents, _ := filepath.Glob(filepath.Join(e.dir, ".edge-drop", "records", "*.json")); len(ents) != 1 {
		t.Fatalf("%d records, want 1 (ok.txt)", len(ents))
	}
}
