package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// The real binary in sync and delete mode, configured through the
// environment as the state machine will, and by flags as a person would.
func TestE2ESyncAndDelete(t *testing.T) {
	bin := buildBinary(t, runtime.GOARCH, "e2e", false)
	srv := s3test.Start(t)
	srv.Put(t, "edge", "in/demo-1.txt", []byte("one\n"), nil)
	srv.Put(t, "edge", "in/demo 2.txt", []byte("two\n"), nil)
	srv.Put(t, "edge", "in/other.bin", []byte("not matched"), nil)
	if err := s3test.Put(srv.Backend, "edge", "in/demo/../../evil.txt", []byte("evil"), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	syncEnv := []string{"EDGE_DROP_MODE=sync", "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY_PREFIX=in/",
		"EDGE_DROP_KEY_PATTERN=in/demo*.txt", "EDGE_DROP_DATA_DIR=" + dir}
	run := func(t *testing.T, env []string, args ...string) runResult {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = binEnv(t, srv, env...)
		return runBin(t, cmd)
	}
	want := func(t *testing.T, s map[string]any, fields map[string]any) {
		t.Helper()
		for k, v := range fields {
			if s[k] != v {
				t.Errorf("%s = %v, want %v (line %v)", k, s[k], v, s)
			}
		}
	}

	t.Run("sync from env", func(t *testing.T) {
		r := run(t, syncEnv)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		want(t, summary(t, r.stdout, "sync complete"), map[string]any{"listed": 4.0, "checked": 3.0, "downloaded": 2.0,
			"skipped": 1.0, "failed": 0.0, "up_to_date": 0.0, "folders": 0.0, "bytes": 8.0, "version": "e2e"})
		if b, err := os.ReadFile(filepath.Join(dir, "in/demo 2.txt")); err != nil || string(b) != "two\n" {
			t.Fatalf("in/demo 2.txt: %q, %v", b, err)
		}
		if strings.Contains(r.stdout, `"msg":"key resolved"`) {
			t.Error("per-object info lines of the download leak into the sync's log")
		}
	})

	t.Run("second sync by flags does nothing", func(t *testing.T) {
		r := run(t, nil, "sync", "-bucket", "edge", "-prefix", "in/", "-pattern", "in/demo*.txt", "-dir", dir)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, summary(t, r.stdout, "sync complete"), map[string]any{"downloaded": 0.0, "up_to_date": 2.0})
	})

	t.Run("partial sync", func(t *testing.T) {
		srv.Put(t, "edge", "in/demo-3.txt", []byte("three\n"), nil)
		srv.Put(t, "edge", "in/demo-4.txt", []byte("four\n"), nil)
		srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
			if r.Method == http.MethodGet && r.URL.Path == "/edge/in/demo-3.txt" {
				return &s3test.Fault{Kind: s3test.Status, Status: 500, Code: "InternalError"}
			}
			return nil
		})
		defer srv.SetRule(nil)
		r := run(t, append(syncEnv, "AWS_MAX_ATTEMPTS=1"))
		if r.code != 11 || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("exit %d, want 11\nstdout: %s\nstderr: %q", r.code, r.stdout, r.stderr)
		}
		want(t, summary(t, r.stdout, "sync incomplete"), map[string]any{"exit_code": 11.0, "class": "partial", "failed": 1.0, "downloaded": 1.0})
		want(t, summary(t, r.stdout, "object failed"), map[string]any{"key": "in/demo-3.txt", "exit_code": 7.0})
	})

	t.Run("delete", func(t *testing.T) {
		if _, err := srv.Backend.DeleteObject("edge", "in/demo 2.txt"); err != nil {
			t.Fatal(err)
		}
		del := []string{"EDGE_DROP_MODE=delete", "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY=in%2Fdemo+2.txt", "EDGE_DROP_DATA_DIR=" + dir}
		srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
			return &s3test.Fault{Kind: s3test.Status, Status: 403, Code: "AccessDenied"}
		})
		r := run(t, del)
		srv.SetRule(nil)
		if r.code != 5 {
			t.Fatalf("403: exit %d, want 5\n%s", r.code, r.stdout)
		}
		want(t, summary(t, r.stdout, "delete failed"), map[string]any{"exit_code": 5.0, "class": "access_denied"})
		if _, err := os.Stat(filepath.Join(dir, "in/demo 2.txt")); err != nil {
			t.Fatal("removed on 403")
		}
		r = run(t, del)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, summary(t, r.stdout, "removed"), map[string]any{"key": "in/demo 2.txt", "bytes": 4.0})
		if _, err := os.Stat(filepath.Join(dir, "in/demo 2.txt")); err == nil {
			t.Fatal("not removed")
		}
		// Unsafe keys are skipped by delete mode (nothing can have been
		// delivered for them), not failed.
		r = run(t, []string{"EDGE_DROP_MODE=delete", "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY=..%2Fx", "EDGE_DROP_DATA_DIR=" + dir})
		if r.code != 0 {
			t.Fatalf("unsafe key: exit %d", r.code)
		}
		want(t, lastLine(t, r.stdout), map[string]any{"msg": "report", "status": "deleted", "exitCode": 0.0,
			"summary": `deleted (nothing was on the board: skipped_unsafe "../x")`})
	})

	// A deleted folder marker, routed (EDGE_DROP_STRIP_COMPONENTS reaches
	// delete mode): its directory goes if empty, stays otherwise.
	t.Run("delete folder marker", func(t *testing.T) {
		for _, d := range []string{"empty", "full/sub"} {
			if err := os.MkdirAll(filepath.Join(dir, "routed", d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		del := func(key string) runResult {
			return run(t, []string{"EDGE_DROP_MODE=delete", "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY=" + key,
				"EDGE_DROP_DATA_DIR=" + dir, "EDGE_DROP_STRIP_COMPONENTS=1"})
		}
		r := del("to%2Frouted%2Fempty%2F")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, summary(t, r.stdout, "removed"), map[string]any{"key": "to/routed/empty/", "path": filepath.Join(dir, "routed/empty")})
		if _, err := os.Stat(filepath.Join(dir, "routed/empty")); err == nil {
			t.Fatal("empty folder not removed")
		}
		r = del("to/routed/full/")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, summary(t, r.stdout, "kept (not empty)"), map[string]any{"key": "to/routed/full/"})
		want(t, lastLine(t, r.stdout), map[string]any{"msg": "report", "mode": "delete", "status": "kept", "summary": "kept (not empty)", "path": "routed/full"})
		if _, err := os.Stat(filepath.Join(dir, "routed/full/sub")); err != nil {
			t.Fatal("a folder that is not empty was removed")
		}
	})

	t.Run("bad sync setting", func(t *testing.T) {
		r := run(t, append(syncEnv, "EDGE_DROP_SYNC_OBJECTS=0"))
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		want(t, summary(t, r.stdout, "sync failed"), map[string]any{"exit_code": 2.0, "class": "usage"})
	})

	t.Run("unknown mode", func(t *testing.T) {
		r := run(t, []string{"EDGE_DROP_MODE=mirror", "EDGE_DROP_BUCKET=edge"})
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, `unknown mode "mirror"`) {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
