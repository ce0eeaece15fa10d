package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// A fleet larger than one execution serves (FleetTiming.MaxFleet) is
// delivered in pages: the parent lists the target's boards 100 at a time
// (listContainerInstances' largest page) and runs one child execution per
// page with states:startExecution.sync:2; the child is the same per-board
// fan-out (FanOut) over the ARNs it was given, and ends in a summary of
// its page (contract.FleetSummary). The parent adds the summaries up and
// gives the verdict. Every execution stays far inside its own 25,000
// history events and 256 KiB of state (FleetTiming.PageEvents,
// PagedEvents); docs/scale.md argues this against a Distributed Map.

// PageMachineID is the construct ID of the page (child) state machine.
const PageMachineID = "Page"

// BoardsPerChild is one child execution's page: listContainerInstances
// returns at most 100 ARNs, about 10 KB of the parent's state. A child's
// history at its worst (every board offline for all of offlineWait) is
// about 7,600 events of its 25,000 (FleetTiming.PageEvents).
const BoardsPerChild = 100

// NamedBoardsCap is how many offline and how many failed boards the
// summary names (the counts are exact; each child's history holds its
// boards' outcomes).
const NamedBoardsCap = 50

// childMachine is the paged delivery's child state machine, once made
// (the parent's role may start it).
type childMachine struct{ machine awsstepfunctions.StateMachine }

// paged reports whether a delivery needs pages: a fleet target whose
// maxBoards is more than one execution serves.
func (p Props) paged() bool {
	return p.Target.Kind != TargetAny && p.MaxBoards > p.timing().MaxFleet()
}

// pagedFanOut is the parent of a paged delivery, and makes its child
// state machine (with its own role and log group) under scope/Page.
func pagedFanOut(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.IChainable {
	child := newPageMachine(scope, props, fan)
	if props.child != nil {
		props.child.machine = child
	}
	choose := awsstepfunctions.NewPass(scope, fan.name(contract.StateChooseBoards), &awsstepfunctions.PassProps{
		Comment: at(fmt.Sprintf("The cluster query that selects the boards; one child execution per page of %d, their summaries add up", BoardsPerChild)),
		Parameters: &map[string]any{
			"filter":  fan.Filter,
			"target":  fan.Target,
			"summary": emptySummary(),
		},
		ResultPath: at("$.fleet"),
	})
	first, next := listBoards(scope, fan, childPages)
	deliver := deliverToPage(scope, fan, child)
	addPage, pageFailed, flatten := pageSummaryStates(scope, fan)
	deliver.AddCatch(pageFailed, &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: at("$.pageError")})

	morePages := awsstepfunctions.NewChoice(scope, fan.name(contract.StateMorePages), &awsstepfunctions.ChoiceProps{
		Comment: at("Another page of boards, or the verdict"),
	}).
		When(hasNextToken(), next, nil).
		Otherwise(pagedVerdict(scope, fan))
	deliver.Next(addPage).Next(flatten).Next(morePages)
	pageFailed.Next(flatten)
	anyInPage := awsstepfunctions.NewChoice(scope, fan.name(contract.StateAnyBoardsInPage), &awsstepfunctions.ChoiceProps{
		Comment: at("An empty page (no match) starts no child"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.listed.ContainerInstanceArns[0]")), deliver, nil).
		Otherwise(morePages)
	first.Next(anyInPage)
	next.Next(anyInPage)
	if fan.Redeliver == nil {
		return choose.Next(first)
	}
	// A redelivery to one board of a paged target: the same narrowed query,
	// one page, one child.
	return redeliverChoice(scope, fan, map[string]any{"summary": emptySummary()}, first, choose.Next(first))
}

// deliverToPage runs the child on the listed page and keeps its summary.
func deliverToPage(scope constructs.Construct, fan FanOutProps, child awsstepfunctions.StateMachine) awsstepfunctionstasks.StepFunctionsStartExecution {
	input := map[string]any{
		"fleet": fleetQuery(nil),
		"arns":  list("$.listed.ContainerInstanceArns"),
	}
	if fan.Ledger.enabled() {
		// The ledger's writes in the child read the S3 event's object
		// (ledger.go: $states.context.Execution.Input.detail.object).
		input["detail"] = map[string]any{"object": awsstepfunctions.JsonPath_ObjectAt(at("$$.Execution.Input.detail.object"))}
	}
	for _, f := range fan.Carry {
		input[f] = str("$." + f)
	}
	deliver := awsstepfunctionstasks.NewStepFunctionsStartExecution(scope, fan.name(contract.StateDeliverToPage), &awsstepfunctionstasks.StepFunctionsStartExecutionProps{
		Comment:             at("One child execution delivers to this page's boards and returns its summary (.sync:2: the output as JSON)"),
		StateMachine:        child,
		IntegrationPattern:  awsstepfunctions.IntegrationPattern_RUN_JOB,
		Input:               awsstepfunctions.TaskInput_FromObject(&input),
		AssociateWithParent: jsii.Bool(true),
		ResultSelector:      &map[string]any{"summary": awsstepfunctions.JsonPath_ObjectAt(at("$.Output"))},
		ResultPath:          at("$.page"),
	})
	deliver.AddRetry(&awsstepfunctions.RetryProps{
		Errors:      jsii.Strings("StepFunctions.ExecutionLimitExceeded", "StepFunctions.ThrottlingException"),
		Interval:    awscdk.Duration_Seconds(jsii.Number(5)),
		MaxAttempts: jsii.Number(5),
		BackoffRate: jsii.Number(2),
	})

	return deliver
}

// newPageMachine is the child state machine of a paged delivery: FanOut
// over the ARNs of its input, ending in the page's summary. Its role is
// the fleet role (RunTask pinned to the cluster, describe its boards).
func newPageMachine(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.StateMachine {
	c := constructs.NewConstruct(scope, jsii.String(PageMachineID))
	fan.page = true
	fan.Redeliver = nil // the parent narrowed the query; the child gets ARNs
	fan.Filter = str("$.fleet.filter")
	fan.Target = str("$.fleet.target")
	return newStateMachine(c, stateMachineProps{
		Comment:  fmt.Sprintf("edge-drop: deliver an uploaded S3 object to one page of at most %d boards (a child of the delivery state machine)", BoardsPerChild),
		Body:     FanOut(c, fan),
		Timeout:  props.timing().PageTimeout(),
		Role:     newRole(c, props.pageNeeds()),
		LogGroup: executionLogGroup(c, "page-", props.LogRetention, props.RemovalPolicy),
	})
}

// pageOfArns replaces ListBoards in a child: the ARNs of its input
// ($.arns), BoardsPerPage at a time, kept in $.listed (which every rebuilt
// state carries) with the index of the next chunk.
func pageOfArns(scope constructs.Construct, prefix string) (first, next nextable, more awsstepfunctions.Condition) {
	chunks := awsstepfunctions.JsonPath_ArrayPartition(list("$.arns"), jsii.Number(BoardsPerPage))
	first = awsstepfunctions.NewPass(scope, at(prefix+contract.StateFirstBoards), &awsstepfunctions.PassProps{
		Comment: at(fmt.Sprintf("The page's ARNs in chunks of %d (DescribeContainerInstances' share of the state), the first of them", BoardsPerPage)),
		Parameters: &map[string]any{
			"chunks":                chunks,
			"count":                 awsstepfunctions.JsonPath_ArrayLength(chunks),
			"next":                  1,
			"ContainerInstanceArns": awsstepfunctions.JsonPath_ArrayGetItem(chunks, jsii.Number(0)),
		},
		ResultPath: at("$.listed"),
	})
	next = awsstepfunctions.NewPass(scope, at(prefix+contract.StateNextBoards), &awsstepfunctions.PassProps{
		Comment: at("The next chunk of the page"),
		Parameters: &map[string]any{
			"chunks":                list("$.listed.chunks"),
			"count":                 num("$.listed.count"),
			"next":                  awsstepfunctions.JsonPath_MathAdd(num("$.listed.next"), jsii.Number(1)),
			"ContainerInstanceArns": awsstepfunctions.JsonPath_ArrayGetItem(list("$.listed.chunks"), num("$.listed.next")),
		},
		ResultPath: at("$.listed"),
	})
	more = awsstepfunctions.Condition_NumberLessThanJsonPath(at("$.listed.next"), at("$.listed.count"))
	return first, next, more
}
