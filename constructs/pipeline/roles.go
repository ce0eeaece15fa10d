package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/contract"
)

// StateMachineAnyResourceActions are the only actions the state machine
// role has on "*": log delivery and X-Ray, none of which has a resource type
// in the Service Authorization Reference (Step Functions Developer Guide,
// "IAM policies for logging to CloudWatch Logs" and "for X-Ray").
var StateMachineAnyResourceActions = []string{
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
}

// Step Functions' managed rule for ecs:runTask.sync: the service creates
// it in the account to learn when a task stops (Step Functions Developer
// Guide, "IAM policies for Amazon ECS": events:PutTargets, PutRule and
// DescribeRule on this rule).
const ecsSyncRule = "StepFunctionsGetEventsForECSTaskRule"

// stateMachineRole is the execution role with its whole policy: what
// ecs:runTask.sync, logging and tracing need, every ECS call bound to the
// one cluster by ecs:cluster, and PassRole only to ECS tasks.
// A fleet role (every target but "any", and the sync) may also list and
// describe the cluster's boards.
func stateMachineRole(scope constructs.Construct, props Props, fleet bool, extra ...awsiam.PolicyStatement) awsiam.Role {
	stack := awscdk.Stack_Of(scope)
	onCluster := map[string]any{"ArnEquals": map[string]any{"ecs:cluster": props.Cluster.ClusterArn()}}
	tasks := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ecs"), Resource: jsii.String("task"),
		ResourceName: jsii.String(*props.Cluster.ClusterName() + "/*"),
	})
	rule := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(ecsSyncRule),
	})
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("RunTheDownloadTaskOnTheCluster"),
			Actions:    jsii.Strings("ecs:RunTask"),
			Resources:  &[]*string{props.Task.TaskDefinition.TaskDefinitionArn()},
			Conditions: &onCluster,
		}),
		// RunTask with PropagateTags copies the task definition's tags (stack
		// tags, an organisation's required tags) onto the task it creates,
		// and ECS authorizes that as ecs:TagResource on the new task with
		// ecs:CreateAction=RunTask (ECS Developer Guide, "Grant permission to
		// tag resources on creation"). Without it every RunTask of a tagged
		// task definition is AccessDenied. Tag-on-create only: no tagging
		// of tasks that exist, on no other cluster (the ARN names it;
		// TagResource has no ecs:cluster key).
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("TagTheTasksItStarts"),
			Actions:    jsii.Strings("ecs:TagResource"),
			Resources:  &[]*string{tasks},
			Conditions: &map[string]any{"StringEquals": map[string]any{"ecs:CreateAction": "RunTask"}},
		}),
		// runTask.sync polls the task and stops it on timeout or abort; both
		// actions take task ARNs and the ecs:cluster condition.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("WatchAndStopItsTasks"),
			Actions:    jsii.Strings("ecs:DescribeTasks", "ecs:StopTask"),
			Resources:  &[]*string{tasks},
			Conditions: &onCluster,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("PassTheTaskRolesToEcsTasksOnly"),
			Actions: jsii.Strings("iam:PassRole"),
			Resources: &[]*string{
				props.Task.ExecutionRole.RoleArn(), props.Task.TaskRole.RoleArn(),
			},
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ManagedRuleOfRunTaskSync"),
			Actions:   jsii.Strings("events:PutTargets", "events:PutRule", "events:DescribeRule"),
			Resources: &[]*string{rule},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("LogDeliveryAndTracing"),
			Actions:   jsii.Strings(StateMachineAnyResourceActions...),
			Resources: jsii.Strings("*"),
		}),
	}
	if fleet {
		statements = append(statements, fleetStatements(stack, props, onCluster)...)
	}
	statements = append(statements, extra...)
	if props.Ledger.enabled() && fleet {
		statements = append(statements, ledgerStatement(props.Ledger))
	}
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
	role := awsiam.NewRole(scope, jsii.String("StateMachineRole"), &awsiam.RoleProps{
		AssumedBy:      trust.StepFunctions.PrincipalIn(scope),
		Description:    jsii.String("edge-drop state machine: run the download task on the one cluster, log, trace"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Delivery": doc},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:DescribeTasks/StopTask on this cluster's tasks (task IDs are assigned at run time; ecs:cluster pins the cluster); " +
			"ecs:TagResource on this cluster's tasks, only as RunTask creates them (ecs:CreateAction=RunTask); " +
			"fleet targets: ecs:DescribeContainerInstances on this cluster's container instances (boards register at any time; ecs:cluster pins the cluster); " +
			"logs:*LogDelivery*, logs resource-policy calls and xray:* have no resource-level permissions."),
		AppliesTo: &[]any{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ecs:.+:task\/.+\/\*$/`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ecs:.+:container-instance\/.+\/\*$/`)},
		},
	}}, jsii.Bool(true))
	if len(extra) > 0 {
		suppressChildWildcards(role, "")
	}
	return role
}

// fleetStatements let a fleet target find its boards: list the container
// instances of this cluster (the action's resource is the cluster itself)
// and describe them (container-instance ARNs of this cluster, with
// ecs:cluster, which the Service Authorization Reference lists for
// DescribeContainerInstances). No other cluster, no wildcard action.
func fleetStatements(stack awscdk.Stack, props Props, onCluster map[string]any) []awsiam.PolicyStatement {
	instances := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ecs"), Resource: jsii.String("container-instance"),
		ResourceName: jsii.String(*props.Cluster.ClusterName() + "/*"),
	})
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListTheBoardsOfTheCluster"),
			Actions:   jsii.Strings("ecs:ListContainerInstances"),
			Resources: &[]*string{props.Cluster.ClusterArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DescribeTheBoardsOfTheCluster"),
			Actions:    jsii.Strings("ecs:DescribeContainerInstances"),
			Resources:  &[]*string{instances},
			Conditions: &onCluster,
		}),
	}
}

// ledgerStatement lets the state machine write the ledger's items: the two
// actions of its DynamoDB integrations, on the table only (not its
// indexes, which DynamoDB maintains), no reads, no deletes. The items it
// writes are its own kinds' (dynamodb:LeadingKeys: obj#... and board#...
// partitions only).
func ledgerStatement(l Ledger) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RecordOutcomesInTheLedger"),
		Actions:   jsii.Strings("dynamodb:UpdateItem", "dynamodb:PutItem"),
		Resources: &[]*string{l.TableArn},
		Conditions: &map[string]any{"ForAllValues:StringLike": map[string]any{
			"dynamodb:LeadingKeys": []string{contract.PKObjectPrefix + "*", contract.PKBoardPrefix + "*"},
		}},
	})
}

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

// childMachine is the paged delivery's child state machine, once made.
type childMachine struct{ machine awsstepfunctions.StateMachine }

// Step Functions' managed rule for states:startExecution.sync: the service
// creates it in the account to learn when a child execution ends (Step
// Functions Developer Guide, "IAM policies for AWS Step Functions",
// Synchronous: events:PutTargets, PutRule and DescribeRule on this rule).
const childSyncRule = "StepFunctionsGetEventsForStepFunctionsExecutionRule"

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
