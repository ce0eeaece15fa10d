package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// Key-list mode (EDGE_DROP_KEYS, coalesced bursts): every key delivered as
// a task for it alone would deliver it, each with its own outcome in the
// report; the exit code is the worst key's (a gone key is no failure
// unless every key is gone).
func TestE2EKeyList(t *testing.T) {
	bin := buildBinary(t, runtime.GOARCH, "e2e", false)
	srv := s3test.Start(t)
	a, b := testData(3<<20), []byte("bee\n")
	srv.Put(t, "edge", "a.txt", a, nil)
	srv.Put(t, "edge", "dir/b+c.txt", b, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("a person's file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Put(t, "edge", "mine.txt", []byte("uploaded\n"), nil)

	run := func(t *testing.T, keys string) (runResult, map[string]any) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = binEnv(t, srv, "EDGE_DROP_BUCKET=edge", "EDGE_DROP_DATA_DIR="+dir, "EDGE_DROP_KEYS="+keys)
		res := runBin(t, cmd)
		return res, lastLine(t, res.stdout)
	}
	statuses := func(rep map[string]any) map[string]string {
		out := map[string]string{}
		keys, _ := rep["keys"].([]any)
		for _, k := range keys {
			m := k.(map[string]any)
			out[m["key"].(string)] = m["status"].(string)
		}
		return out
	}
	check := func(t *testing.T, rep map[string]any, want map[string]string) {
		t.Helper()
		got := statuses(rep)
		if len(got) != len(want) {
			t.Errorf("report keys %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("key %q: status %q, want %q (report %v)", k, got[k], w, rep)
			}
		}
	}

	t.Run("delivers every key, the newest event of each", func(t *testing.T) {
		// a.txt twice: the older event (sequencer 01) is dropped, not
		// delivered after the newer one.
		res, rep := run(t, `[{"k":"a.txt","q":"02","z":3145728},{"k":"dir/b%2Bc.txt","q":"0A","z":4},{"k":"a.txt","q":"01","z":1},{"k":"gone.txt","q":"05"}]`)
		if res.code != 0 || rep["status"] != "delivered" {
			t.Fatalf("exit %d status %v, want 0 delivered\n%s%s", res.code, rep["status"], res.stdout, res.stderr)
		}
		check(t, rep, map[string]string{"a.txt": "delivered", "dir/b+c.txt": "delivered", "gone.txt": "gone"})
		for path, want := range map[string][]byte{"a.txt": a, "dir/b+c.txt": b} {
			got, err := os.ReadFile(filepath.Join(dir, path))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, err %v; want the object's %d bytes", path, len(got), err, len(want))
			}
		}
	})

	t.Run("again: up to date", func(t *testing.T) {
		res, rep := run(t, `[{"k":"a.txt","q":"02"},{"k":"dir/b%2Bc.txt","q":"0A"}]`)
		if res.code != 0 || rep["status"] != "up_to_date" {
			t.Fatalf("exit %d status %v, want 0 up_to_date\n%s", res.code, rep["status"], res.stdout)
		}
		check(t, rep, map[string]string{"a.txt": "up_to_date", "dir/b+c.txt": "up_to_date"})
	})

	t.Run("a person's file is kept; one bad key fails the batch, not the others", func(t *testing.T) {
		res, rep := run(t, `[{"k":"mine.txt"},{"k":"..%2Fescape.txt"},{"k":"a.txt","q":"02"}]`)
		if res.code != 3 || rep["status"] != "failed" {
			t.Fatalf("exit %d status %v, want 3 (unsafe_key, the worst) failed\n%s", res.code, rep["status"], res.stdout)
		}
		check(t, rep, map[string]string{"mine.txt": "conflict", "../escape.txt": "failed", "a.txt": "up_to_date"})
		if got, _ := os.ReadFile(filepath.Join(dir, "mine.txt")); string(got) != "uploaded\n" {
			t.Errorf("mine.txt holds %q, want the upload", got)
		}
		copies, _ := filepath.Glob(filepath.Join(dir, "mine*conflict*"))
		if len(copies) != 1 {
			t.Errorf("conflict copies %v, want one holding the person's bytes", copies)
		} else if got, _ := os.ReadFile(copies[0]); string(got) != "a person's file\n" {
			t.Errorf("conflict copy holds %q", got)
		}
	})

	t.Run("every key gone: exit 4, gone", func(t *testing.T) {
		res, rep := run(t, `[{"k":"x.txt"},{"k":"y.txt"}]`)
		if res.code != 4 || rep["status"] != "gone" {
			t.Fatalf("exit %d status %v, want 4 gone\n%s", res.code, rep["status"], res.stdout)
		}
	})

	t.Run("a bad list: exit 2, one line naming the variable", func(t *testing.T) {
		res, _ := run(t, `[{"k":""}]`)
		if res.code != 2 || !bytes.Contains([]byte(res.stderr), []byte("EDGE_DROP_KEYS: entry 0 has no key")) {
			t.Fatalf("exit %d stderr %q, want 2 naming EDGE_DROP_KEYS", res.code, res.stderr)
		}
	})
}
