package stacks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
)

// Synth synthesizes the app in-process into outdir, as `cdk synth` would:
// cdk.json's context from projectDir plus overrides (the -c key=value
// pairs). Config errors and construct/cdk-nag failures come back as one-line
// errors. The caller owns the jsii runtime (jsii.Close at exit).
func Synth(projectDir, outdir string, overrides map[string]string) (cfg config.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, _, _ := strings.Cut(strings.TrimSpace(fmt.Sprint(r)), "\n")
			err = fmt.Errorf("synth failed: %s", msg)
		}
	}()
	ctx, err := CDKJSONContext(filepath.Join(projectDir, "cdk.json"))
	if err != nil {
		return cfg, err
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	if cfg, err = config.FromContext(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) }); err != nil {
		return cfg, err
	}
	Build(app, cfg, projectDir)
	app.Synth(nil)
	return cfg, nil
}

// CloseJSII stops the jsii node process. jsii-runtime-go waits for that
// child twice (once in a watcher goroutine, once in Close); the loser of the
// race gets ECHILD and prints "Runtime process exited abnormally: waitid:
// no child processes" although the child exited cleanly with status 0
// (jsii-runtime-go v1.139.0 internal/kernel/process). All output is written
// by now, so that one line is dropped: standard error is pointed at
// /dev/null at the file-descriptor level while jsii closes (swapping the
// os.Stderr variable instead would race with jsii's goroutine).
func CloseJSII() {
	restore := muteStderr()
	defer restore()
	jsii.Close()
}
