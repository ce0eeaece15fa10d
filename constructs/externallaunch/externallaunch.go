// Package externallaunch provides the ECS launch target CDK lacks: EXTERNAL,
// for tasks that run on ECS Anywhere instances (our ARM boards). It also
// pins the task definition's revision (see revision).
package externallaunch

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
)

// revision adds the task definition's ARN, revision included, as RunTask's
// TaskDefinition. CDK's EcsRunTask passes the family, which ECS resolves to
// the family's latest ACTIVE revision, while the state machine role may run
// only the revision the stack deployed: during a deploy, or after a
// revision was registered outside CloudFormation, the two differ and every
// RunTask is denied. EcsRunTask merges the launch target's parameters
// after its own (aws-cdk-lib 2.270, aws-stepfunctions-tasks/lib/ecs/
// run-task), so this one replaces the family; the stacks' tests assert the
// rendered Ref. Without options (no task definition known) params are
// returned as they are.
func revision(opts *awsstepfunctionstasks.LaunchTargetBindOptions, params map[string]any) map[string]any {
	if opts != nil && opts.TaskDefinition != nil {
		params["TaskDefinition"] = opts.TaskDefinition.TaskDefinitionArn()
	}
	return params
}

// LaunchType is the value the state machine passes to ecs:RunTask.
const LaunchType = "EXTERNAL"

// Target makes EcsRunTask start its task on ECS Anywhere.
//
// Pass it as a pointer (New returns one): jsii calls Bind through the
// interface and panics on a value receiver copy.
type Target struct{}

var _ awsstepfunctionstasks.IEcsLaunchTarget = (*Target)(nil)

// New returns the EXTERNAL launch target.
func New() *Target { return &Target{} }

// Bind adds LaunchType EXTERNAL and the task definition's revision ARN to
// the RunTask parameters. External tasks take no network configuration
// (bridge/host networking on the board), so nothing else is needed.
func (t *Target) Bind(_ awsstepfunctionstasks.EcsRunTask, opts *awsstepfunctionstasks.LaunchTargetBindOptions) *awsstepfunctionstasks.EcsLaunchTargetConfig {
	params := revision(opts, map[string]any{"LaunchType": LaunchType})
	return &awsstepfunctionstasks.EcsLaunchTargetConfig{Parameters: &params}
}
