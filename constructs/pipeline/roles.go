package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/contract"
)

// roleNeeds is what a state machine must be allowed, and so all its role
// is allowed: newRole writes the role's whole policy from it. Every ECS
// call is bound to the one cluster.
type roleNeeds struct {
	// description is the role's Description.
	description string
	cluster     awsecs.ICluster
	// task, when set, is run on the cluster with ecs:runTask.sync: run it,
	// tag the tasks it creates, watch and stop them, pass its two roles to
	// ECS tasks.
	task *downloadtask.DownloadTask
	// listBoards lists the cluster's container instances, describeBoards
	// describes them (a fan-out's boards).
	listBoards, describeBoards bool
	// child, when set, is started with states:startExecution.sync (one
	// execution per page of a paged delivery).
	child awsstepfunctions.IStateMachine
	// ledger, when enabled, is written (each board's outcome).
	ledger Ledger
}

// The roles' descriptions.
const (
	taskRunnerDescription  = "edge-drop state machine: run the download task on the one cluster, log, trace"
	pagedParentDescription = "edge-drop delivery state machine (paged): list the cluster's boards, run one child execution per page, log, trace"
)

// runsTasks is the role of a state machine that runs the flow's task; a
// fan-out's (every target but "any", deletes, the sync, a page) also
// lists and describes the boards and writes the ledger.
func (f Flow) runsTasks(fansOut bool) roleNeeds {
	n := roleNeeds{description: taskRunnerDescription, cluster: f.Cluster, task: f.Task}
	if fansOut {
		n.listBoards, n.describeBoards, n.ledger = true, true, f.Ledger
	}
	return n
}

// pageNeeds is a page machine's: a fan-out's, less listing the boards
// (the parent lists them and gives each child its page's ARNs).
func (f Flow) pageNeeds() roleNeeds {
	n := f.runsTasks(true)
	n.listBoards = false
	return n
}

// deliveryNeeds is the delivery state machine's: its task's (runsTasks),
// or for a paged delivery the parent's: list the boards and run the
// child per page, and the tasks of its deletes when it mirrors them. Call
// it after the definition is built (it reads the child).
func (p Props) deliveryNeeds() roleNeeds {
	if !p.paged() {
		return p.runsTasks(p.fansOut())
	}
	if !p.MirrorDeletes { // the children run the tasks
		return roleNeeds{description: pagedParentDescription, cluster: p.Cluster, listBoards: true, child: p.child.machine}
	}
	n := p.runsTasks(true)
	n.child = p.child.machine
	return n
}

// newRole is the state machine's execution role with its whole policy.
func newRole(scope constructs.Construct, n roleNeeds) awsiam.Role {
	statements := n.statements(awscdk.Stack_Of(scope))
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
	role := awsiam.NewRole(scope, jsii.String("StateMachineRole"), &awsiam.RoleProps{
		AssumedBy:      trust.StepFunctions.PrincipalIn(scope),
		Description:    jsii.String(n.description),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Delivery": doc},
	})
	n.suppressWildcards(role)
	return role
}

// statements are the policy's, in the order the templates have them: a
// role that runs no task (a paged parent) lists the boards before it logs.
func (n roleNeeds) statements(stack awscdk.Stack) []awsiam.PolicyStatement {
	var s []awsiam.PolicyStatement
	if n.task != nil {
		s = append(s, runTaskStatements(stack, n.cluster, n.task)...)
	}
	listFirst := n.listBoards && n.task == nil
	if listFirst {
		s = append(s, listBoardsStatement(n.cluster))
	}
	s = append(s, logAndTraceStatement())
	if n.listBoards && !listFirst {
		s = append(s, listBoardsStatement(n.cluster))
	}
	if n.describeBoards {
		s = append(s, describeBoardsStatement(stack, n.cluster))
	}
	if n.child != nil {
		s = append(s, startChildStatements(stack, n.child)...)
	}
	if n.ledger.enabled() {
		s = append(s, ledgerStatement(n.ledger))
	}
	return s
}

// onCluster is the condition that binds an ECS call to the cluster.
func onCluster(cluster awsecs.ICluster) *map[string]any {
	return &map[string]any{"ArnEquals": map[string]any{"ecs:cluster": cluster.ClusterArn()}}
}

// clusterArn is the ARN of the cluster's resources of a type (task,
// container-instance): <type>/<cluster>/*.
func clusterArn(stack awscdk.Stack, cluster awsecs.ICluster, resource string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ecs"), Resource: jsii.String(resource),
		ResourceName: jsii.String(*cluster.ClusterName() + "/*"),
	})
}

// runTaskStatements are what ecs:runTask.sync needs: run the task, tag the
// tasks it creates, watch and stop them, pass the task's roles, and the
// managed rule through which Step Functions learns that a task stopped.
func runTaskStatements(stack awscdk.Stack, cluster awsecs.ICluster, task *downloadtask.DownloadTask) []awsiam.PolicyStatement {
	tasks := clusterArn(stack, cluster, "task")
	return []awsiam.PolicyStatement{
		runTaskStatement(cluster, task),
		tagOnCreateStatement(tasks),
		watchTasksStatement(cluster, tasks),
		passTaskRolesStatement(task),
		managedRuleStatement(stack, "ManagedRuleOfRunTaskSync", ecsSyncRule),
	}
}

func runTaskStatement(cluster awsecs.ICluster, task *downloadtask.DownloadTask) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RunTheDownloadTaskOnTheCluster"),
		Actions:    jsii.Strings("ecs:RunTask"),
		Resources:  &[]*string{task.TaskDefinition.TaskDefinitionArn()},
		Conditions: onCluster(cluster),
	})
}

// tagOnCreateStatement: RunTask with PropagateTags copies the task
// definition's tags (stack tags, an organisation's required tags) onto the
// task it creates, and ECS authorizes that as ecs:TagResource on the new
// task with ecs:CreateAction=RunTask (ECS Developer Guide, "Grant
// permission to tag resources on creation"). Without it every RunTask of a
// tagged task definition is AccessDenied. Tag-on-create only: no tagging
// of tasks that exist, on no other cluster (the ARN names it; TagResource
// has no ecs:cluster key).
func tagOnCreateStatement(tasks *string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("TagTheTasksItStarts"),
		Actions:    jsii.Strings("ecs:TagResource"),
		Resources:  &[]*string{tasks},
		Conditions: &map[string]any{"StringEquals": map[string]any{"ecs:CreateAction": "RunTask"}},
	})
}

// watchTasksStatement: runTask.sync polls the task and stops it on timeout
// or abort; both actions take task ARNs and the ecs:cluster condition.
func watchTasksStatement(cluster awsecs.ICluster, tasks *string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("WatchAndStopItsTasks"),
		Actions:    jsii.Strings("ecs:DescribeTasks", "ecs:StopTask"),
		Resources:  &[]*string{tasks},
		Conditions: onCluster(cluster),
	})
}

func passTaskRolesStatement(task *downloadtask.DownloadTask) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PassTheTaskRolesToEcsTasksOnly"),
		Actions:    jsii.Strings("iam:PassRole"),
		Resources:  &[]*string{task.ExecutionRole.RoleArn(), task.TaskRole.RoleArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
	})
}

// Step Functions' managed rules for the .sync integrations: the service
// creates them in the account to learn when a task stops or a child
// execution ends (Step Functions Developer Guide, "IAM policies for Amazon
// ECS" and "IAM policies for AWS Step Functions", Synchronous:
// events:PutTargets, PutRule and DescribeRule on the rule).
const (
	ecsSyncRule   = "StepFunctionsGetEventsForECSTaskRule"
	childSyncRule = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
)

func managedRuleStatement(stack awscdk.Stack, sid, rule string) awsiam.PolicyStatement {
	arn := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(rule),
	})
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings("events:PutTargets", "events:PutRule", "events:DescribeRule"),
		Resources: &[]*string{arn},
	})
}

// StateMachineAnyResourceActions are the only actions the state machine
// role has on "*": log delivery and X-Ray, none of which has a resource type
// in the Service Authorization Reference (Step Functions Developer Guide,
// "IAM policies for logging to CloudWatch Logs" and "for X-Ray").
var StateMachineAnyResourceActions = []string{
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
}

func logAndTraceStatement() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LogDeliveryAndTracing"),
		Actions:   jsii.Strings(StateMachineAnyResourceActions...),
		Resources: jsii.Strings("*"),
	})
}

// listBoardsStatement: the action's resource is the cluster itself.
func listBoardsStatement(cluster awsecs.ICluster) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListTheBoardsOfTheCluster"),
		Actions:   jsii.Strings("ecs:ListContainerInstances"),
		Resources: &[]*string{cluster.ClusterArn()},
	})
}

// describeBoardsStatement: container-instance ARNs of this cluster, with
// ecs:cluster, which the Service Authorization Reference lists for
// DescribeContainerInstances. No other cluster, no wildcard action.
func describeBoardsStatement(stack awscdk.Stack, cluster awsecs.ICluster) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DescribeTheBoardsOfTheCluster"),
		Actions:    jsii.Strings("ecs:DescribeContainerInstances"),
		Resources:  &[]*string{clusterArn(stack, cluster, "container-instance")},
		Conditions: onCluster(cluster),
	})
}

// startChildStatements let the parent run its child synchronously: start
// the one child state machine, describe and stop its executions (their
// ARNs are made at run time: execution:<child name>:*), and the managed
// rule through which Step Functions learns that a child ended.
func startChildStatements(stack awscdk.Stack, child awsstepfunctions.IStateMachine) []awsiam.PolicyStatement {
	childName := stack.SplitArn(child.StateMachineArn(), awscdk.ArnFormat_COLON_RESOURCE_NAME).ResourceName
	executions := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"),
		ResourceName: awscdk.Fn_Join(jsii.String(""), &[]*string{childName, jsii.String(":*")}),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
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
		managedRuleStatement(stack, "ManagedRuleOfStartExecutionSync", childSyncRule),
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

// The IAM5 justifications: what the resource wildcards are and why.
const (
	taskWildcards = "ecs:DescribeTasks/StopTask on this cluster's tasks (task IDs are assigned at run time; ecs:cluster pins the cluster); " +
		"ecs:TagResource on this cluster's tasks, only as RunTask creates them (ecs:CreateAction=RunTask); " +
		"fleet targets: ecs:DescribeContainerInstances on this cluster's container instances (boards register at any time; ecs:cluster pins the cluster); " +
		"logs:*LogDelivery*, logs resource-policy calls and xray:* have no resource-level permissions."
	logWildcards   = "logs:*LogDelivery*, logs resource-policy calls and xray:* have no resource-level permissions; "
	childWildcards = "states:DescribeExecution/StopExecution on the executions of the one child state machine " +
		"(execution names are made at run time; startExecution.sync watches and, on abort, stops them)."
)

// suppressWildcards justifies the role's resource wildcards to cdk-nag:
// the tasks' (and the logs') for a role that runs the task, the child's
// executions' (and the logs', if not yet) for a paged parent.
func (n roleNeeds) suppressWildcards(role awsiam.Role) {
	if n.task != nil {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String(taskWildcards),
			AppliesTo: &[]any{
				jsii.String("Resource::*"),
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ecs:.+:task\/.+\/\*$/`)},
				&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ecs:.+:container-instance\/.+\/\*$/`)},
			},
		}}, jsii.Bool(true))
	}
	if n.child == nil {
		return
	}
	logs := logWildcards
	if n.task != nil {
		logs = "" // said above
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String(logs + childWildcards),
		AppliesTo: &[]any{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:states:.+:execution:.+:\*$/`)},
		},
	}}, jsii.Bool(true))
}
