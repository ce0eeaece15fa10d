// Command edge-drop is the CDK app: `cdk synth` and `cdk deploy` run it
// (cdk.json: "go run ."), with cdk.json's context and any -c overrides.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/stacks"
)

// imageDirectory holds the Dockerfile of the task image; cdk runs the app
// from the project root.
const imageDirectory = "."

func main() {
	if err := run(); err != nil {
		// One line per problem (config reports every bad key at once).
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "edge-drop:", line)
		}
		os.Exit(1)
	}
}

func run() (err error) {
	defer stacks.CloseJSII()
	// CDK reports construct and cdk-nag validation failures as panics
	// across jsii; turn them into one line instead of a Go stack trace.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth failed: %s", firstLine(fmt.Sprint(r)))
		}
	}()

	app := awscdk.NewApp(nil)
	cfg, err := config.FromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return err
	}
	if cfg.TaskImage == "" {
		if _, statErr := os.Stat(imageDirectory + "/Dockerfile"); statErr != nil {
			return errors.New(`taskImage is empty, so the task image is built from ./Dockerfile, which is missing: run cdk from the project root or set -c taskImage=<image URI>`)
		}
	}
	stacks.Build(app, cfg, imageDirectory)
	app.Synth(nil)
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
