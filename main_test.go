package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The CDK app as the CLI runs it: a bad configuration value or a missing
// Dockerfile is one line on stderr and a non-zero exit, never a stack trace.
func TestAppRejectsBadInputWithOneLine(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", app, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for name, tc := range map[string]struct {
		workdir string
		context map[string]any
		want    string
	}{
		"bad value":          {".", map[string]any{"taskMemoryMiB": "9000"}, `config: context key "taskMemoryMiB" = "9000" must be from 32 to 448`},
		"two bad values":     {".", map[string]any{"dataDir": "data", "removalPolicy": "maybe"}, `context key "removalPolicy" = "maybe" must be "retain" or "destroy"`},
		"no Dockerfile here": {dir, nil, "taskImage is empty, so the task image is built from ./Dockerfile, which is missing"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, _ := json.Marshal(tc.context)
			cmd := exec.Command(app)
			cmd.Dir = tc.workdir
			cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+t.TempDir(),
				"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("want a failure, got:\n%s", out)
			}
			text := strings.TrimSpace(string(out))
			if !strings.Contains(text, tc.want) || strings.Contains(text, "goroutine ") || strings.Contains(text, "panic") {
				t.Errorf("want a clear error containing %q, got:\n%s", tc.want, text)
			}
			for _, line := range strings.Split(text, "\n") {
				if !strings.HasPrefix(line, "edge-drop: ") {
					t.Errorf("every line must be an edge-drop error line, got %q", line)
				}
			}
		})
	}
}
