package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's main command, as a user runs it: the real demo binary from
// the project root, synthesizing in-process, with the real task binary.
func TestDemoOnceDeliversTheSample(t *testing.T) {
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "-once", "-task", task, "-state", filepath.Join(dir, "state"), "-data", filepath.Join(dir, "data"))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
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
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
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
		})
	}
}

func buildBinaries(t *testing.T) (demo, task string) {
	t.Helper()
	dir := t.TempDir()
	demo, task = filepath.Join(dir, "demo"), filepath.Join(dir, "edge-drop-task")
	for _, b := range []struct{ dir, out, pkg string }{{".", demo, "."}, {"../../task", task, "."}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.dir, err, out)
		}
	}
	return demo, task
}

// A pre-synthesized assembly with another dataDir: the host path comes from
// the assembly, not from config.Default() (which has /data).
func TestDemoAssemblyKeepsItsDataDir(t *testing.T) {
	bin, task := buildBinaries(t)
	dir := t.TempDir()
	demo := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-once", "-task", task}, args...)...)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
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
