package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/cdkapp"
	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/internal/cdktest"
	"github.com/edge-drop/edge-drop/internal/cli"
	"github.com/edge-drop/edge-drop/local/sigv4"
)

// The README's main command, as a user runs it: the real demo binary from
// the project root, synthesizing in-process, with the real task binary.
func TestDemoOnceDeliversTheSample(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	cmd := demoCommand(t, bin, "-once", "-task", task, "-state", filepath.Join(dir, "state"), "-data", filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo -once: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"synthesized the CDK app",
		"uploading s3://",
		"demo1.txt: SUCCEEDED",
		"path: Extract → KeyMatchesPattern → SizeWithinLimit → DownloadToBoard",
		"notes/readme.md: SUCCEEDED",
		"path: Extract → KeyMatchesPattern → Skipped",
		"identical to the upload",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "waitid") || strings.Contains(text, "goroutine ") {
		t.Errorf("noise or a stack trace in the output:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "demo1.txt")); err != nil {
		t.Error(err)
	}
}

func TestDemoBadInputIsOneLine(t *testing.T) {
	bin, task := buildBinaries(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"bad context value": {[]string{"-once", "-task", task, "-c", "taskMemoryMiB=9999"}, `config: context key "taskMemoryMiB" = "9999" must be from 32 to 448`},
		"bad -c syntax":     {[]string{"-c", "keyPattern"}, `want key=value`},
		"missing task":      {[]string{"-once", "-task", "/nonexistent/task"}, "run make task-native"},
		"misspelt -c key":   {[]string{"-task", task, "-c", "keyPatern=report*.csv"}, `unknown config key "keyPatern": did you mean "keyPattern"?`},
		"unknown -c key":    {[]string{"-task", task, "-c", "foo=bar"}, `unknown config key "foo" (known keys: stackPrefix, `},
		"empty -data":       {[]string{"-task", task, "-data", ""}, "-data is empty"},
		"-data /":           {[]string{"-task", task, "-data", "/"}, "-data / is the root directory"},
		"-data .":           {[]string{"-task", task, "-data", "."}, "-data . is the current directory or one of its parents"},
		"-data ..":          {[]string{"-task", task, "-data", ".."}, "-data .. is the current directory or one of its parents"},
		"-data in .git":     {[]string{"-task", task, "-data", ".git/objects"}, "-data .git/objects is inside a .git directory"},
		"-data in -state":   {[]string{"-task", task, "-state", ".demo", "-data", ".demo/s3"}, "-data .demo/s3 is overlapping -state .demo"},
		"-boards twice":     {[]string{"-task", task, "-boards", "a,b,a"}, `-boards "a,b,a": board "a" is named twice`},
		"-boards bad group": {[]string{"-task", task, "-boards", "a@site.1"}, `group name "site.1" is not valid`},
		"-sync-every junk":  {[]string{"-task", task, "-sync-every", "often"}, `-sync-every "often": want a duration of at least 1s`},
		"-sync-every 10ms":  {[]string{"-task", task, "-sync-every", "10ms"}, `-sync-every "10ms": want a duration of at least 1s`},
		"-slots 0":          {[]string{"-once", "-task", task, "-slots", "0"}, `-slots 0: want 1 to 64 tasks at once per board`},
		"-slots -3":         {[]string{"-once", "-task", task, "-slots", "-3"}, `-slots -3: want 1 to 64 tasks at once per board`},
		"-addr junk":        {[]string{"-task", task, "-addr", "junk"}, `-addr "junk": want host:port, e.g. -addr 127.0.0.1:0 (any free port)`},
		"-sfn-addr junk":    {[]string{"-task", task, "-sfn-addr", "9471"}, `-sfn-addr "9471": want host:port`},
		"-cors-origin *":    {[]string{"-task", task, "-cors-origin", "*"}, `-cors-origin: CORS origin "*": want one origin, scheme://host[:port]`},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := demoCommand(t, bin, tc.args...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("want a failure, got:\n%s", out)
			}
			text := strings.TrimSpace(string(out))
			if !strings.Contains(text, tc.want) || strings.Contains(text, "goroutine ") {
				t.Errorf("want a clear error containing %q, got:\n%s", tc.want, text)
			}
			if name != "bad -c syntax" && strings.Count(text, "\n") != 0 {
				t.Errorf("want one line, got:\n%s", text)
			}
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				t.Errorf("want exit status 2 (usage), got %d", code)
			}
		})
	}
}

// Importing the CDK unpacks jsii's runtime (2.2 MB) into the temp dir
// before main runs: every way out of the demo removes it, flag errors and
// -h included.
func TestDemoLeavesNothingInTheTempDir(t *testing.T) {
	bin, task := buildBinaries(t)
	for _, args := range [][]string{{"-c", "keyPattern"}, {"-h"}, {"-no-such-flag"}, {"-addr", "junk"}, {"-task", "/nonexistent"}, {"-task", task, "-assembly", "/nonexistent"}} {
		tmp := t.TempDir()
		cmd := demoCommand(t, bin, args...)
		cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
		_ = cmd.Run()
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("demo %v left %s in the temp dir", args, entries[0].Name())
		}
	}
}

// Until it synthesizes, the demo needs no Node: a flag error or a missing
// -assembly is one line, never a panic from the jsii runtime starting (a
// package-level CDK value would start it before main).
func TestDemoNeedsNoNodeBeforeItSynthesizes(t *testing.T) {
	bin, task := buildBinaries(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"misspelt -c key":   {[]string{"-task", task, "-c", "keyPatern=x"}, `demo: config: unknown config key "keyPatern"`},
		"missing -assembly": {[]string{"-task", task, "-assembly", filepath.Join(t.TempDir(), "cdk.out")}, "demo: no cloud assembly in "},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := demoCommand(t, bin, tc.args...)
			cmd.Env = append(os.Environ(), "PATH="+t.TempDir()) // no node
			out, err := cmd.CombinedOutput()
			text := strings.TrimSpace(string(out))
			if err == nil || cmd.ProcessState.ExitCode() != 2 || !strings.HasPrefix(text, tc.want) || strings.Contains(text, "\n") {
				t.Errorf("want exit 2 and one line starting %q, got %v:\n%s", tc.want, err, text)
			}
		})
	}
}

// The demo and task binaries are built once; tests that need no -c run
// the demo on one assembly synthesized once (-assembly), as an in-process
// synth costs 10-20 s.
var (
	demoBin, taskBin, sharedAsm string
	buildErr                    error
	asmOnce                     sync.Once
	asmErr                      error
)

func TestMain(m *testing.M) {
	cdktest.Main(func() int {
		dir, err := os.MkdirTemp("", "edge-drop-demo-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		demoBin, taskBin = filepath.Join(dir, "demo"), filepath.Join(dir, "edge-drop-task")
		for _, b := range []struct{ dir, out string }{{".", demoBin}, {"../../task", taskBin}} {
			cmd := exec.Command("go", "build", "-o", b.out, ".")
			cmd.Dir = b.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", b.dir, err, out)
			}
		}
		sharedAsm = filepath.Join(dir, "cdk.out")
		return m.Run()
	})
}

// demoCommand runs the demo binary from the project root as a user does,
// but on ports the system picks (tests never take the fixed default ports
// a developer's demo uses) and, unless args say otherwise, with its state
// and data under the test's temp dir.
func demoCommand(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	has := func(flag string) bool { return slices.Contains(args, flag) }
	for _, f := range []string{"-addr", "-sfn-addr"} {
		if !has(f) {
			args = append(args, f, "127.0.0.1:0")
		}
	}
	for _, f := range []string{"-state", "-data"} {
		if !has(f) {
			args = append(args, f, filepath.Join(t.TempDir(), f[1:]))
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	return cmd
}

func buildBinaries(t *testing.T) (demo, task string) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return demoBin, taskBin
}

// assembly is the app as cdk.json ships it, synthesized once.
func assembly(t *testing.T) string {
	t.Helper()
	asmOnce.Do(func() { _, asmErr = cdkapp.Synth("../..", sharedAsm, nil) })
	if asmErr != nil {
		t.Fatal(asmErr)
	}
	return sharedAsm
}

// demo runs the demo binary from the project root; it returns stdout,
// stderr and the exit status.
func demo(t *testing.T, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := demoCommand(t, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// A key with an escape sequence and a newline cannot rewrite the terminal,
// and a failed delivery is one line: the exit code, its class and words,
// and the task's own reason; the ECS JSON only with -v.
func TestDemoPrintsHostileKeysSafelyAndTheFailureInOneLine(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	const key = "demo\x1b[2J\nx.txt" // matches demo*.txt; the task refuses control characters
	stdout, stderr, status := demo(t, bin, "-once", "-assembly", assembly(t), "-task", task, "-state", filepath.Join(dir, "state"), "-data", filepath.Join(dir, "data"), "-sample", key)
	all := stdout + stderr
	if status != 1 {
		t.Errorf("-once with a failed delivery: want status 1, got %d\n%s", status, all)
	}
	if strings.ContainsAny(all, "\x1b") || strings.Contains(all, "\nx.txt") {
		t.Errorf("the key reached the terminal raw:\n%q", all)
	}
	if !strings.Contains(all, `"s3://`) || !strings.Contains(all, `/demo\x1b[2J\nx.txt"`) {
		t.Errorf("want the key quoted with its controls escaped:\n%s", all)
	}
	var failure []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, "was not delivered") {
			failure = append(failure, line)
		}
	}
	// The task's report carries its own reason.
	want := []string{"EdgeDrop.DeliveryFailed: ", `was not delivered: failed (exit 3 unsafe_key: unsafe key "demo\x1b[2J\nx.txt": control character`}
	if len(failure) != 1 {
		t.Fatalf("want one failure line, got %q\n%s", failure, stdout)
	}
	for _, w := range want {
		if !strings.Contains(failure[0], w) {
			t.Errorf("failure line lacks %q:\n%s", w, failure[0])
		}
	}
	if strings.Contains(stdout, `"Containers"`) {
		t.Errorf("the stopped task's JSON is for -v only:\n%s", stdout)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "was not delivered: failed (exit 3 unsafe_key") {
		t.Errorf("want one line on stderr saying why, got:\n%s", stderr)
	}
}

// -once exits non-zero, with the reason, when the sample it expected to be
// delivered was not: here the keyPattern skips it.
func TestDemoOnceFailsWhenTheSampleIsSkipped(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	stdout, stderr, status := demo(t, bin, "-once", "-task", task, "-state", filepath.Join(dir, "state"), "-data", filepath.Join(dir, "data"),
		"-sample", "demo1.txt", "-c", "keyPattern=report*.csv")
	if status != 1 {
		t.Errorf("want status 1, got %d\n%s%s", status, stdout, stderr)
	}
	want := `was not delivered: skipped: the key does not match the state machine's keyPattern "report*.csv"`
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("want one line with %q, got:\n%s", want, stderr)
	}
}

// SIGHUP (the terminal closed) and SIGTERM stop the demo as Ctrl-C (SIGINT) does:
// the running task gets SIGTERM and cleans up, and the exit status follows
// the shell's convention, 128 + the signal's number.
func TestDemoStopsOnSignalsAndStopsItsTasks(t *testing.T) {
	bin, _ := buildBinaries(t)
	// A task that runs until stopped and shows that it cleaned up.
	task := filepath.Join(t.TempDir(), "task.sh")
	script := "#!/bin/sh\ntrap 'echo cleaned > \"$EDGE_DROP_DATA_DIR/cleaned\"; exit 9' TERM\nsleep 300 &\necho \"running $$ $!\"\nwait $!\n"
	if err := os.WriteFile(task, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			cmd := demoCommand(t, bin, "-v", "-assembly", assembly(t), "-task", task, "-state", filepath.Join(dir, "state"), "-data", data)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// Wait for the task to run (its first line, printed with -v).
			var pids []int
			var out strings.Builder
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if _, rest, ok := strings.Cut(sc.Text(), ": running "); ok {
					for _, f := range strings.Fields(rest) {
						n, _ := strconv.Atoi(f)
						pids = append(pids, n)
					}
					break
				}
			}
			if len(pids) != 2 {
				t.Fatalf("the task never ran:\n%s%s", out.String(), stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
			}
			_ = cmd.Wait()
			if got, want := cmd.ProcessState.ExitCode(), 128+int(sig); got != want {
				t.Errorf("exit status %d, want %d\n%s%s", got, want, out.String(), stderr.String())
			}
			if b, err := os.ReadFile(filepath.Join(data, "cleaned")); err != nil || string(b) != "cleaned\n" {
				t.Errorf("the task did not get SIGTERM and clean up (%v)\n%s", err, out.String())
			}
			for _, pid := range pids {
				// A killed process closes its files (our pipe) a moment
				// before it becomes a zombie: give the kernel that moment.
				for deadline := time.Now().Add(5 * time.Second); alive(pid) && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
				if alive(pid) {
					t.Errorf("process %d of the task still runs 5 s after the demo exited", pid)
				}
			}
		})
	}
}

// alive reports whether pid is a live process (not gone, not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// A pre-synthesized assembly with another dataDir: the host path comes from
// the assembly, not from config.Default() (which has /data).
func TestDemoAssemblyKeepsItsDataDir(t *testing.T) {
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	demo := func(args ...string) string {
		t.Helper()
		cmd := demoCommand(t, bin, append([]string{"-once", "-task", task}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("demo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	demo("-c", "dataDir=/srv/drop", "-state", filepath.Join(dir, "synth"), "-data", filepath.Join(dir, "data1"))
	data := filepath.Join(dir, "data2")
	out := demo("-assembly", filepath.Join(dir, "synth", "cdk.out"), "-state", filepath.Join(dir, "state"), "-data", data)
	if !strings.Contains(out, "/srv/drop on the board is "+data) {
		t.Errorf("output does not map /srv/drop to %s:\n%s", data, out)
	}
	if _, err := os.Stat(filepath.Join(data, "demo1.txt")); err != nil {
		t.Error(err)
	}
}

// The sample is uploaded as a raw key; the pattern and the rule prefix see
// it encoded, so the sample is the pattern decoded. With routing, the key
// is <routePrefix><target>/<path> and lands as <path>.
func TestSampleKeyMatchesThePatternAndTheRoute(t *testing.T) {
	for _, tc := range []struct{ pattern, prefix, route, want, lands string }{
		{"demo*.txt", "", "", "demo1.txt", "demo1.txt"},
		{`a\*b*.txt`, "", "", "a*b1.txt", "a*b1.txt"},
		{"q3+report*.csv", "", "", "q3 report1.csv", "q3 report1.csv"},
		{"caf%C3%A9*", "in/", "", "in/café1", "in/café1"},
		{"to/*", "", "to/", "to/a/demo1.txt", "demo1.txt"},
		{"to/*.csv", "", "to/", "to/a/demo1.csv", "demo1.csv"},
		{"to/b/*", "", "to/", "to/b/demo1.txt", "demo1.txt"},
		{"to/*/in/*.txt", "", "to/", "to/a/in/1.txt", "in/1.txt"},
		{"*", "", "to/", "to/a/demo1.txt", "demo1.txt"},
		{"drop/to/*", "", "drop/to/", "drop/to/a/demo1.txt", "demo1.txt"},
	} {
		cfg := config.Default()
		cfg.KeyPattern, cfg.RuleKeyPrefix, cfg.RoutePrefix = tc.pattern, tc.prefix, tc.route
		got := sampleKey(cfg, "1", "a")
		if got != tc.want {
			t.Errorf("sampleKey(%q, prefix %q, route %q) = %q, want %q", tc.pattern, tc.prefix, tc.route, got, tc.want)
		}
		if lands := landsAs(cfg, got); lands != tc.lands {
			t.Errorf("%q lands as %q, want %q", got, lands, tc.lands)
		}
	}
}

// The command the running demo prints works as printed: it makes the file
// it uploads, under a key the pipeline delivers, and the credentials fit
// aws-cli v1 (AWS_DEFAULT_REGION) and v2.
func TestUploadHelpIsAShellCommand(t *testing.T) {
	help := uploadHelp(sigv4.Credentials{AccessKeyID: "EDGEDROPAAAA", SecretAccessKey: "a+b/c"}, "http://127.0.0.1:9470", "bkt", "q3 report2.csv", "data")
	for _, want := range []string{
		"export AWS_ACCESS_KEY_ID=EDGEDROPAAAA AWS_SECRET_ACCESS_KEY=a+b/c AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1\n",
		`echo "hello from another shell" > 'q3 report2.csv'` + "\n",
		`aws --endpoint-url http://127.0.0.1:9470 s3 cp 'q3 report2.csv' 's3://bkt/q3 report2.csv'` + "\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	for s, want := range map[string]string{"demo2.txt": "demo2.txt", "it's": `'it'\''s'`, "$(rm -rf ~)": "'$(rm -rf ~)'", "": "''"} {
		if got := shellQuote(s); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", s, got, want)
		}
	}
}

// The read side of a running demo: the endpoints file, the CLI's boards
// (from the demo's ECS endpoint), a sync followed to its end through the
// demo's Step Functions endpoint, and the status page; the file goes when
// the demo stops.
func TestDemoServesTheCLIAndTheStatusPage(t *testing.T) {
	t.Parallel()
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cmd := exec.Command(bin, "-assembly", assembly(t), "-task", task, "-state", state, "-data", filepath.Join(dir, "data"), "-boards", "a,b@site1")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = strings.NewReader("") // no console input
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	page := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "status page: "); ok {
				page <- strings.Fields(u)[0]
			}
		}
	}()
	var url string
	select {
	case url = <-page:
	case <-time.After(2 * time.Minute):
		t.Fatal("the demo printed no status page")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("status page %q is not on loopback", url)
	}

	edgeDrop := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := cli.Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errOut, Dir: "../..", Poll: 50 * time.Millisecond},
			append([]string{"--local=" + state}, args...))
		return out.String(), errOut.String(), code
	}
	out, errOut, code := edgeDrop("boards", "-o", "json")
	var boards []struct {
		Board          string
		Groups         []string
		AgentConnected bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &boards) != nil || len(boards) != 2 ||
		boards[0].Board != "a" || len(boards[0].Groups) != 0 || !boards[0].AgentConnected ||
		boards[1].Board != "b" || len(boards[1].Groups) != 1 || boards[1].Groups[0] != "site1" {
		t.Errorf("boards: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = edgeDrop("sync", "--board", "b", "--wait")
	if code != 0 || !strings.Contains(out, "SUCCEEDED") || !regexp.MustCompile(`(?m)^b\s+(synced|delivered)\s+0\s`).MatchString(out) {
		t.Errorf("sync --board b --wait: exit %d\n%s%s", code, out, errOut)
	}
	resp, err := http.Get(url + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name":"b","groups":["site1"],"connected":true`) {
		t.Errorf("the page's state: %s", body)
	}

	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(state, "endpoints.json")); !os.IsNotExist(err) {
		t.Errorf("endpoints.json after the demo stopped: %v", err)
	}
}
