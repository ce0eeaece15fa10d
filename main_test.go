package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/config"
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
		"bad value":           {".", map[string]any{"taskMemoryMiB": "9000"}, `config: context key "taskMemoryMiB" = "9000" must be from 32 to 448`},
		"two bad values":      {".", map[string]any{"dataDir": "data", "removalPolicy": "maybe"}, `context key "removalPolicy" = "maybe" must be "retain" or "destroy"`},
		"no Dockerfile here":  {dir, nil, "taskImage is empty, so the task image is built from ./Dockerfile, which is missing"},
		"misspelt key":        {".", map[string]any{"keyPatern": "report*.csv"}, `config: unknown config key "keyPatern": did you mean "keyPattern"?`},
		"key in another case": {".", map[string]any{"TaskMemoryMiB": "256", "@aws-cdk/core:newStyleStackSynthesis": true}, `config: unknown config key "TaskMemoryMiB": did you mean "taskMemoryMiB"?`},
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

// CDK's own context keys, which the CLI adds or cdk.json holds, and keys of
// the user's own pass; the app synthesizes.
func TestAppAcceptsCDKsOwnContextKeys(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", app, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// What the CLI passes: cdk.json's context (config and feature flags)
	// plus its own keys.
	context, err := config.CDKJSONContext("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(context, map[string]any{
		"taskImage":                    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/edge-drop:1.0", // no image build
		"aws:cdk:enable-path-metadata": true, "aws:cdk:version-reporting": false, "aws:cdk:bundling-stacks": []string{"**"},
		"acknowledged-issue-numbers":                               []int{32775},
		"availability-zones:account=123456789012:region=eu-west-1": []string{"eu-west-1a"},
		"teamName": "edge",
	})
	ctx, _ := json.Marshal(context)
	cmd := exec.Command(app)
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+filepath.Join(dir, "out"),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("want a synth, got %v:\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "manifest.json")); err != nil {
		t.Error(err)
	}
}
