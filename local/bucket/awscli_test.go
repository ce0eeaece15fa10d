package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
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
		"AWS_ACCESS_KEY_ID="+testKeys.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+testKeys.SecretAccessKey,
		"AWS_DEFAULT_REGION="+testRegion, "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
	)
	aws := func(t *testing.T, args ...string) string {
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
		return string(out)
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
	// Listing, a presigned URL (the CLI signs it, any HTTP client uses it)
	// and a delete, each checked by the server's signature check.
	if out := aws(t, "s3", "ls", "s3://uploads/cli/"); !strings.Contains(out, "small file.txt") || !strings.Contains(out, "big.bin") {
		t.Errorf("aws s3 ls: %s", out)
	}
	url := strings.TrimSpace(aws(t, "s3", "presign", "--expires-in", "60", "s3://uploads/cli/small file.txt"))
	if strings.Contains(url, "AWSAccessKeyId=") { // aws-cli v1 presigns with SigV2 unless configured
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "signature_version s3v4") {
			t.Errorf("a SigV2 URL: %d %s", resp.StatusCode, body)
		}
		config := filepath.Join(dir, "config")
		if err := os.WriteFile(config, []byte("[default]\ns3 =\n    signature_version = s3v4\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env = append(env, "AWS_CONFIG_FILE="+config)
		url = strings.TrimSpace(aws(t, "s3", "presign", "--expires-in", "60", "s3://uploads/cli/small file.txt"))
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != 1000 {
		t.Errorf("GET of the CLI's presigned URL %s: %d, %d bytes", url, resp.StatusCode, resp.ContentLength)
	}
	aws(t, "s3", "rm", "--only-show-errors", "s3://uploads/cli/big.bin")
	if ev := next(t, s); !ev.Deleted || ev.Key != "cli/big.bin" {
		t.Errorf("event %+v", ev)
	}
	expectNone(t, s)
}
