// Package trust builds the service principals edge-drop's roles trust, each
// with the confused-deputy conditions AWS documents for that service: the
// service may assume the role only on behalf of this account, and only for
// a resource of this service in this account and region.
package trust

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Service is one AWS service that assumes a role, with the ARN pattern of
// the resources it may act for.
type Service struct {
	// Principal is the service principal, e.g. "ssm.amazonaws.com".
	Principal string
	// ArnService and ArnResource form the aws:SourceArn pattern
	// arn:PARTITION:ArnService:REGION:ACCOUNT:ArnResource.
	ArnService, ArnResource string
}

// The services edge-drop's roles trust. Each pattern is the one the
// service's confused-deputy documentation gives.
var (
	// SSM hybrid activations (Systems Manager User Guide, "Create the IAM
	// service role required for Systems Manager in hybrid and multicloud
	// environments"): aws:SourceArn arn:aws:ssm:REGION:ACCOUNT:*.
	SSM = Service{Principal: "ssm.amazonaws.com", ArnService: "ssm", ArnResource: "*"}
	// ECS task and task execution roles (ECS Developer Guide, "Amazon ECS
	// task IAM role" / "task execution IAM role"): arn:aws:ecs:REGION:ACCOUNT:*.
	ECSTasks = Service{Principal: "ecs-tasks.amazonaws.com", ArnService: "ecs", ArnResource: "*"}
	// Step Functions execution roles (Step Functions Developer Guide,
	// "Cross-service confused deputy prevention"): the account's state machines.
	StepFunctions = Service{Principal: "states.amazonaws.com", ArnService: "states", ArnResource: "stateMachine:*"}
	// EventBridge target roles (EventBridge User Guide, "Cross-service
	// confused deputy prevention"): the account's rules. The exact rule ARN
	// would make the role and the rule depend on each other.
	EventBridge = Service{Principal: "events.amazonaws.com", ArnService: "events", ArnResource: "rule/*"}
	// EventBridge Pipes execution roles (EventBridge User Guide, "Amazon
	// EventBridge Pipes permissions"): the account's pipes.
	Pipes = Service{Principal: "pipes.amazonaws.com", ArnService: "pipes", ArnResource: "pipe/*"}
)

// SourceArn is the aws:SourceArn pattern of s in scope's account and region.
func (s Service) SourceArn(scope constructs.Construct) *string {
	stack := awscdk.Stack_Of(scope)
	return jsii.String("arn:" + *stack.Partition() + ":" + s.ArnService + ":" + *stack.Region() + ":" + *stack.Account() + ":" + s.ArnResource)
}

// PrincipalIn is s's service principal with aws:SourceAccount and
// aws:SourceArn conditions for scope's account and region.
func (s Service) PrincipalIn(scope constructs.Construct) awsiam.ServicePrincipal {
	return awsiam.NewServicePrincipal(jsii.String(s.Principal), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(scope).Account()},
			"ArnLike":      map[string]any{"aws:SourceArn": s.SourceArn(scope)},
		},
	})
}
