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

	"github.com/edge-drop/edge-drop/constructs/trust"
)

// The ECS Anywhere installer and how to check it before it runs as root.
// AWS signs the script (.asc next to it) with the Amazon ECS key, the same
// key its installer uses for the ecs-init packages; the key file comes from
// AWS's repository, and gpg's VALIDSIG status line must name this primary
// key fingerprint (ECS Developer Guide, "Registering an external instance":
// verify the install script's signature; key "Amazon ECS
// <ecs-security@amazon.com>"), so a swapped key or script fails.
const (
	InstallScriptURL    = "https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"
	InstallSignatureURL = InstallScriptURL + ".asc"
	ECSSigningKeyURL    = "https://raw.githubusercontent.com/aws/amazon-ecs-init/master/scripts/amazon-ecs-agent.gpg"
	ECSSigningKeyFPR    = "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
)

// VerifyInstallScript is the board-side shell that downloads the installer,
// its signature and the signing key into a fresh keyring and fails unless
// the signature is good and made by ECSSigningKeyFPR. It needs curl and gpg.
// The installer goes into a private directory (mktemp -d: mode 0700, a new
// name), not a fixed /tmp path: on a board with other users, a file at a
// name known in advance could be swapped between the check and `sudo bash`.
// InstallDirVar names that directory for the commands that follow.
const VerifyInstallScript = "export GNUPGHOME=\"$(mktemp -d)\" " + InstallDirVar + "=\"$(mktemp -d)\"" +
	" && curl --proto =https -fsSL -o \"$" + InstallDirVar + "/ecs-anywhere-install.sh\" " + InstallScriptURL +
	" && curl --proto =https -fsSL -o \"$" + InstallDirVar + "/ecs-anywhere-install.sh.asc\" " + InstallSignatureURL +
	" && curl --proto =https -fsSL " + ECSSigningKeyURL + " | gpg --batch --quiet --import" +
	" && gpg --batch --status-fd 1 --verify \"$" + InstallDirVar + "/ecs-anywhere-install.sh.asc\" \"$" + InstallDirVar + "/ecs-anywhere-install.sh\" 2>/dev/null" +
	" | grep -q '^\\[GNUPG:\\] VALIDSIG .* " + ECSSigningKeyFPR + "$'" +
	" && echo 'ecs-anywhere-install.sh: good signature by the Amazon ECS key " + ECSSigningKeyFPR + "'"

// InstallDirVar is the shell variable that holds the installer's private
// directory (no braces: Fn::Sub reads ${...} as its own).
const InstallDirVar = "EDGE_DROP_INSTALL_DIR"

// Props names the cluster.
type Props struct {
	ClusterName string
	// ManagedBoardPolicy attaches AWS's managed policies to the boards'
	// role instead of edge-drop's scoped policy (the fallback when a newer
	// agent needs a call the scoped policy lacks).
	ManagedBoardPolicy bool
}

// EdgeCluster exposes what it made.
type EdgeCluster struct {
	constructs.Construct
	// CfnCluster is an L1 resource: ECS Anywhere needs no VPC, and the L2
	// Cluster would create one with NAT gateways. Pipelines import it by
	// name (Import).
	CfnCluster  awsecs.CfnCluster
	ClusterName *string
	// InstanceRole is what SSM gives a registered board: the SSM agent and
	// the ECS agent run under it.
	InstanceRole awsiam.Role
	// ActivationCommand creates a one-board SSM activation; InstallCommand
	// verifies the installer's signature and registers the board (run on the
	// board, with the activation's id and code in $ACTIVATION_ID and
	// $ACTIVATION_CODE).
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

	e.InstanceRole = awsiam.NewRole(c, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:   trust.SSM.PrincipalIn(c),
		Description: jsii.String("ECS Anywhere: role of SSM-managed edge boards (SSM agent + ECS agent)"),
	})
	if props.ManagedBoardPolicy {
		attachManagedPolicies(e.InstanceRole)
	} else {
		grantBoard(e.InstanceRole, e.CfnCluster.AttrArn(), props.ClusterName)
	}

	e.ActivationCommand = awscdk.Fn_Sub(jsii.String(
		"aws ssm create-activation --region ${AWS::Region} --iam-role ${Role} --registration-limit 1 "+
			"--default-instance-name nanopi --description edge-drop --query '[ActivationId,ActivationCode]' --output text"),
		&map[string]*string{"Role": e.InstanceRole.RoleName()})
	// Fn::Sub reads ${...} as its own: the shell's $(...) and "$VAR" stay
	// as they are, and ${!...} would be needed only for ${...} in the shell.
	e.InstallCommand = awscdk.Fn_Sub(jsii.String(VerifyInstallScript+
		" && sudo bash \"$"+InstallDirVar+"/ecs-anywhere-install.sh\" --region ${AWS::Region} --cluster ${Cluster}"+
		" --activation-id \"$ACTIVATION_ID\" --activation-code \"$ACTIVATION_CODE\""),
		&map[string]*string{"Cluster": e.ClusterName})
	return e
}

// Import returns a handle to the cluster by its name, for every pipeline:
// the ARN is built from the name in the pipeline's own account and region,
// so no stack reads another stack's outputs.
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
