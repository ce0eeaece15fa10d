package pipeline

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newStateMachine is a STANDARD state machine (.sync needs it), traced,
// logging everything to its group.
func newStateMachine(c constructs.Construct, props stateMachineProps) awsstepfunctions.StateMachine {
	var name *string
	if props.Name != "" {
		name = jsii.String(props.Name)
	}
	return awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName: name,
		Comment:          jsii.String(props.Comment),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(props.Body),
		Timeout:          awscdk.Duration_Seconds(jsii.Number(props.Timeout.Seconds())),
		TracingEnabled:   jsii.Bool(true),
		// The role's policy is written in full by newRole; CDK's
		// own grants (unconditioned RunTask, StopTask on *) do not reach it.
		Role: props.Role.WithoutPolicyUpdates(nil),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          props.LogGroup,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
	})
}

// stateMachineProps is what differs between the stack's state machines.
type stateMachineProps struct {
	Name, Comment string
	Body          awsstepfunctions.IChainable
	Timeout       time.Duration
	Role          awsiam.Role
	LogGroup      awslogs.LogGroup
}

// executionLogGroup is a state machine's log group. Under /aws/vendedlogs/
// CloudWatch Logs needs no per-log-group entry in the account's log
// resource policy, whose 5,120-character limit otherwise fails state
// machine creation in busy accounts. The stack's GUID ends the name: a
// group retained by an earlier stack of the same name does not block a new
// deploy. infix tells the stack's state machines apart ("" for the
// pipeline's).
func executionLogGroup(c constructs.Construct, infix string, retention awslogs.RetentionDays, removal awscdk.RemovalPolicy) awslogs.LogGroup {
	stackGUID := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), awscdk.Aws_STACK_ID(), nil))
	return awslogs.NewLogGroup(c, jsii.String("ExecutionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(ExecutionLogGroupPrefix + *awscdk.Stack_Of(c).StackName() + "-" + infix), stackGUID}),
		Retention:     retention,
		RemovalPolicy: removal,
	})
}

// ExecutionLogGroupPrefix starts the name of the state machine's log group
// (the stack name and the stack's GUID follow).
const ExecutionLogGroupPrefix = "/aws/vendedlogs/states/"
