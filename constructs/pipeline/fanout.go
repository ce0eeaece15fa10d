package pipeline

import (
	"fmt"
	"maps"

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

// name is a state's name in this fan-out: Prefix first.
func (f FanOutProps) name(state string) *string { return at(f.Prefix + state) }

// FanOut builds ChooseBoards → (ListBoards → DescribeBoards →
// DeliverToEachBoard → CollectOutcomes)* → the verdict: NoBoards when no
// board matched, SomeBoardsFailed when any board did not get the file,
// else the execution's output is the list of outcomes, one
// {board, status, exitCode, taskArn, cause} per board.
func FanOut(scope constructs.Construct, props FanOutProps) awsstepfunctions.IChainable {
	choose := awsstepfunctions.NewPass(scope, props.name(contract.StateChooseBoards), &awsstepfunctions.PassProps{
		Comment: jsii.String("The cluster query that selects the boards; outcomes accumulate over the pages"),
		Parameters: &map[string]any{
			"filter":   props.Filter,
			"target":   props.Target,
			"outcomes": []any{},
		},
		ResultPath: at("$.fleet"),
	})
	var first, next nextable
	more := hasNextToken()
	if props.page {
		first, next, more = pageOfArns(scope, props.Prefix)
	} else {
		first, next = listBoards(scope, props, boardPages)
	}
	deliver := describeAndDeliver(scope, props)
	collect, flatten := collectOutcomes(scope, props)
	tallyOnly := tallyOutcomes(scope, props)
	verdict := awsstepfunctions.NewChoice(scope, props.name(contract.StateMoreBoards), &awsstepfunctions.ChoiceProps{
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

	anyOnPage := awsstepfunctions.NewChoice(scope, props.name(contract.StateAnyBoardsOnPage), &awsstepfunctions.ChoiceProps{
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

// tallyOutcomes counts the boards and picks the failures.
func tallyOutcomes(scope constructs.Construct, props FanOutProps) awsstepfunctions.Pass {
	return awsstepfunctions.NewPass(scope, props.name(contract.StateTally), &awsstepfunctions.PassProps{
		Comment: at("Count the boards and pick the outcomes that are failures (failed, offline)"),
		Parameters: &map[string]any{
			"boards": awsstepfunctions.JsonPath_ArrayLength(list("$.fleet.outcomes")),
			// Only failures count (contract.OutcomeIsFailure): gone, kept,
			// up_to_date, conflict, ... are the board doing its job.
			"undelivered": awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s' || @.status == '%s')]", contract.OutcomeFailed, contract.OutcomeOffline))),
			"offline":     awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')].board", contract.OutcomeOffline))),
			"failed":      awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')].board", contract.OutcomeFailed))),
		},
		ResultPath: at("$.tally"),
	})
}

// nextable is a state the fan-out continues from.
type nextable interface {
	awsstepfunctions.IChainable
	Next(awsstepfunctions.IChainable) awsstepfunctions.Chain
}

// listing is how a fan-out lists its boards: a page at a time, the
// first page, then the next while ECS returns a NextToken.
type listing struct {
	first, next string // the two states' names
	pageSize    int    // MaxResults
	comment     string // the first state's
}

var (
	// boardPages: a fan-out's own pages, BoardsPerPage boards each.
	boardPages = listing{contract.StateListBoards, contract.StateListMoreBoards, BoardsPerPage,
		"The first page of the container instances that match the query"}
	// childPages: a paged delivery's, one child execution's page each.
	childPages = listing{contract.StateListBoardPage, contract.StateListNextBoardPage, BoardsPerChild,
		fmt.Sprintf("The first %d container instances that match the query", BoardsPerChild)}
)

// listBoards lists the boards of the query at $.fleet.filter into
// $.listed: the first page, and (next) the page after $.listed.NextToken.
func listBoards(scope constructs.Construct, fan FanOutProps, l listing) (first, next awsstepfunctionstasks.CallAwsService) {
	call := func(id, comment string, more map[string]any) awsstepfunctionstasks.CallAwsService {
		params := map[string]any{"Cluster": fan.Cluster.ClusterArn(), "Filter": str("$.fleet.filter"), "Status": "ACTIVE", "MaxResults": l.pageSize}
		maps.Copy(params, more)
		state := awsstepfunctionstasks.NewCallAwsService(scope, fan.name(id), &awsstepfunctionstasks.CallAwsServiceProps{
			Comment:      at(comment),
			Service:      at("ecs"),
			Action:       at("listContainerInstances"),
			IamAction:    at("ecs:ListContainerInstances"),
			IamResources: &[]*string{fan.Cluster.ClusterArn()},
			Parameters:   &params,
			ResultPath:   at("$.listed"),
		})
		state.AddRetry(sdkRetry.props())
		return state
	}
	return call(l.first, l.comment, nil),
		call(l.next, "The next page", map[string]any{"NextToken": str("$.listed.NextToken")})
}

// hasNextToken: ListContainerInstances returned another page.
func hasNextToken() awsstepfunctions.Condition {
	return awsstepfunctions.Condition_And(
		awsstepfunctions.Condition_IsPresent(at("$.listed.NextToken")),
		awsstepfunctions.Condition_IsString(at("$.listed.NextToken")),
	)
}

// describeAndDeliver describes the page's boards, then runs one pinned
// task per board (deliverToOneBoard), MaxConcurrency at a time.
func describeAndDeliver(scope constructs.Construct, props FanOutProps) awsstepfunctions.Chain {
	describe := awsstepfunctionstasks.NewCallAwsService(scope, props.name(contract.StateDescribeBoards), &awsstepfunctionstasks.CallAwsServiceProps{
		Comment:   at("Each board's name and instance id (mi-…) on this page"),
		Service:   at("ecs"),
		Action:    at("describeContainerInstances"),
		IamAction: at("ecs:DescribeContainerInstances"),
		// Container instance ARNs are known only at run time; the role
		// scopes the call to this cluster's container instances.
		IamResources: &[]*string{props.Cluster.ClusterArn()},
		Parameters: &map[string]any{
			"Cluster":            props.Cluster.ClusterArn(),
			"ContainerInstances": list("$.listed.ContainerInstanceArns"),
		},
		ResultSelector: &map[string]any{"instances": list("$.ContainerInstances")},
		ResultPath:     at("$.described"),
	})
	describe.AddRetry(sdkRetry.props())

	selector := map[string]any{
		"instance": str("$$.Map.Item.Value.Ec2InstanceId"),
		// A filter yields a list: the one value of the board attribute
		// (every query requires it to exist).
		"names": awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$$.Map.Item.Value.Attributes[?(@.Name == '%s')].Value", contract.AttrBoard))),
	}
	for _, f := range props.Carry {
		selector[f] = str("$." + f)
	}
	each := awsstepfunctions.NewMap(scope, props.name(contract.StateDeliverEach), &awsstepfunctions.MapProps{
		Comment:        at(fmt.Sprintf("One pinned task per board, %d at a time; each iteration catches its own failure", MaxConcurrency)),
		ItemsPath:      at("$.described.instances"),
		ItemSelector:   &selector,
		MaxConcurrency: jsii.Number(MaxConcurrency),
		ResultPath:     at("$.page"),
	})
	each.ItemProcessor(deliverToOneBoard(scope, props), nil)

	return describe.Next(each)
}

// rebuilt is the fan-out's state made anew (a Pass without ResultPath,
// so that the page's description and the outcomes are not carried twice:
// the payload quota): the listing, fleet, the carried fields and extra.
func (f FanOutProps) rebuilt(fleet, extra map[string]any) *map[string]any {
	state := map[string]any{"listed": awsstepfunctions.JsonPath_ObjectAt(at("$.listed")), "fleet": fleet}
	for _, name := range f.Carry {
		state[name] = str("$." + name)
	}
	maps.Copy(state, extra)
	return &state
}

// fleetQuery is $.fleet's query carried on, with more.
func fleetQuery(more map[string]any) map[string]any {
	q := map[string]any{"filter": str("$.fleet.filter"), "target": str("$.fleet.target")}
	maps.Copy(q, more)
	return q
}

// collectOutcomes adds the page's outcomes to the ones so far: Collect
// pairs them, Flatten makes one list.
func collectOutcomes(scope constructs.Construct, props FanOutProps) (collect, flatten awsstepfunctions.Pass) {
	collect = awsstepfunctions.NewPass(scope, props.name(contract.StateCollect), &awsstepfunctions.PassProps{
		Comment: at("Pair the outcomes so far with this page's (there is no array concatenation intrinsic); drop the page's description"),
		Parameters: props.rebuilt(fleetQuery(nil), map[string]any{
			"pair": awsstepfunctions.JsonPath_Array(str("$.fleet.outcomes"), str("$.page")),
		}),
	})
	flatten = awsstepfunctions.NewPass(scope, props.name(contract.StateFlatten), &awsstepfunctions.PassProps{
		Comment:    at("[[so far...], [this page...]] → [so far..., this page...]"),
		Parameters: props.rebuilt(fleetQuery(map[string]any{"outcomes": list("$.pair[*][*]")}), nil),
	})
	return collect, flatten
}

// noBoards ends a fan-out whose cluster query matched no board.
func noBoards(scope constructs.Construct, props FanOutProps) awsstepfunctions.Fail {
	return awsstepfunctions.NewFail(scope, props.name(contract.StateNoBoards), &awsstepfunctions.FailProps{
		Comment: at("No registered board matches the target: nothing was delivered"),
		Error:   at(contract.ErrNoBoards),
		CausePath: awsstepfunctions.JsonPath_Format(at("no registered board matches {} (cluster query: {}): {} was not delivered"),
			str("$.fleet.target"), str("$.fleet.filter"), props.What),
	})
}

// fleetVerdict follows TallyOutcomes: SomeBoardsFailed, or the outcomes.
func fleetVerdict(scope constructs.Construct, props FanOutProps) awsstepfunctions.Choice {
	// The cause names the boards by status; their outcomes (exit code in
	// words, RunTask's failures) are in TallyOutcomes' output. Names only
	// keep the cause short: a Fail's cause holds at most 32,768 characters.
	someFailed := awsstepfunctions.NewFail(scope, props.name(contract.StateSomeBoardsFail), &awsstepfunctions.FailProps{
		Comment: at("At least one board did not get the file; the cause names those boards, TallyOutcomes holds their outcomes"),
		Error:   at(contract.ErrSomeBoardsFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at("{} was not delivered to {} of the {} boards of {}: offline {}, failed {} (outcomes: output of "+props.Prefix+contract.StateTally+")"),
			props.What,
			awsstepfunctions.JsonPath_ArrayLength(list("$.tally.undelivered")),
			str("$.tally.boards"),
			str("$.fleet.target"),
			awsstepfunctions.JsonPath_JsonToString(list("$.tally.offline")),
			awsstepfunctions.JsonPath_JsonToString(list("$.tally.failed"))),
	})
	delivered := awsstepfunctions.NewSucceed(scope, props.name(contract.StateFleetDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("Every matching board got the file; the output is one outcome per board"),
		OutputPath: at("$.fleet.outcomes"),
	})
	return awsstepfunctions.NewChoice(scope, props.name(contract.StateVerdict), &awsstepfunctions.ChoiceProps{
		Comment: at("Succeed unless a board failed or stayed offline"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.tally.undelivered[0]")), someFailed, nil).
		Otherwise(delivered)
}
