package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives the server with the real `aws s3 cp --endpoint-url`
// (single PUT and multipart upload, then download). Skipped when the aws
// CLI is not installed.
func TestAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	s := start(t, Options{Dir: t.TempDir()})
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secretlocal",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
	)
	aws := func(t *testing.T, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", s.URL()}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			if ctx.Err() == nil && bytes.Contains(out, []byte("No module named")) {
				t.Skipf("aws CLI is broken here: %s", out)
			}
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
	}
	for _, c := range []struct {
		name, key, reason string
		size              int
	}{
		{"small", "cli/small file.txt", ReasonPutObject, 1000},
		{"multipart", "cli/big.bin", ReasonCompleteMultipartUpload, 20 << 20}, // > 8 MiB multipart threshold
	} {
		t.Run(c.name, func(t *testing.T) {
			data := make([]byte, c.size)
			_, _ = rand.Read(data)
			src := filepath.Join(dir, c.name+".src")
			dst := filepath.Join(dir, c.name+".dst")
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			aws(t, "s3", "cp", "--only-show-errors", src, "s3://uploads/"+c.key)
			ev := next(t, s)
			if ev.Key != c.key || ev.Size != int64(c.size) || ev.Reason != c.reason {
				t.Fatalf("event = %+v", ev)
			}
			aws(t, "s3", "cp", "--only-show-errors", "s3://uploads/"+c.key, dst)
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(got), len(data))
			}
		})
	}
	expectNone(t, s)
}
