package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/trust"
)

// childMachine is the paged delivery's child state machine, once made.
type childMachine struct{ machine awsstepfunctions.StateMachine }

// Step Functions' managed rule for states:startExecution.sync: the service
// creates it in the account to learn when a child execution ends (Step
// Functions Developer Guide, "IAM policies for AWS Step Functions",
// Synchronous: events:PutTargets, PutRule and DescribeRule on this rule).
const childSyncRule = "StepFunctionsGetEventsForStepFunctionsExecutionRule"

// deliveryRole is the delivery state machine's role: today's, or for a
// paged delivery the parent's (list the boards, run and watch its child
// executions; with mirrored deletes also what the deletes' fan-out needs).
// Call it after the definition is built (it reads the child's ARN).
func deliveryRole(scope constructs.Construct, props Props) awsiam.Role {
	if !props.paged() {
		return stateMachineRole(scope, props, props.fansOut())
	}
	children := childStatements(scope, props)
	if props.MirrorDeletes {
		return stateMachineRole(scope, props, true, children...)
	}
	statements := append([]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListTheBoardsOfTheCluster"),
			Actions:   jsii.Strings("ecs:ListContainerInstances"),
			Resources: &[]*string{props.Cluster.ClusterArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LogDeliveryAndTracing"),
			Actions:   jsii.Strings(StateMachineAnyResourceActions...),
			Resources: jsii.Strings("*"),
		}),
	}, children...)
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
	role := awsiam.NewRole(scope, jsii.String("StateMachineRole"), &awsiam.RoleProps{
		AssumedBy:      trust.StepFunctions.PrincipalIn(scope),
		Description:    jsii.String("edge-drop delivery state machine (paged): list the cluster's boards, run one child execution per page, log, trace"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Delivery": doc},
	})
	suppressChildWildcards(role, "logs:*LogDelivery*, logs resource-policy calls and xray:* have no resource-level permissions; ")
	return role
}

// childStatements let the parent run its child synchronously: start the
// one child state machine, describe and stop its executions (their ARNs
// are made at run time: execution:<child name>:*), and the managed rule
// through which Step Functions learns that a child ended.
func childStatements(scope constructs.Construct, props Props) []awsiam.PolicyStatement {
	stack := awscdk.Stack_Of(scope)
	child := props.child.machine
	childName := stack.SplitArn(child.StateMachineArn(), awscdk.ArnFormat_COLON_RESOURCE_NAME).ResourceName
	executions := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"),
		ResourceName: awscdk.Fn_Join(jsii.String(""), &[]*string{childName, jsii.String(":*")}),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	rule := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(childSyncRule),
	})
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StartTheChildPerPage"),
			Actions:   jsii.Strings("states:StartExecution"),
			Resources: &[]*string{child.StateMachineArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WatchAndStopItsChildExecutions"),
			Actions:   jsii.Strings("states:DescribeExecution", "states:StopExecution"),
			Resources: &[]*string{executions},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ManagedRuleOfStartExecutionSync"),
			Actions:   jsii.Strings("events:PutTargets", "events:PutRule", "events:DescribeRule"),
			Resources: &[]*string{rule},
		}),
	}
}

// suppressChildWildcards justifies the paged parent's wildcards.
func suppressChildWildcards(role awsiam.Role, more string) {
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String(more + "states:DescribeExecution/StopExecution on the executions of the one child state machine " +
			"(execution names are made at run time; startExecution.sync watches and, on abort, stops them)."),
		AppliesTo: &[]any{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:states:.+:execution:.+:\*$/`)},
		},
	}}, jsii.Bool(true))
}
