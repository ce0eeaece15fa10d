package edgecluster

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The boards' scoped policy. Every board keeps these credentials on its
// microSD, so the policy holds only the calls the two agents make for
// edge-drop, each on the narrowest resource the Service Authorization
// Reference allows, and only in the stack's region.
//
// Not granted, on purpose:
//   - ssm:GetParameter(s): the agents read no parameters (the managed
//     AmazonSSMManagedInstanceCore would allow every parameter in the region).
//   - ecr:* and logs:*: on external instances the task execution role pulls
//     the image and writes the awslogs stream (ECS Developer Guide, "Amazon
//     ECS Anywhere IAM role": the execution role is required for awslogs and
//     for ECR images; the instance role needs them only if it is to replace
//     the execution role).
//   - ecs:CreateCluster: the agent calls it only for a missing "default"
//     cluster; this cluster exists before any board registers.
//   - SSM State Manager, inventory, patching and Distributor calls: nothing
//     here uses them (the SSM agent logs an AccessDenied when it polls for
//     associations; harmless).
var (
	// Actions of the ECS agent on the cluster resource (Service
	// Authorization Reference, Amazon ECS: resource type "cluster*").
	// AmazonEC2ContainerServiceforEC2Role grants them on "*".
	boardClusterActions = []string{
		"ecs:RegisterContainerInstance",   // agent start: joins the cluster
		"ecs:DeregisterContainerInstance", // agent shutdown / deregistration
		"ecs:SubmitAttachmentStateChanges",
		"ecs:SubmitContainerStateChange", // container RUNNING/STOPPED, exit code
		"ecs:SubmitTaskStateChange",      // task RUNNING/STOPPED: what runTask.sync waits for
	}
	// Actions of the ECS agent on its own container instance (resource type
	// "container-instance*", ARN container-instance/CLUSTER/ID with the
	// long ARN format that has been the default since 2021).
	boardInstanceActions = []string{
		"ecs:Poll",                  // the ACS websocket: the agent receives tasks
		"ecs:StartTelemetrySession", // the TCS websocket: metrics, Container Insights
	}
	// Calls without resource-level permissions (Service Authorization
	// Reference: no resource type), so on "*" with aws:RequestedRegion.
	boardAnyResourceActions = []string{
		"ecs:DiscoverPollEndpoint", // the ECS agent finds its ACS/TCS endpoints
		// SSM agent core (AmazonSSMManagedInstanceCore less parameter reads,
		// associations, inventory and patching):
		"ssm:UpdateInstanceInformation", // heartbeat: the board shows as Online
		"ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
		"ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel", // Session Manager and the agent's control channel
		"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
		"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply", // Run Command
	}
)

// ManagedPolicyNames are AWS's managed policies for ECS Anywhere, attached
// only with boardPolicy=managed.
var ManagedPolicyNames = []string{"AmazonSSMManagedInstanceCore", "service-role/AmazonEC2ContainerServiceforEC2Role"}

// grantBoard gives the instance role the scoped policy.
func grantBoard(role awsiam.Role, clusterArn *string, clusterName string) {
	stack := awscdk.Stack_Of(role)
	inRegion := &map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": stack.Region()}}
	instances := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ecs"), Resource: jsii.String("container-instance"),
		ResourceName: jsii.String(clusterName + "/*"),
	})
	for _, st := range []*awsiam.PolicyStatementProps{
		{Sid: jsii.String("EcsAgentOnThisCluster"), Actions: jsii.Strings(boardClusterActions...), Resources: &[]*string{clusterArn}},
		{Sid: jsii.String("EcsAgentOnItsContainerInstances"), Actions: jsii.Strings(boardInstanceActions...), Resources: &[]*string{instances}},
		{Sid: jsii.String("AgentCallsWithoutResourceTypes"), Actions: jsii.Strings(boardAnyResourceActions...), Resources: jsii.Strings("*"), Conditions: inRegion},
	} {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(st))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Boards: ecs:Poll/StartTelemetrySession on this cluster's container instances (IDs are assigned at registration); " +
			"ecs:DiscoverPollEndpoint, ssm:UpdateInstanceInformation, ssmmessages:* channels and ec2messages:* have no resource-level " +
			"permissions in the Service Authorization Reference, so they are on * limited to this region by aws:RequestedRegion."),
		AppliesTo: &[]any{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ecs:.+:container-instance\/.+\/\*$/`)},
		},
	}}, jsii.Bool(true))
}

// attachManagedPolicies is the documented fallback (boardPolicy=managed).
func attachManagedPolicies(role awsiam.Role) {
	var applies []any
	for _, name := range ManagedPolicyNames {
		role.AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(name)))
		applies = append(applies, jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/"+name))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("boardPolicy=managed was chosen explicitly: AWS's ECS Anywhere managed policies (ecs-anywhere-iam), wider than " +
			"edge-drop's scoped default, as the fallback when a newer agent needs a call the scoped policy lacks."),
		AppliesTo: &applies,
	}}, jsii.Bool(true))
}
