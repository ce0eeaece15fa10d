package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// fakeSFN records the SendTaskSuccess calls it gets (Step Functions' JSON
// protocol), answering with status (200: success).
type fakeSFN struct {
	mu     sync.Mutex
	status int
	calls  []map[string]string // taskToken, output
}

func (f *fakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]string
	json.Unmarshal(body, &in)
	f.mu.Lock()
	if r.Header.Get("X-Amz-Target") == "AWSStepFunctions.SendTaskSuccess" {
		f.calls = append(f.calls, in)
	}
	status := f.status
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	if status == http.StatusOK {
		io.WriteString(w, "{}")
		return
	}
	io.WriteString(w, `{"__type":"ServiceUnavailable","message":"injected"}`)
}

func (f *fakeSFN) take() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// The report: the last stdout line of every run, in every mode and on
// every exit path after the configuration was read, and with a task token
// the same report as the output of SendTaskSuccess.
func TestE2EReport(t *testing.T) {
	bin := buildBinary(t, runtime.GOARCH, "e2e", false)
	srv := s3test.Start(t)
	sfn := &fakeSFN{status: http.StatusOK}
	sfnSrv := httptest.NewServer(sfn)
	defer sfnSrv.Close()
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/abc/task" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"Cluster":"edge","TaskARN":"arn:aws:ecs:eu-west-1:123456789012:task/edge/0123abcd","Family":"edge-drop"}`)
	}))
	defer meta.Close()
	srv.Put(t, "edge", "demo1.txt", []byte("demo one\n"), nil)
	dir := t.TempDir()
	run := func(t *testing.T, env ...string) (runResult, map[string]any) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = binEnv(t, srv, append([]string{"EDGE_DROP_BUCKET=edge", "EDGE_DROP_DATA_DIR=" + dir,
			"AWS_ENDPOINT_URL_SFN=" + sfnSrv.URL, "EDGE_DROP_TASK_TOKEN=token-1"}, env...)...)
		r := runBin(t, cmd)
		return r, lastLine(t, r.stdout)
	}
	// sent checks that exactly one SendTaskSuccess carried the report line.
	sent := func(t *testing.T, line map[string]any) {
		t.Helper()
		calls := sfn.take()
		if len(calls) != 1 || calls[0]["taskToken"] != "token-1" {
			t.Fatalf("SendTaskSuccess calls %v, want one with the token", calls)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(calls[0]["output"]), &out); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"time", "level", "msg", "version"} {
			delete(line, k)
		}
		if !reflect.DeepEqual(out, line) {
			t.Fatalf("sent %v\nlogged %v", out, line)
		}
	}
	want := func(t *testing.T, got map[string]any, fields map[string]any) {
		t.Helper()
		if got["msg"] != "report" {
			t.Fatalf("last line is not the report: %v", got)
		}
		for k, v := range fields {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("report %s = %v, want %v (report %v)", k, got[k], v, got)
			}
		}
	}

	t.Run("delivered", func(t *testing.T) {
		r, rep := run(t, "EDGE_DROP_KEY=demo1.txt", "ECS_CONTAINER_METADATA_URI_V4="+meta.URL+"/v4/abc")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, rep, map[string]any{"mode": "download", "status": "delivered", "exitCode": 0.0, "summary": "delivered",
			"key": "demo1.txt", "path": "demo1.txt", "etag": `"` + md5hex("demo one\n") + `"`,
			"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/edge/0123abcd"})
		if _, ok := rep["class"]; ok {
			t.Error("class on a success")
		}
		sent(t, rep)
	})

	t.Run("up to date", func(t *testing.T) {
		_, rep := run(t, "EDGE_DROP_KEY=demo1.txt")
		want(t, rep, map[string]any{"status": "up_to_date", "summary": "up_to_date"})
		sent(t, rep)
	})

	t.Run("conflict", func(t *testing.T) {
		p := filepath.Join(dir, "demo1.txt")
		fi, _ := os.Stat(p)
		os.WriteFile(p, []byte("DEMO ONE\n"), 0o644)
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
		r, rep := run(t, "EDGE_DROP_KEY=demo1.txt")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		cc, _ := rep["conflictCopy"].(string)
		want(t, rep, map[string]any{"status": "conflict", "exitCode": 0.0, "summary": "conflict (copy kept as " + cc + ")"})
		if b, err := os.ReadFile(filepath.Join(dir, cc)); err != nil || string(b) != "DEMO ONE\n" || !strings.HasPrefix(cc, "demo1.edge-drop-conflict-") {
			t.Fatalf("copy %q: %q, %v", cc, b, err)
		}
		summary(t, r.stdout, "conflict")
		sent(t, rep)
	})

	t.Run("gone", func(t *testing.T) {
		r, rep := run(t, "EDGE_DROP_KEY=deleted+before.txt")
		if r.code != 4 {
			t.Fatalf("exit %d, want 4", r.code)
		}
		want(t, rep, map[string]any{"status": "gone", "exitCode": 4.0, "class": "not_found", "key": "deleted before.txt"})
		sent(t, rep)
	})

	t.Run("failed", func(t *testing.T) {
		r, rep := run(t, "EDGE_DROP_KEY=..%2Fescape.txt")
		if r.code != 3 || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		want(t, rep, map[string]any{"status": "failed", "exitCode": 3.0, "class": "unsafe_key", "key": "../escape.txt"})
		if s, _ := rep["summary"].(string); !strings.HasPrefix(s, "failed (exit 3 unsafe_key: ") {
			t.Errorf("summary %q", s)
		}
		sent(t, rep)
	})

	t.Run("usage", func(t *testing.T) {
		r, rep := run(t, "EDGE_DROP_MODE=sync", "EDGE_DROP_SYNC_OBJECTS=0")
		if r.code != 2 {
			t.Fatalf("exit %d", r.code)
		}
		want(t, rep, map[string]any{"mode": "sync", "status": "failed", "exitCode": 2.0, "class": "usage"})
		sent(t, rep)
	})

	t.Run("sync", func(t *testing.T) {
		srv.Put(t, "edge", "demo2.txt", []byte("two"), nil)
		r, rep := run(t, "EDGE_DROP_MODE=sync", "EDGE_DROP_KEY_PATTERN=demo*.txt")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want(t, rep, map[string]any{"mode": "sync", "status": "synced", "exitCode": 0.0, "summary": "synced (1 new, 0 updated, 0 deleted)",
			"sync": map[string]any{"listed": 2.0, "new": 1.0, "updated": 0.0, "upToDate": 1.0, "deleted": 0.0, "kept": 0.0,
				"conflicts": 0.0, "skippedUnsafe": 0.0, "failed": 0.0, "folders": 0.0}})
		sent(t, rep)
	})

	t.Run("partial sync names the failed keys", func(t *testing.T) {
		srv.Put(t, "edge", "demo3.txt", []byte("three"), nil)
		srv.SetRule(func(r *http.Request, _ int) *s3test.Fault {
			if r.Method == http.MethodGet && r.URL.Path == "/edge/demo3.txt" {
				return &s3test.Fault{Kind: s3test.Status, Status: 500, Code: "InternalError"}
			}
			return nil
		})
		defer srv.SetRule(nil)
		r, rep := run(t, "EDGE_DROP_MODE=sync", "EDGE_DROP_KEY_PATTERN=demo*.txt", "AWS_MAX_ATTEMPTS=1")
		if r.code != 11 {
			t.Fatalf("exit %d", r.code)
		}
		want(t, rep, map[string]any{"status": "failed", "exitCode": 11.0, "class": "partial", "failedKeys": []any{"demo3.txt"}})
		if s, _ := rep["summary"].(string); !strings.Contains(s, `"demo3.txt"`) {
			t.Errorf("summary %q does not name the failed key", s)
		}
		if !strings.Contains(r.stderr, `"demo3.txt"`) {
			t.Errorf("stderr %q does not name the failed key", r.stderr)
		}
		sent(t, rep)
	})

	t.Run("delete", func(t *testing.T) {
		if _, err := srv.Backend.DeleteObject("edge", "demo2.txt"); err != nil {
			t.Fatal(err)
		}
		_, rep := run(t, "EDGE_DROP_MODE=delete", "EDGE_DROP_KEY=demo2.txt")
		want(t, rep, map[string]any{"mode": "delete", "status": "deleted", "summary": "deleted", "key": "demo2.txt", "path": "demo2.txt"})
		sent(t, rep)
	})

	// Step Functions failing: a few attempts, bounded, a warning; the exit
	// code and the report line do not change.
	t.Run("send fails", func(t *testing.T) {
		sfn.mu.Lock()
		sfn.status = http.StatusServiceUnavailable
		sfn.mu.Unlock()
		start := time.Now()
		r, rep := run(t, "EDGE_DROP_KEY=demo1.txt")
		if r.code != 0 || time.Since(start) > 10*time.Second {
			t.Fatalf("exit %d after %v", r.code, time.Since(start))
		}
		want(t, rep, map[string]any{"status": "up_to_date"})
		if n := len(sfn.take()); n < 1 || n > 3 {
			t.Errorf("%d attempts, want 1 to 3", n)
		}
		w := summary(t, r.stdout, "could not send the report to Step Functions; the state machine falls back to the exit code")
		if w["level"] != "WARN" {
			t.Errorf("not a warning: %v", w)
		}
	})

	t.Run("no token, nothing sent", func(t *testing.T) {
		r, rep := run(t, "EDGE_DROP_KEY=demo1.txt", "EDGE_DROP_TASK_TOKEN=")
		if r.code != 0 || rep["status"] != "up_to_date" || len(sfn.take()) != 0 {
			t.Fatalf("exit %d, report %v", r.code, rep)
		}
	})
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
