package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/edge-drop/edge-drop/local/localrun"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// running is a demo started without -once, read line by line.
type running struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines *bufio.Scanner
	seen  strings.Builder
	err   bytes.Buffer
}

func startDemo(t *testing.T, bin string, args ...string) *running {
	t.Helper()
	r := &running{t: t, cmd: demoCommand(t, bin, args...)}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = &r.err
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	r.lines = bufio.NewScanner(stdout)
	return r
}

// waitFor reads lines until pred holds for one and returns it.
func (r *running) waitFor(pred func(string) bool) string {
	r.t.Helper()
	for r.lines.Scan() {
		r.seen.WriteString(r.lines.Text() + "\n")
		if pred(r.lines.Text()) {
			return r.lines.Text()
		}
	}
	r.t.Fatalf("the demo ended without it:\n%s\nstderr:\n%s", r.seen.String(), r.err.String())
	return ""
}

// stop sends Ctrl-C and reads the demo to its end.
func (r *running) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	for r.lines.Scan() {
		r.seen.WriteString(r.lines.Text() + "\n")
	}
	_ = r.cmd.Wait()
}

var s3Line = regexp.MustCompile(`^S3 endpoint (http://\S+), bucket (\S+) `)

// The demo's endpoints admit only requests signed with the credentials it
// printed: unsigned and wrongly signed ones get 403 and change nothing,
// and no web origin gets CORS headers. -addr 0.0.0.0:0 is said to be
// reachable from other machines.
func TestDemoEndpointsRefuseUnsignedRequests(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	demo := startDemo(t, bin, "-task", task, "-assembly", assembly(t), "-state", dir+"/state", "-data", dir+"/data", "-addr", "0.0.0.0:0")
	warning := demo.waitFor(func(l string) bool { return strings.HasPrefix(l, "warning: S3 listens on 0.0.0.0:") })
	if !strings.Contains(warning, "which other machines can reach") {
		t.Errorf("warning: %s", warning)
	}
	m := s3Line.FindStringSubmatch(demo.waitFor(func(l string) bool { return s3Line.MatchString(l) }))
	s3URL, bucketName := m[1], m[2]
	demo.waitFor(func(l string) bool { return strings.HasPrefix(l, "Files appear in ") })
	var state struct{ Endpoint, AccessKeyID, SecretAccessKey string }
	if b, err := os.ReadFile(filepath.Join(dir, "state", stepFunctionsFile)); err != nil || json.Unmarshal(b, &state) != nil {
		t.Fatalf("%s: %v", b, err)
	}
	keys := sigv4.Credentials{AccessKeyID: state.AccessKeyID, SecretAccessKey: state.SecretAccessKey}
	if !strings.Contains(demo.seen.String(), "export AWS_ACCESS_KEY_ID="+keys.AccessKeyID+" AWS_SECRET_ACCESS_KEY="+keys.SecretAccessKey+" ") {
		t.Fatalf("the demo did not print its credentials:\n%s", demo.seen.String())
	}
	wrong := sigv4.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: "guessed"}
	sample := filepath.Join(dir, "data", "demo1.txt")
	before, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}

	object := s3URL + "/" + bucketName + "/demo1.txt"
	for _, tc := range []struct {
		name, method, url, service, body string
		keys                             sigv4.Credentials
		status                           int
		code                             string
	}{
		{"S3 PUT unsigned", "PUT", object, "s3", "evil", sigv4.Credentials{}, 403, "AccessDenied"},
		{"S3 PUT wrongly signed", "PUT", object, "s3", "evil", wrong, 403, "SignatureDoesNotMatch"},
		{"S3 DELETE unsigned", "DELETE", object, "s3", "", sigv4.Credentials{}, 403, "AccessDenied"},
		{"S3 DELETE wrongly signed", "DELETE", object, "s3", "", wrong, 403, "SignatureDoesNotMatch"},
		{"S3 GET unsigned", "GET", object, "s3", "", sigv4.Credentials{}, 403, "AccessDenied"},
		{"Step Functions unsigned", "POST", state.Endpoint + "/", "states", `{"stateMachineArn":"x"}`, sigv4.Credentials{}, 403, "MissingAuthenticationTokenException"},
		{"Step Functions wrongly signed", "POST", state.Endpoint + "/", "states", `{"stateMachineArn":"x"}`, wrong, 403, "InvalidSignatureException"},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if tc.service == "states" {
			req.Header.Set("X-Amz-Target", "AWSStepFunctions.StartExecution")
		}
		if tc.keys.Valid() {
			signFor(t, req, tc.keys, tc.service, tc.body)
		}
		status, code := answer(t, req)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, code, tc.status, tc.code)
		}
	}
	for _, url := range []string{object, state.Endpoint + "/"} {
		req, _ := http.NewRequest("OPTIONS", url, nil)
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode < 400 {
			t.Errorf("preflight from a foreign origin to %s: %d %v", url, resp.StatusCode, resp.Header)
		}
	}
	if after, err := os.ReadFile(sample); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the delivered sample changed: %q %v", after, err)
	}

	// Signed with the printed credentials, the same PUT is delivered.
	req, _ := http.NewRequest("PUT", s3URL+"/"+bucketName+"/demo7.txt", strings.NewReader("signed"))
	signFor(t, req, keys, "s3", "signed")
	if status, code := answer(t, req); status != 200 {
		t.Fatalf("a signed PUT: %d %s", status, code)
	}
	done := demo.waitFor(func(l string) bool { return strings.HasPrefix(l, "execution ") && strings.Contains(l, "/demo7.txt: ") })
	if !strings.Contains(done, ": SUCCEEDED") {
		t.Errorf("%s", done)
	}
	demo.stop()
	if strings.Contains(demo.seen.String(), "evil") || strings.Count(demo.seen.String(), "/demo1.txt: SUCCEEDED") != 1 {
		t.Errorf("a refused request reached the pipeline:\n%s", demo.seen.String())
	}
}

func signFor(t *testing.T, req *http.Request, keys sigv4.Credentials, service, body string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey},
		req, hash, service, localrun.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// answer sends req and returns the status and the error code, from S3's XML
// or the JSON protocols' __type.
func answer(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var x struct{ Code string }
	var j struct {
		Type string `json:"__type"`
	}
	if xml.Unmarshal(b, &x) == nil && x.Code != "" {
		return resp.StatusCode, x.Code
	}
	_ = json.Unmarshal(b, &j)
	return resp.StatusCode, j.Type
}

// The README's routing example, run as printed: the sample is routed to
// board a and lands as data/a/demo1.txt, and the upload command the running
// demo prints works as printed (it makes its file, under a routed key).
func TestDemoRoutingExampleFromTheREADME(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	readme, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`make demo DEMO_FLAGS="([^"]*routePrefix=[^"]*)"`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("docs/fleet.md has no routing example")
	}
	dir := t.TempDir()
	args := append([]string{"-task", task, "-state", dir + "/state", "-data", dir + "/data"}, strings.Fields(string(m[1]))...)
	demo := startDemo(t, bin, args...)
	demo.waitFor(func(l string) bool { return strings.HasPrefix(l, "Files appear in ") })
	out := demo.seen.String()
	for _, want := range []string{"uploading s3://", "/to/a/demo1.txt (", "  board a: delivered\n",
		"file " + dir + "/data/a/demo1.txt: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(demo.err.String(), "was not delivered") {
		t.Errorf("the sample was not delivered: %s", demo.err.String())
	}

	// The printed command, run as printed, in another directory.
	_, block, _ := strings.Cut(out, "Upload more from another shell")
	var script []string
	for _, line := range strings.Split(block, "\n")[1:] {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "Files appear") {
			break
		}
		if line != "" {
			script = append(script, line)
		}
	}
	if len(script) != 3 || !strings.Contains(script[2], "/to/a/demo2.txt") {
		t.Fatalf("the printed command: %q", script)
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed: the printed command is not run")
	}
	sh := exec.Command("bash", "-euc", strings.Join(script, "\n"))
	sh.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			sh.Env = append(sh.Env, kv)
		}
	}
	sh.Env = append(sh.Env, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	if b, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the printed command failed: %v\n%s", err, b)
	}
	done := demo.waitFor(func(l string) bool {
		return strings.HasPrefix(l, "execution ") && strings.Contains(l, "/to/a/demo2.txt: ")
	})
	if !strings.Contains(done, ": SUCCEEDED") {
		t.Errorf("%s", done)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data", "a", "demo2.txt")); err != nil || string(b) != "hello from another shell\n" {
		t.Errorf("data/a/demo2.txt: %q %v", b, err)
	}
	demo.stop()
}
