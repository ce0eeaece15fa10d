// Package externallaunch provides the ECS launch target CDK lacks: EXTERNAL,
// for tasks that run on ECS Anywhere instances (our ARM boards).
package externallaunch

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
)

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

// Bind adds LaunchType EXTERNAL to the RunTask parameters. External tasks
// take no network configuration (bridge/host networking on the board), so
// nothing else is needed.
func (t *Target) Bind(_ awsstepfunctionstasks.EcsRunTask, _ *awsstepfunctionstasks.LaunchTargetBindOptions) *awsstepfunctionstasks.EcsLaunchTargetConfig {
	return &awsstepfunctionstasks.EcsLaunchTargetConfig{
		Parameters: &map[string]any{"LaunchType": LaunchType},
	}
}
