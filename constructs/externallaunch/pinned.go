package externallaunch

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"
)

// Pinned is the EXTERNAL launch target with one memberOf placement
// constraint: RunTask places the task on the container instance whose
// ec2InstanceId (mi-… on ECS Anywhere) the state input holds at
// InstanceIDPath, or fails (AGENT, RESOURCE:…) without queueing.
type Pinned struct {
	InstanceIDPath string
}

var _ awsstepfunctionstasks.IEcsLaunchTarget = (*Pinned)(nil)

// NewPinned returns the launch target pinned to the instance at path.
func NewPinned(instanceIDPath string) *Pinned { return &Pinned{InstanceIDPath: instanceIDPath} }

// Bind adds LaunchType EXTERNAL, the task definition's revision ARN and
// the placement constraint; its expression is built at run time
// (States.Format), so it renders as "Expression.$".
func (p *Pinned) Bind(_ awsstepfunctionstasks.EcsRunTask, opts *awsstepfunctionstasks.LaunchTargetBindOptions) *awsstepfunctionstasks.EcsLaunchTargetConfig {
	params := revision(opts, map[string]any{
		"LaunchType": LaunchType,
		"PlacementConstraints": []any{map[string]any{
			"Type": "memberOf",
			"Expression": awsstepfunctions.JsonPath_Format(jsii.String("ec2InstanceId == {}"),
				awsstepfunctions.JsonPath_StringAt(jsii.String(p.InstanceIDPath))),
		}},
	})
	return &awsstepfunctionstasks.EcsLaunchTargetConfig{Parameters: &params}
}
