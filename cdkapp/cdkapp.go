// Package cdkapp is the process-level wiring of edge-drop's CDK app: it
// reads and checks the configuration from an App's context (package
// config, plus the stacks' own limits), builds the stacks (package stacks)
// and synthesizes, with every failure one line of error, never a stack
// trace. main.go (the app `cdk synth` runs), cmd/demo and the end-to-end
// tests synthesize through it; it also owns the jsii runtime's shutdown.
package cdkapp

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/internal/jsiiproc"
	"github.com/edge-drop/edge-drop/stacks"
)

// Synth synthesizes the app in-process into outdir, as `cdk synth` would:
// cdk.json's context from projectDir plus overrides (the -c key=value
// pairs). The caller owns the jsii runtime (CloseJSII at exit).
func Synth(projectDir, outdir string, overrides map[string]string) (config.Config, error) {
	ctx, err := config.CDKJSONContext(filepath.Join(projectDir, "cdk.json"))
	if err != nil {
		return config.Config{}, err
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	return SynthApp(awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)}), projectDir)
}

// SynthApp validates the configuration in app's context, builds the stacks
// (the task image from imageDirectory's Dockerfile unless taskImage is set)
// and synthesizes. Config errors, a missing Dockerfile and construct or
// cdk-nag failures (panics across jsii) come back as errors, one line per
// problem, never as a stack trace.
func SynthApp(app awscdk.App, imageDirectory string) (cfg config.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, _, _ := strings.Cut(strings.TrimSpace(fmt.Sprint(r)), "\n")
			err = fmt.Errorf("synth failed: %s", msg)
		}
	}()
	if cfg, err = ConfigFrom(app); err != nil {
		return cfg, err
	}
	if cfg.TaskImage == "" {
		if _, statErr := os.Stat(filepath.Join(imageDirectory, "Dockerfile")); statErr != nil {
			return cfg, errors.New("taskImage is empty, so the task image is built from ./Dockerfile, which is missing: run cdk from the project root or set -c taskImage=<image URI>")
		}
	}
	if _, err = stacks.Build(app, cfg, imageDirectory); err != nil {
		return cfg, err
	}
	app.Synth(nil)
	return cfg, nil
}

// ConfigFrom reads and validates the configuration from app's context; a
// context key that looks like a misspelt config key is an error too, and
// so is a configuration the stacks cannot serve (stacks.CheckLimits).
func ConfigFrom(app awscdk.App) (config.Config, error) {
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	keyErr := config.CheckKeys(slices.Collect(maps.Keys(all)), false)
	cfg, err := config.FromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err == nil {
		err = stacks.CheckLimits(cfg)
	}
	return cfg, errors.Join(keyErr, err)
}

// CloseJSII stops the jsii node process (see jsiiproc.Close).
func CloseJSII() { jsiiproc.Close() }
