package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// ldflags are the release flags of `make task` and the Dockerfile.
func ldflags(version string) string { return "-s -w -X main.version=" + version }

// buildBinary builds this package for goarch. With release set it uses
// exactly the flags of `make task` and the Dockerfile (CGO_ENABLED=0,
// -trimpath, -ldflags "-s -w -X ..."); without, it drops -trimpath (which
// changes no behaviour) so the packages compiled for `go test` are reused
// from the build cache instead of being compiled again.
func buildBinary(t *testing.T, goarch, version string, release bool) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "edge-drop-task-"+goarch)
	args := []string{"build", "-buildvcs=false", "-ldflags", ldflags(version), "-o", out, "."}
	if release {
		args = append([]string{"build", "-trimpath"}, args[1:]...)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (%s): %v\n%s", goarch, err, b)
	}
	return out
}

func testData(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{42}).Read(b)
	return b
}

// binEnv is a clean environment pointing the binary at srv.
func binEnv(t *testing.T, srv *s3test.Server, extra ...string) []string {
	return append([]string{
		"HOME=" + t.TempDir(),
		"AWS_ENDPOINT_URL_S3=" + srv.URL(), // 127.0.0.1: path-style is automatic
		"AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_EC2_METADATA_DISABLED=true",
	}, extra...)
}

type runResult struct {
	code   int
	stdout string
	stderr string
}

func runBin(t *testing.T, cmd *exec.Cmd) runResult {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run: %v", err)
	}
	return runResult{code, so.String(), se.String()}
}

// summary returns the fields of the log line with msg.
func summary(t *testing.T, stdout, msg string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		if m["msg"] == msg {
			return m
		}
	}
	t.Fatalf("no %q line in:\n%s", msg, stdout)
	return nil
}

// lastLine returns the fields of the last stdout line (the report).
func lastLine(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last stdout line is not JSON: %q", lines[len(lines)-1])
	}
	return m
}

func TestE2ENative(t *testing.T) {
	bin := buildBinary(t, runtime.GOARCH, "e2e", false)
	srv := s3test.Start(t)
	data := testData(3<<20 + 17)
	srv.Put(t, "edge", "dir/red flower.jpg", data, nil)
	srv.Put(t, "edge", "demo1.txt", []byte("demo\n"), nil)
	srv.Put(t, "edge", "bytes/", []byte("not a folder"), nil)
	dir := t.TempDir()

	t.Run("download", func(t *testing.T) {
		cmd := exec.Command(bin, "-part-size", "1MiB")
		cmd.Env = binEnv(t, srv, "EDGE_DROP_BUCKET=edge", "EDGE_DROP_KEY=dir%2Fred+flower.jpg", "EDGE_DROP_DATA_DIR="+dir)
		r := runBin(t, cmd)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		got, err := os.ReadFile(filepath.Join(dir, "dir/red flower.jpg"))
		if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("content mismatch (%v)", err)
		}
		s := summary(t, r.stdout, "download complete")
		for k, want := range map[string]any{"bucket": "edge", "key": "dir/red flower.jpg", "path": filepath.Join(dir, "dir/red flower.jpg"), "bytes": float64(len(data)), "verified": "md5-etag", "version": "e2e"} {
			if s[k] != want {
				t.Errorf("summary %s = %v, want %v", k, s[k], want)
			}
		}
		for _, k := range []string{"seconds", "mb_per_s"} {
			if _, ok := s[k].(float64); !ok {
				t.Errorf("summary lacks %s: %v", k, s)
			}
		}
		summary(t, r.stdout, "key resolved")
	})

	t.Run("rerun is idempotent", func(t *testing.T) {
		cmd := exec.Command(bin, "-bucket", "edge", "-key", "dir/red+flower.jpg", "-dir", dir)
		cmd.Env = binEnv(t, srv)
		r := runBin(t, cmd)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		summary(t, r.stdout, "already up to date")
	})

	t.Run("folder marker", func(t *testing.T) {
		srv.Put(t, "edge", "photos/2026/", nil, nil)
		cmd := exec.Command(bin, "-bucket", "edge", "-key", "photos%2F2026%2F", "-dir", dir)
		cmd.Env = binEnv(t, srv)
		r := runBin(t, cmd)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		s := summary(t, r.stdout, "folder marker")
		if s["key"] != "photos/2026/" || s["path"] != filepath.Join(dir, "photos/2026") {
			t.Errorf("logged %v", s)
		}
		if fi, err := os.Stat(filepath.Join(dir, "photos/2026")); err != nil || !fi.IsDir() {
			t.Fatalf("no directory: %v", err)
		}
	})

	codes := []struct {
		name string
		args []string
		env  []string
		code int
	}{
		{"version", []string{"-version"}, nil, 0},
		{"missing key", []string{"-bucket", "edge"}, nil, 2},
		{"bad part size", []string{"-bucket", "edge", "-key", "k", "-part-size", "huge"}, nil, 2},
		{"unsafe key", []string{"-bucket", "edge", "-key", "..%2F..%2Fetc%2Fpasswd", "-dir", dir}, nil, 3},
		{"folder key with bytes", []string{"-bucket", "edge", "-key", "bytes/", "-dir", dir}, nil, 3},
		{"not found", []string{"-bucket", "edge", "-key", "nope.txt", "-dir", dir}, nil, 4},
		{"no data dir", []string{"-bucket", "edge", "-key", "demo1.txt", "-dir", filepath.Join(dir, "absent")}, nil, 6},
		{"too large", []string{"-bucket", "edge", "-key", "demo1.txt", "-dir", dir, "-max-bytes", "4"}, nil, 10},
		{"bad max bytes", []string{"-bucket", "edge", "-key", "demo1.txt", "-dir", dir}, []string{"EDGE_DROP_MAX_BYTES=1GB"}, 2},
		{"bad strip components", []string{"-bucket", "edge", "-key", "to/a/demo1.txt", "-dir", dir}, []string{"EDGE_DROP_STRIP_COMPONENTS=two"}, 2},
		{"strip leaves no name", []string{"-bucket", "edge", "-key", "to/a", "-dir", dir}, []string{"EDGE_DROP_STRIP_COMPONENTS=2"}, 3},
		{"server down", []string{"-bucket", "edge", "-key", "demo1.txt", "-dir", dir, "-request-timeout", "1s"}, []string{"AWS_ENDPOINT_URL_S3=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}, 7},
	}
	for _, c := range codes {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = append(binEnv(t, srv), c.env...)
			r := runBin(t, cmd)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			if c.code != 0 {
				if n := strings.Count(r.stderr, "\n"); n != 1 || strings.Contains(r.stderr, "goroutine") {
					t.Errorf("stderr should be one line, got %q", r.stderr)
				}
				s := summary(t, r.stdout, "download failed")
				if s["exit_code"] != float64(c.code) {
					t.Errorf("logged exit_code %v", s["exit_code"])
				}
			}
		})
	}

	// Run by hand with no credentials anywhere: not a network error (7,
	// retryable-looking) but 5 and one line that names the fix, in every
	// mode.
	t.Run("no credentials", func(t *testing.T) {
		noCreds := []string{"HOME=" + t.TempDir(), "AWS_ENDPOINT_URL_S3=" + srv.URL(), "AWS_REGION=eu-west-1",
			"AWS_EC2_METADATA_DISABLED=true", "EDGE_DROP_BUCKET=edge", "EDGE_DROP_DATA_DIR=" + dir}
		for _, c := range []struct {
			mode, key, msg string
		}{
			{"download", "demo1.txt", "download failed"},
			{"sync", "", "sync incomplete"},
			{"delete", "gone.txt", "delete failed"},
		} {
			t.Run(c.mode, func(t *testing.T) {
				srv.SetRule(nil) // resets the request counters
				cmd := exec.Command(bin)
				cmd.Env = append(noCreds, "EDGE_DROP_MODE="+c.mode)
				if c.key != "" {
					cmd.Env = append(cmd.Env, "EDGE_DROP_KEY="+c.key)
				}
				r := runBin(t, cmd)
				if r.code != 5 {
					t.Fatalf("exit %d, want 5\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
				}
				want := "edge-drop-task: no AWS credentials: under ECS the task role provides them (is the task definition's taskRoleArn set?); " +
					"by hand set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE; the SDK said: "
				if !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "(exit 5 access_denied)\n") || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("stderr %q, want one line starting %q", r.stderr, want)
				}
				if strings.Contains(r.stderr, "s3:ListBucket") || strings.Contains(r.stderr, "raw key") {
					t.Errorf("stderr carries a misleading hint: %q", r.stderr)
				}
				s := summary(t, r.stdout, c.msg)
				if s["exit_code"] != 5.0 || s["class"] != "access_denied" || !strings.HasPrefix(s["error"].(string), "no AWS credentials: ") {
					t.Errorf("logged %v", s)
				}
				if n := srv.Count(http.MethodHead) + srv.Count(http.MethodGet); n != 0 {
					t.Errorf("%d requests reached S3", n)
				}
			})
		}
	})

	t.Run("sigterm", func(t *testing.T) {
		srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
			if r.Method == http.MethodGet {
				return &s3test.Fault{Kind: s3test.Stall, N: 4096, D: 10 * time.Second}
			}
			return nil
		})
		defer srv.SetRule(nil)
		d := t.TempDir()
		cmd := exec.Command(bin, "-bucket", "edge", "-key", "dir/red flower.jpg", "-dir", d)
		cmd.Env = binEnv(t, srv)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for srv.Count(http.MethodGet) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		start := time.Now()
		err := cmd.Wait()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 9 {
			t.Fatalf("want exit 9, got %v\nstdout: %s\nstderr: %s", err, so.String(), se.String())
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("took %v to stop", time.Since(start))
		}
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			// Not even the key's lock file: its holder removes it on release.
			if err == nil && !de.IsDir() {
				t.Errorf("left behind: %s", p)
			}
			return nil
		})
	})

	// Issue 8: a task killed with SIGKILL (no chance to clean up) leaves
	// its preallocated temp file and its key's lock file; the next task
	// start reclaims both.
	t.Run("sigkill then a new delivery", func(t *testing.T) {
		big := testData(64 << 20)
		srv.Put(t, "edge", "big.bin", big, nil)
		srv.SetRule(func(r *http.Request, n int) *s3test.Fault {
			if r.Method == http.MethodGet {
				return &s3test.Fault{Kind: s3test.Stall, N: 4096, D: time.Minute}
			}
			return nil
		})
		d := t.TempDir()
		cmd := exec.Command(bin, "-bucket", "edge", "-key", "big.bin", "-dir", d)
		cmd.Env = binEnv(t, srv)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait (bounded) for the preallocated temp file, i.e. mid-download.
		deadline := time.Now().Add(10 * time.Second)
		for len(partFiles(t, d)) == 0 || srv.Count(http.MethodGet) == 0 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no temp file appeared")
			}
			time.Sleep(5 * time.Millisecond) // polling a condition, not timing a race
		}
		cmd.Process.Kill()
		cmd.Wait()
		if used := diskUsage(t, d); used < int64(len(big)) {
			t.Fatalf("killed task used %d bytes, expected a preallocated %d-byte temp file", used, len(big))
		}

		srv.SetRule(nil)
		cmd = exec.Command(bin, "-bucket", "edge", "-key", "big.bin", "-dir", d)
		cmd.Env = binEnv(t, srv)
		r := runBin(t, cmd)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		summary(t, r.stdout, "reclaimed abandoned temp files")
		// The killed task's lock file too (the key's own delivery would
		// remove it anyway, but a start for any key does).
		if m := summary(t, r.stdout, "removed lock files nobody held"); m["files"] != 1.0 {
			t.Errorf("removed lock files: %v, want 1", m["files"])
		}
		if left := partFiles(t, d); len(left) != 0 {
			t.Fatalf("temp files left after the next delivery: %v", left)
		}
		if used, want := diskUsage(t, d), int64(len(big)); used > want+1<<20 {
			t.Fatalf("data dir uses %d bytes, want about the file's %d", used, want)
		}
	})
}

// partFiles lists temp files anywhere under dir.
func partFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && strings.HasSuffix(p, ".part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// diskUsage is the space the files under dir occupy (blocks, as du counts).
func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		if fi, err := de.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}
