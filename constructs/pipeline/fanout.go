package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/contract"
)

// BoardsPerPage is ListBoards' MaxResults (listContainerInstances allows
// up to 100). DescribeContainerInstances returns every attribute and
// resource of an instance, about 4 KB for an ECS Anywhere board, and the
// page's description shares the state's 256 KiB payload quota with the
// outcomes gathered so far: 10 keep it to about 40 KB (see MaxFleet).
const BoardsPerPage = 10

// MaxConcurrency is how many boards receive at once. Inline Map runs at
// most 40 iterations at a time whatever it is told; 20 leaves half of that
// so that the boards of one site, which share its uplink, do not all
// download at once, and the RunTask and DescribeTasks calls of the
// in-flight iterations stay well inside the account's ECS API token
// buckets that the boards' agents share.
const MaxConcurrency = 20

// FanOutProps configures a fan-out: one pinned task per board that
// matches a cluster query.
type FanOutProps struct {
	Cluster awsecs.ICluster
	Task    *downloadtask.DownloadTask
	// Filter is the cluster query that selects the boards (a literal, or a
	// JsonPath expression built at run time).
	Filter *string
	// Target says in words which boards were meant (in causes).
	Target *string
	// What names the delivered object in causes (a JsonPath expression).
	What *string
	// Carry are the top-level fields of the state each iteration needs;
	// Environment's paths read them from the iteration's input.
	Carry       []string
	Environment []*awsstepfunctionstasks.TaskEnvironmentVariable
	Timing      FleetTiming
	// ExitZero is the outcome word of a task that exited 0 without a
	// report: what the mode does when it succeeds (delivered, synced,
	// deleted). Empty: delivered.
	ExitZero string
	// Prefix starts every state name: a state machine with two fan-outs
	// (deliveries and deletes) gives one of them a prefix.
	Prefix string

	// Pageable: with Props.MaxBoards over one execution's bounds, the
	// delivery runs one child execution per page of boards (pages.go).
	// Deliveries only: deletes and syncs stay within one execution.
	Pageable bool

	// page, when set, makes this the child of a paged delivery (pages.go):
	// the boards are the container instance ARNs in the input ($.arns),
	// not a cluster query's, and the fan-out ends in a summary.
	page bool
	// Ledger, when set, records each board's outcome (ledger.go); record
	// says as what.
	Ledger Ledger
	record ledgerKind
	// Redeliver, when set, honours a redelivery's board (the input's
	// contract.RedeliverField): the query narrowed to that board, built by
	// Redeliver from the board's JsonPath (only after it proved a name).
	Redeliver func(board *string) *string
	// redeliver asks fleet to set Redeliver for the target.
	redeliver bool
}

// FanOut builds ChooseBoards → (ListBoards → DescribeBoards →
// DeliverToEachBoard → CollectOutcomes)* → the verdict: NoBoards when no
// board matched, SomeBoardsFailed when any board did not get the file,
// else the execution's output is the list of outcomes, one
// {board, status, exitCode, taskArn, cause} per board.
func FanOut(scope constructs.Construct, props FanOutProps) awsstepfunctions.IChainable {
	at := jsii.String
	choose := awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateChooseBoards), &awsstepfunctions.PassProps{
		Comment: jsii.String("The cluster query that selects the boards; outcomes accumulate over the pages"),
		Parameters: &map[string]any{
			"filter":   props.Filter,
			"target":   props.Target,
			"outcomes": []any{},
		},
		ResultPath: at("$.fleet"),
	})
	var first, next nextable
	more := awsstepfunctions.Condition_And(
		awsstepfunctions.Condition_IsPresent(at("$.listed.NextToken")),
		awsstepfunctions.Condition_IsString(at("$.listed.NextToken")),
	)
	if props.page {
		first, next, more = pageOfArns(scope, props.Prefix)
	} else {
		l1, l2 := listBoards(scope, props, false), listBoards(scope, props, true)
		l1.AddRetry(sdkRetry.props())
		l2.AddRetry(sdkRetry.props())
		first, next = l1, l2
	}
	deliver := describeAndDeliver(scope, props)
	collect, flatten := collectOutcomes(scope, props)
	tallyOnly := awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateTally), &awsstepfunctions.PassProps{
		Comment: at("Count the boards and pick the outcomes that are failures (failed, offline)"),
		Parameters: &map[string]any{
			"boards": awsstepfunctions.JsonPath_ArrayLength(awsstepfunctions.JsonPath_ListAt(at("$.fleet.outcomes"))),
			// Only failures count (contract.OutcomeIsFailure): gone, kept,
			// up_to_date, conflict, ... are the board doing its job.
			"undelivered": awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s' || @.status == '%s')]", contract.OutcomeFailed, contract.OutcomeOffline))),
			"offline":     awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')].board", contract.OutcomeOffline))),
			"failed":      awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')].board", contract.OutcomeFailed))),
		},
		ResultPath: at("$.tally"),
	})
	verdict := awsstepfunctions.NewChoice(scope, at(props.Prefix+contract.StateMoreBoards), &awsstepfunctions.ChoiceProps{
		Comment: at("Another page of boards, or the verdict"),
	}).
		When(more, next, nil)
	if props.page {
		// A child reports its page to its parent, which gives the verdict.
		verdict.Otherwise(tallyOnly.Next(summarizePage(scope, props.Prefix)))
	} else {
		verdict.When(awsstepfunctions.Condition_IsPresent(at("$.fleet.outcomes[0]")), tallyOnly.Next(fleetVerdict(scope, props)), nil).
			Otherwise(noBoards(scope, props))
	}

	anyOnPage := awsstepfunctions.NewChoice(scope, at(props.Prefix+contract.StateAnyBoardsOnPage), &awsstepfunctions.ChoiceProps{
		Comment: at("An empty page (no match) skips describe and delivery"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.listed.ContainerInstanceArns[0]")),
			deliver.Next(collect).Next(flatten).Next(verdict), nil).
		Otherwise(verdict)
	first.Next(anyOnPage)
	next.Next(anyOnPage)
	if props.Redeliver == nil {
		return choose.Next(first)
	}
	return redeliverChoice(scope, props, map[string]any{"outcomes": []any{}}, first, choose.Next(first))
}

// nextable is a state the fan-out continues from.
type nextable interface {
	awsstepfunctions.IChainable
	Next(awsstepfunctions.IChainable) awsstepfunctions.Chain
}

// listBoards lists one page of the cluster query's boards: the first, or
// (more) the next.
func listBoards(scope constructs.Construct, props FanOutProps, more bool) awsstepfunctionstasks.CallAwsService {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	id := contract.StateListBoards
	params := map[string]any{
		"Cluster":    props.Cluster.ClusterArn(),
		"Filter":     str("$.fleet.filter"),
		"Status":     "ACTIVE",
		"MaxResults": BoardsPerPage,
	}
	comment := "The first page of the container instances that match the query"
	if more {
		id = contract.StateListMoreBoards
		params["NextToken"] = str("$.listed.NextToken")
		comment = "The next page"
	}
	return awsstepfunctionstasks.NewCallAwsService(scope, at(props.Prefix+id), &awsstepfunctionstasks.CallAwsServiceProps{
		Comment:      at(comment),
		Service:      at("ecs"),
		Action:       at("listContainerInstances"),
		IamAction:    at("ecs:ListContainerInstances"),
		IamResources: &[]*string{props.Cluster.ClusterArn()},
		Parameters:   &params,
		ResultPath:   at("$.listed"),
	})
}

// describeAndDeliver describes the page's boards, then runs one pinned
// task per board (deliverToOneBoard), MaxConcurrency at a time.
func describeAndDeliver(scope constructs.Construct, props FanOutProps) awsstepfunctions.Chain {
	at := jsii.String
	describe := awsstepfunctionstasks.NewCallAwsService(scope, at(props.Prefix+contract.StateDescribeBoards), &awsstepfunctionstasks.CallAwsServiceProps{
		Comment:   at("Each board's name and instance id (mi-…) on this page"),
		Service:   at("ecs"),
		Action:    at("describeContainerInstances"),
		IamAction: at("ecs:DescribeContainerInstances"),
		// Container instance ARNs are known only at run time; the role
		// scopes the call to this cluster's container instances.
		IamResources: &[]*string{props.Cluster.ClusterArn()},
		Parameters: &map[string]any{
			"Cluster":            props.Cluster.ClusterArn(),
			"ContainerInstances": awsstepfunctions.JsonPath_ListAt(at("$.listed.ContainerInstanceArns")),
		},
		ResultSelector: &map[string]any{"instances": awsstepfunctions.JsonPath_ListAt(at("$.ContainerInstances"))},
		ResultPath:     at("$.described"),
	})
	describe.AddRetry(sdkRetry.props())

	selector := map[string]any{
		"instance": awsstepfunctions.JsonPath_StringAt(at("$$.Map.Item.Value.Ec2InstanceId")),
		// A filter yields a list: the one value of the board attribute
		// (every query requires it to exist).
		"names": awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$$.Map.Item.Value.Attributes[?(@.Name == '%s')].Value", contract.AttrBoard))),
	}
	for _, f := range props.Carry {
		selector[f] = awsstepfunctions.JsonPath_StringAt(at("$." + f))
	}
	each := awsstepfunctions.NewMap(scope, at(props.Prefix+contract.StateDeliverEach), &awsstepfunctions.MapProps{
		Comment:        at(fmt.Sprintf("One pinned task per board, %d at a time; each iteration catches its own failure", MaxConcurrency)),
		ItemsPath:      at("$.described.instances"),
		ItemSelector:   &selector,
		MaxConcurrency: jsii.Number(MaxConcurrency),
		ResultPath:     at("$.page"),
	})
	each.ItemProcessor(deliverToOneBoard(scope, props), nil)

	return describe.Next(each)
}

// collectOutcomes adds the page's outcomes to the ones so far: Collect
// pairs them, Flatten makes one list.
func collectOutcomes(scope constructs.Construct, props FanOutProps) (collect, flatten awsstepfunctions.Pass) {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	// The state is rebuilt (no ResultPath) so that the page's description
	// and the outcomes are not carried twice: the payload quota.
	rebuilt := func(fleet map[string]any, extra map[string]any) *map[string]any {
		state := map[string]any{"listed": awsstepfunctions.JsonPath_ObjectAt(at("$.listed")), "fleet": fleet}
		for _, f := range props.Carry {
			state[f] = awsstepfunctions.JsonPath_StringAt(at("$." + f))
		}
		for k, v := range extra {
			state[k] = v
		}
		return &state
	}
	query := map[string]any{"filter": str("$.fleet.filter"), "target": str("$.fleet.target")}
	collect = awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateCollect), &awsstepfunctions.PassProps{
		Comment: at("Pair the outcomes so far with this page's (there is no array concatenation intrinsic); drop the page's description"),
		Parameters: rebuilt(query, map[string]any{
			"pair": awsstepfunctions.JsonPath_Array(str("$.fleet.outcomes"), str("$.page")),
		}),
	})
	flatten = awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateFlatten), &awsstepfunctions.PassProps{
		Comment: at("[[so far...], [this page...]] → [so far..., this page...]"),
		Parameters: rebuilt(map[string]any{
			"filter":   str("$.fleet.filter"),
			"target":   str("$.fleet.target"),
			"outcomes": awsstepfunctions.JsonPath_ListAt(at("$.pair[*][*]")),
		}, nil),
	})
	return collect, flatten
}

// noBoards ends a fan-out whose cluster query matched no board.
func noBoards(scope constructs.Construct, props FanOutProps) awsstepfunctions.Fail {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	return awsstepfunctions.NewFail(scope, at(props.Prefix+contract.StateNoBoards), &awsstepfunctions.FailProps{
		Comment: at("No registered board matches the target: nothing was delivered"),
		Error:   at(contract.ErrNoBoards),
		CausePath: awsstepfunctions.JsonPath_Format(at("no registered board matches {} (cluster query: {}): {} was not delivered"),
			str("$.fleet.target"), str("$.fleet.filter"), props.What),
	})
}

// fleetVerdict follows TallyOutcomes: SomeBoardsFailed, or the outcomes.
func fleetVerdict(scope constructs.Construct, props FanOutProps) awsstepfunctions.Choice {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	// The cause names the boards by status; their outcomes (exit code in
	// words, RunTask's failures) are in TallyOutcomes' output. Names only
	// keep the cause short: a Fail's cause holds at most 32,768 characters.
	someFailed := awsstepfunctions.NewFail(scope, at(props.Prefix+contract.StateSomeBoardsFail), &awsstepfunctions.FailProps{
		Comment: at("At least one board did not get the file; the cause names those boards, TallyOutcomes holds their outcomes"),
		Error:   at(contract.ErrSomeBoardsFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at("{} was not delivered to {} of the {} boards of {}: offline {}, failed {} (outcomes: output of "+props.Prefix+contract.StateTally+")"),
			props.What,
			awsstepfunctions.JsonPath_ArrayLength(awsstepfunctions.JsonPath_ListAt(at("$.tally.undelivered"))),
			awsstepfunctions.JsonPath_StringAt(at("$.tally.boards")),
			str("$.fleet.target"),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ListAt(at("$.tally.offline"))),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ListAt(at("$.tally.failed")))),
	})
	delivered := awsstepfunctions.NewSucceed(scope, at(props.Prefix+contract.StateFleetDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("Every matching board got the file; the output is one outcome per board"),
		OutputPath: at("$.fleet.outcomes"),
	})
	return awsstepfunctions.NewChoice(scope, at(props.Prefix+contract.StateVerdict), &awsstepfunctions.ChoiceProps{
		Comment: at("Succeed unless a board failed or stayed offline"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.tally.undelivered[0]")), someFailed, nil).
		Otherwise(delivered)
}
