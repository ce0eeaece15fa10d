package stacks

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
)

// App is everything one synth produces.
type App struct {
	Cluster  *EdgeClusterStack // nil when an existing cluster is imported
	Pipeline *PipelineStack
}

// Build adds edge-drop's stacks to app, with cdk-nag's AwsSolutions checks
// on all of them: an unsuppressed finding fails synth.
func Build(app awscdk.App, cfg config.Config, imageDirectory string) (*App, error) {
	out, err := build(app, cfg, imageDirectory)
	if err != nil {
		return nil, err
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return out, nil
}

// CheckLimits says whether the stacks can serve cfg, a configuration
// config has validated, beyond each key's own bounds: a paged delivery runs
// its pages one after another, and a coalesced batch its parts, so either
// must end within one STANDARD execution's year. The error is one line
// naming the keys to change.
func CheckLimits(cfg config.Config) error {
	timing := pipeline.FleetTiming{TaskTimeout: cfg.TaskTimeout, OfflineWait: cfg.OfflineWait}
	if err := timing.CheckPagedFleet(cfg.MaxBoards); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if !cfg.Coalesces() {
		return nil
	}
	if err := pipeline.CheckCoalesce(cfg.TaskTimeout, cfg.OfflineWait, target(cfg).Kind, cfg.MirrorDeletes); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func build(app awscdk.App, cfg config.Config, imageDirectory string) (*App, error) {
	env := &awscdk.Environment{
		Account: envOrNil("CDK_DEFAULT_ACCOUNT"),
		Region:  envOrNil("CDK_DEFAULT_REGION"),
	}
	out := &App{}
	props := &PipelineStackProps{
		StackProps:     awscdk.StackProps{Env: env, Description: jsii.String("edge-drop pipeline: S3 upload → EventBridge → Step Functions → ECS Anywhere board")},
		Config:         cfg,
		ImageDirectory: imageDirectory,
	}
	if !cfg.ImportsCluster() {
		out.Cluster = NewEdgeClusterStack(app, cfg.StackPrefix+"-Cluster", &EdgeClusterStackProps{
			StackProps:         awscdk.StackProps{Env: env, Description: jsii.String("edge-drop ECS Anywhere cluster for ARM boards")},
			ClusterName:        cfg.ClusterName,
			ManagedBoardPolicy: cfg.BoardPolicy == config.ManagedBoardPolicy,
		})
	}
	var err error
	if out.Pipeline, err = NewPipelineStack(app, cfg.StackPrefix+"-Pipeline", props); err != nil {
		return nil, err
	}
	if out.Cluster != nil {
		// The pipeline imports the cluster by its configured name (no
		// cross-stack reference); this only orders deploys: cluster first.
		out.Pipeline.AddStackDependency(out.Cluster.Stack, jsii.String("the pipeline runs tasks on the cluster"))
	}
	return out, nil
}

// Stacks lists the stacks that were created.
func (a *App) Stacks() []awscdk.Stack {
	var out []awscdk.Stack
	if a.Cluster != nil {
		out = append(out, a.Cluster.Stack)
	}
	return append(out, a.Pipeline.Stack)
}

func envOrNil(name string) *string {
	if v := os.Getenv(name); v != "" {
		return jsii.String(v)
	}
	return nil
}
