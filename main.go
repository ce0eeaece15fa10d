// Command edge-drop is the CDK app: `cdk synth` and `cdk deploy` run it
// (cdk.json: "go run ."), with cdk.json's context and any -c overrides.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/edge-drop/edge-drop/cdkapp"
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

func run() error {
	defer cdkapp.CloseJSII()
	_, err := cdkapp.SynthApp(awscdk.NewApp(nil), imageDirectory)
	return err
}
