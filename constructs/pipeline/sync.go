package pipeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/trust"
	"github.com/edge-drop/edge-drop/contract"
)

// SyncInputBoard is the field of the sync's input that names one board:
// {} syncs every board of the target, {"board": "shop-1"} that board.
const SyncInputBoard = "board"

// SyncProps configures the sync state machine: the pipeline's Flow (a
// sync reaches the boards a delivery does and keeps what a delivery
// would), and what only syncs have.
type SyncProps struct {
	Flow
	// Name is the state machine's name (<stackPrefix>-Sync).
	Name string
	// KeyPrefix is the listing's prefix (config.ListPrefix: the task role
	// may list under it only). Routing by key ignores it: each board lists
	// its route.
	KeyPrefix string
	// Every is the schedule (0: none, syncs start on demand only).
	Every time.Duration
	// DeadLetterQueue takes scheduled starts EventBridge could not make.
	DeadLetterQueue awssqs.IQueue
}

// Sync exposes what it made; Schedule and TargetRole are nil without a
// schedule.
type Sync struct {
	constructs.Construct
	StateMachine awsstepfunctions.StateMachine
	LogGroup     awslogs.LogGroup
	Schedule     awsevents.Rule
	TargetRole   awsiam.Role
}

// NewSync creates the sync state machine and, when props.Every is set, the
// schedule rule that starts it.
func NewSync(scope constructs.Construct, id string, props SyncProps) *Sync {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Sync{Construct: c}
	props.Flow = props.Flow.withDefaults()
	timing := props.timing()
	s.LogGroup = executionLogGroup(c, "sync-", props.LogRetention, props.RemovalPolicy)
	s.StateMachine = newStateMachine(c, stateMachineProps{
		Name:     props.Name,
		Comment:  "edge-drop: reconcile the boards' data dirs with the bucket (input {} or {\"board\": \"<name>\"})",
		Body:     syncDefinition(c, props, timing),
		Timeout:  timing.ExecutionTimeout(),
		Role:     newRole(c, props.runsTasks(true)),
		LogGroup: s.LogGroup,
	})
	if props.Every == 0 {
		return s
	}

	s.TargetRole = awsiam.NewRole(c, jsii.String("TargetRole"), &awsiam.RoleProps{
		AssumedBy:   trust.EventBridge.PrincipalIn(c),
		Description: jsii.String("edge-drop sync schedule: start executions of the sync state machine"),
	})
	s.Schedule = awsevents.NewRule(c, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("edge-drop: reconcile every board with the bucket every " + strings.TrimSuffix(strings.TrimSuffix(props.Every.String(), "0s"), "0m")),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(props.Every.Minutes()))),
	})
	// A start that fails is retried until the next scheduled one would
	// make it pointless (at most EventBridge's 24 h).
	s.Schedule.AddTarget(awseventstargets.NewSfnStateMachine(s.StateMachine, &awseventstargets.SfnStateMachineProps{
		Input:           awsevents.RuleTargetInput_FromObject(map[string]any{}),
		Role:            s.TargetRole,
		DeadLetterQueue: props.DeadLetterQueue,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Minutes(jsii.Number(min(props.Every, targetMaxEventAgeHours*time.Hour).Minutes())),
	}))
	return s
}

// syncDefinition is WhichBoards → (BoardIsAName → SyncOneBoard |
// SyncEveryBoard) → FanOut running the task in sync mode on every board
// of the query.
//
// The boards: the target's (deliverTo board, group or all); for "any"
// and routing by key every named board. Given a board, the target's
// boards narrowed to it: a board outside the target matches nothing
// (NoBoards), as it would get nothing from a delivery.
func syncDefinition(scope constructs.Construct, props SyncProps, timing FleetTiming) awsstepfunctions.IChainable {
	fan := FanOut(scope, FanOutProps{
		Cluster: props.Cluster,
		Task:    props.Task,
		Filter:  str("$.query.filter"),
		Target:  str("$.query.target"),
		What:    str("$.query.what"),
		// The causes read $.query after the fan-out rebuilt the state.
		Carry:       []string{"query"},
		Environment: syncEnvironment(props),
		Timing:      timing,
		ExitZero:    contract.OutcomeSynced,
		Ledger:      props.Ledger,
		record:      ledgerKind{sync: true},
	})
	return whichBoards(scope, props, fan)
}

// syncQuery is the cluster query of the target's boards and the target
// in words.
func syncQuery(t Target) (filter, target string) {
	switch t.Kind {
	case TargetBoard, TargetGroup:
		return Filter(t.Kind, t.Name), string(t.Kind) + ":" + t.Name
	case TargetRouted:
		return Filter(TargetAll, ""), "every board (routing by key: " + t.RoutePrefix + "<board>/)"
	}
	return Filter(TargetAll, ""), "every board"
}

// syncEnvironment is what the task in sync mode learns: the bucket, the
// pattern, the prefix it lists and whether it mirrors deletes.
func syncEnvironment(props SyncProps) []*awsstepfunctionstasks.TaskEnvironmentVariable {
	env := []*awsstepfunctionstasks.TaskEnvironmentVariable{
		{Name: at(contract.EnvMode), Value: at(contract.ModeSync)},
		{Name: at(contract.EnvBucket), Value: props.Bucket.BucketName()},
		{Name: at(contract.EnvKeyPattern), Value: at(props.KeyPattern)},
		{Name: at(contract.EnvMirrorDeletes), Value: at(strconv.FormatBool(props.MirrorDeletes))},
	}
	prefix := at(props.KeyPrefix)
	if t := props.Target; t.Kind == TargetRouted {
		// Each board lists its own route, <routePrefix><board>/, and drops
		// those components as deliveries do. Keys routed to a group are
		// not synced: which groups a board is in is not known here.
		prefix = awsstepfunctions.JsonPath_Format(at(t.RoutePrefix+"{}/"),
			awsstepfunctions.JsonPath_ArrayGetItem(list("$.names"), jsii.Number(0)))
		env = append(env, stripComponentsEnv(t.RoutePrefix))
	}
	return append(env, &awsstepfunctionstasks.TaskEnvironmentVariable{Name: at(contract.EnvKeyPrefix), Value: prefix})
}

// whichBoards chooses the query by the input: every board of the target
// ({}), or the one it names ({"board": "<name>"}) once proven a name.
func whichBoards(scope constructs.Construct, props SyncProps, fan awsstepfunctions.IChainable) awsstepfunctions.IChainable {
	const board = "$." + SyncInputBoard
	filter, target := syncQuery(props.Target)
	what := "the sync of s3://" + *props.Bucket.BucketName() + "/" + props.KeyPrefix + " (" + props.KeyPattern + ")"
	all := awsstepfunctions.NewPass(scope, at(contract.StateSyncAll), &awsstepfunctions.PassProps{
		Comment:    at("Every board of the target"),
		Parameters: &map[string]any{"filter": filter, "target": target, "what": what},
		ResultPath: at("$.query"),
	}).Next(fan)
	// The one place the input's text reaches a cluster query: only after
	// BoardIsAName has proven it a name.
	one := awsstepfunctions.NewPass(scope, at(contract.StateSyncOne), &awsstepfunctions.PassProps{
		Comment: at("The named board, if the target has it"),
		Parameters: &map[string]any{
			"filter": awsstepfunctions.JsonPath_Format(at(filter+" and attribute:"+contract.AttrBoard+" == {}"), str(board)),
			"target": awsstepfunctions.JsonPath_Format(at("board {} of "+target), str(board)),
			"what":   what,
		},
		ResultPath: at("$.query"),
	}).Next(fan)
	bad := awsstepfunctions.NewFail(scope, at(contract.StateBadBoard), &awsstepfunctions.FailProps{
		Comment: at("The input's board is not a name: nothing was asked of ECS"),
		Error:   at(contract.ErrBadTarget),
		Cause:   at(`the input's "board" must be a board name (` + contract.NameRule + `), or leave it out to sync every board: nothing was synced`),
	})
	return awsstepfunctions.NewChoice(scope, at(contract.StateSyncWhich), &awsstepfunctions.ChoiceProps{
		Comment: at(`{} syncs every board of the target, {"board": "<name>"} that board`),
	}).
		When(awsstepfunctions.Condition_And(
			awsstepfunctions.Condition_IsPresent(at(board)),
			awsstepfunctions.Condition_IsString(at(board)),
			awsstepfunctions.Condition_Not(awsstepfunctions.Condition_StringEquals(at(board), at(""))),
		), nameCheck(scope, at(contract.StateBoardNameOK), board, bad, one), nil).
		When(awsstepfunctions.Condition_IsPresent(at(board)), bad, nil).
		Otherwise(all)
}
