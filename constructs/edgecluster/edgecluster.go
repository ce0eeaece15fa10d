// Package edgecluster is the ECS Anywhere cluster the boards join, with the
// role an activation needs and the exact commands to register a board.
package edgecluster

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// InstallScriptURL is AWS's ECS Anywhere installer; it picks the arm64
// agent on the board by itself.
const InstallScriptURL = "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"

// Props names the cluster.
type Props struct {
	ClusterName string
}

// EdgeCluster exposes what it made.
type EdgeCluster struct {
	constructs.Construct
	// Cluster is the typed handle pipelines use. The cluster is an L1
	// resource: ECS Anywhere needs no VPC, and the L2 Cluster would create
	// one with NAT gateways.
	Cluster     awsecs.ICluster
	CfnCluster  awsecs.CfnCluster
	ClusterName *string
	// InstanceRole is what SSM gives a registered board: the SSM agent and
	// the ECS agent run under it.
	InstanceRole awsiam.Role
	// ActivationCommand creates a one-board SSM activation; InstallCommand
	// registers the board (run on the board, with the activation's id and
	// code in $ACTIVATION_ID and $ACTIVATION_CODE).
	ActivationCommand *string
	InstallCommand    *string
}

// New creates the cluster, the instance role and the registration commands.
func New(scope constructs.Construct, id string, props Props) *EdgeCluster {
	c := constructs.NewConstruct(scope, jsii.String(id))
	e := &EdgeCluster{Construct: c}

	e.CfnCluster = awsecs.NewCfnCluster(c, jsii.String("Cluster"), &awsecs.CfnClusterProps{
		ClusterName: jsii.String(props.ClusterName),
		ClusterSettings: &[]any{&awsecs.CfnCluster_ClusterSettingsProperty{
			Name: jsii.String("containerInsights"), Value: jsii.String("enabled"),
		}},
	})
	e.ClusterName = e.CfnCluster.Ref()
	e.Cluster = handle(c, "Handle", e.CfnCluster.Ref(), e.CfnCluster.AttrArn())

	e.InstanceRole = awsiam.NewRole(c, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ssm.amazonaws.com"), nil),
		Description: jsii.String("ECS Anywhere: role of SSM-managed edge boards (SSM agent + ECS agent)"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonEC2ContainerServiceforEC2Role")),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(e.InstanceRole, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("ECS Anywhere requires exactly these AWS managed policies on the SSM instance role (AWS docs: ecs-anywhere-iam); AWS keeps them current as the agents change."),
		AppliesTo: &[]any{
			jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"),
			jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"),
		},
	}}, jsii.Bool(true))

	e.ActivationCommand = awscdk.Fn_Sub(jsii.String(
		"aws ssm create-activation --region ${AWS::Region} --iam-role ${Role} --registration-limit 1 "+
			"--default-instance-name nanopi --description edge-drop --query '[ActivationId,ActivationCode]' --output text"),
		&map[string]*string{"Role": e.InstanceRole.RoleName()})
	e.InstallCommand = awscdk.Fn_Sub(jsii.String(
		"curl --proto https -fsSL -o /tmp/ecs-anywhere-install.sh "+InstallScriptURL+
			" && sudo bash /tmp/ecs-anywhere-install.sh --region ${AWS::Region} --cluster ${Cluster}"+
			" --activation-id \"$ACTIVATION_ID\" --activation-code \"$ACTIVATION_CODE\""),
		&map[string]*string{"Cluster": e.ClusterName})
	return e
}

// Import returns a handle to an existing cluster, for pipelines deployed
// without the cluster stack.
func Import(scope constructs.Construct, id, clusterName string) awsecs.ICluster {
	arn := awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ecs"), Resource: jsii.String("cluster"), ResourceName: jsii.String(clusterName),
	})
	return handle(scope, id, jsii.String(clusterName), arn)
}

// handle makes an ICluster that EcsRunTask accepts. EcsRunTask reads the
// cluster's security groups (none for EXTERNAL), which a cluster imported
// by ARN alone refuses; the attributes form needs a VPC, so it gets a
// placeholder that is never rendered into a template: boards are not in a
// VPC.
func handle(scope constructs.Construct, id string, name, arn *string) awsecs.ICluster {
	c := constructs.NewConstruct(scope, jsii.String(id))
	return awsecs.Cluster_FromClusterAttributes(c, jsii.String("Cluster"), &awsecs.ClusterAttributes{
		ClusterName: name,
		ClusterArn:  arn,
		Vpc: awsec2.Vpc_FromVpcAttributes(c, jsii.String("NoVpc"), &awsec2.VpcAttributes{
			VpcId:             jsii.String("vpc-not-used-by-ecs-anywhere"),
			AvailabilityZones: jsii.Strings("not-used"),
		}),
	})
}
