// Package stacks composes the constructs into edge-drop's two deployable
// stacks (cluster, pipeline), and Build adds them to an app. Reading the
// configuration from the app's context and synthesizing is package
// cdkapp's.
//
// Two stacks, because a cluster outlives pipelines: the boards register once
// with the cluster stack, and any number of pipeline stacks (one per bucket,
// team or key pattern) send work to it, deployed and destroyed on their own.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/edgecluster"
)

// EdgeClusterStackProps configures the cluster stack.
type EdgeClusterStackProps struct {
	awscdk.StackProps
	ClusterName string
	// ManagedBoardPolicy: see edgecluster.Props.
	ManagedBoardPolicy bool
}

// EdgeClusterStack holds the ECS Anywhere cluster the boards join.
type EdgeClusterStack struct {
	awscdk.Stack
	Cluster *edgecluster.EdgeCluster
}

// NewEdgeClusterStack creates the cluster, the board role and the
// registration outputs.
func NewEdgeClusterStack(scope constructs.Construct, id string, props *EdgeClusterStackProps) *EdgeClusterStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cluster := edgecluster.New(stack, "EdgeCluster", edgecluster.Props{
		ClusterName: props.ClusterName, ManagedBoardPolicy: props.ManagedBoardPolicy,
	})

	output(stack, "ClusterName", cluster.ClusterName, "ECS Anywhere cluster the boards join")
	output(stack, "InstanceRoleName", cluster.InstanceRole.RoleName(), "IAM role for SSM activations of the boards")
	output(stack, "ActivationCommand", cluster.ActivationCommand,
		"Step 1 (laptop): create an activation; prints ACTIVATION_ID and ACTIVATION_CODE")
	output(stack, "InstallCommand", cluster.InstallCommand,
		"Step 2 (board, arm64): with ACTIVATION_ID and ACTIVATION_CODE exported, install the SSM and ECS agents and join the cluster")
	return &EdgeClusterStack{Stack: stack, Cluster: cluster}
}

func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
