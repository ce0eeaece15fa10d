package pipeline

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/contract"
)

// OfflineErrors are what RunTask raises for a board that cannot take the
// task now: runTask.sync turns RunTask's failures (AGENT: the board's
// agent is disconnected; RESOURCE:*: the board is busy) into
// AmazonECS.Unknown, and in the field they also arrive as
// ECS.AmazonECSException. They are retried for offlineWait, then the
// board's outcome is "offline".
var OfflineErrors = []string{contract.ErrPlacement, contract.ErrECSException}

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

// redeliverChoice starts the fan-out of a redelivery ({"edgeDrop":
// {"board": B}}) with the target's query narrowed to board B; other
// executions go on to ChooseBoards. One Choice transition per execution.
// fleet is what the fan-out's $.fleet starts with besides its filter and
// target (FanOut's outcomes, a paged delivery's summary).
func redeliverChoice(scope constructs.Construct, props FanOutProps, fleet map[string]any, list, whole awsstepfunctions.IChainable) awsstepfunctions.IChainable {
	at := jsii.String
	name := func(state string) *string { return at(props.Prefix + state) }
	const board = "$." + contract.RedeliverField + "." + contract.RedeliverBoard
	params := map[string]any{
		"filter": props.Redeliver(awsstepfunctions.JsonPath_StringAt(at(board))),
		"target": awsstepfunctions.JsonPath_Format(at("board {} of {}"), awsstepfunctions.JsonPath_StringAt(at(board)), props.Target),
	}
	for k, v := range fleet {
		params[k] = v
	}
	one := awsstepfunctions.NewPass(scope, name(contract.StateRedeliverOne), &awsstepfunctions.PassProps{
		Comment:    at("A redelivery: the target's boards narrowed to the one it names"),
		Parameters: &params,
		ResultPath: at("$.fleet"),
	}).Next(list)
	bad := awsstepfunctions.NewFail(scope, name(contract.StateBadRedeliver), &awsstepfunctions.FailProps{
		Comment: at("The redelivery's board is not a name: nothing was asked of ECS"),
		Error:   at(contract.ErrBadTarget),
		Cause:   at(`the redelivery's ` + contract.RedeliverField + "." + contract.RedeliverBoard + ` must be a board name (` + contract.NameRule + `): nothing was delivered`),
	})
	isName := nameCheck(scope, name(contract.StateRedeliverName), board, bad, one)
	return awsstepfunctions.NewChoice(scope, name(contract.StateRedeliverWhich), &awsstepfunctions.ChoiceProps{
		Comment: at(`{"` + contract.RedeliverField + `": {"` + contract.RedeliverBoard + `": "<name>"}} delivers to that board of the target only`),
	}).
		When(awsstepfunctions.Condition_IsPresent(at(board)), isName, nil).
		Otherwise(whole)
}

// deliverToOneBoard is one iteration: the task pinned to the board, then
// the board's outcome, from the task's report or, without one, its exit
// code. Every failure is caught here, so the Map always completes and
// lists every board.
//
// A busy or offline board (OfflineErrors) is tried again until offlineWait
// has passed: the guarantee is that a board back at any time within
// offlineWait gets its task. Step Functions' FULL jitter draws each wait
// from [0, computed], so retries with it may wait close to nothing in
// total. Instead: the first failure (or an ECS fault) waits a random 0-15 s
// (SpreadBoardRetries, WaitForBoard: executions that failed together do
// not retry together, so a busy board that frees a slot is not met by all
// of them at once), then RetryDeliverToBoard retries without jitter, as
// many times as its least (= only) total wait needs to cover offlineWait.
// Retries, not a Wait loop, keep each retry at 3 history events (a loop
// costs 11), which is what bounds the fleet (FleetTiming.MaxFleet).
func deliverToOneBoard(scope constructs.Construct, props FanOutProps) awsstepfunctions.IChainable {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	o := &boardOutcomes{scope: scope, prefix: props.Prefix,
		board: awsstepfunctions.JsonPath_ArrayGetItem(awsstepfunctions.JsonPath_ListAt(at("$.names")), jsii.Number(0))}
	run, again, spread := boardTasks(scope, props)
	result := reportedOutcome(o, props)
	classify := failureOutcome(o, props)
	catchAll := &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: at("$.error")}
	run.AddCatch(classify, catchAll)
	again.AddCatch(classify, catchAll)
	run.Next(result)
	spread.Next(again).Next(result)
	unnamed := awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateUnnamedBoard), &awsstepfunctions.PassProps{
		Comment: at("Not a board: no " + contract.AttrBoard + " attribute; its instance id stands for the name"),
		Parameters: &map[string]any{
			"board":    str("$.instance"),
			"instance": str("$.instance"),
			"status":   contract.OutcomeFailed,
			"exitCode": nil,
			"taskArn":  nil,
			"cause":    "the container instance has no " + contract.AttrBoard + " attribute: name it (make register prints the put-attributes command)",
		},
	})
	if props.Ledger.enabled() {
		record := recordOutcome(scope, props.Prefix, props.Ledger, props.record)
		for _, o := range append(o.states, unnamed) {
			o.Next(record)
		}
	}
	return awsstepfunctions.NewChoice(scope, at(props.Prefix+contract.StateBoardIsNamed), &awsstepfunctions.ChoiceProps{
		Comment: at("A group member without a board name gets no task: its outcome says why"),
	}).
		When(awsstepfunctions.Condition_IsPresent(at("$.names[0]")), run, nil).
		Otherwise(unnamed)
}

// boardOutcomes makes the Pass states whose output is a board's Outcome
// and remembers them (the ledger records after each).
type boardOutcomes struct {
	scope  constructs.Construct
	prefix string
	board  *string
	states []awsstepfunctions.Pass
}

func (o *boardOutcomes) with(id, comment string, status, exitCode, taskArn, cause any, extra map[string]any) awsstepfunctions.Pass {
	params := map[string]any{
		"board":    o.board,
		"instance": awsstepfunctions.JsonPath_StringAt(jsii.String("$.instance")),
		"status":   status,
		"exitCode": exitCode,
		"taskArn":  taskArn,
		"cause":    cause,
	}
	for k, v := range extra {
		params[k] = v
	}
	p := awsstepfunctions.NewPass(o.scope, jsii.String(o.prefix+id), &awsstepfunctions.PassProps{Comment: jsii.String(comment), Parameters: &params})
	o.states = append(o.states, p)
	return p
}

func (o *boardOutcomes) outcome(id, comment string, status, exitCode, taskArn, cause any) awsstepfunctions.Pass {
	return o.with(id, comment, status, exitCode, taskArn, cause, nil)
}

// boardTasks are the task pinned to the board (run), its retry until
// offlineWait has passed (again) and the spread wait before it; the chain
// spread → again is returned as spread.
func boardTasks(scope constructs.Construct, props FanOutProps) (run, again awsstepfunctionstasks.EcsRunTask, spread awsstepfunctions.Chain) {
	at := jsii.String
	runTask := func(id, comment string) awsstepfunctionstasks.EcsRunTask {
		return awsstepfunctionstasks.NewEcsRunTask(scope, at(props.Prefix+id), &awsstepfunctionstasks.EcsRunTaskProps{
			Comment:            at(comment),
			IntegrationPattern: awsstepfunctions.IntegrationPattern_RUN_JOB,
			Cluster:            props.Cluster,
			TaskDefinition:     props.Task.TaskDefinition,
			LaunchTarget:       externallaunch.NewPinned("$.instance"),
			ContainerOverrides: &[]*awsstepfunctionstasks.ContainerOverride{{
				ContainerDefinition: props.Task.Container,
				Environment:         withToken(props.Environment),
			}},
			PropagatedTagSource: awsecs.PropagatedTagSource_TASK_DEFINITION,
			// No ResultSelector: the result is a Report or a stopped task.
			ResultPath:  at("$.task"),
			TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(props.Timing.TaskTimeout.Seconds()))),
		})
	}
	run = runTask(contract.StateDeliverBoard, "Run the task on this board only; it ends with the task's report, or when the task stops")
	again = runTask(contract.StateRetryBoard, "The board was busy or offline: try again until offlineWait has passed (no jitter: the waits add up to it)")
	for _, r := range props.Timing.retries() {
		again.AddRetry(r.props())
	}
	spreadPass := awsstepfunctions.NewPass(scope, at(props.Prefix+contract.StateSpreadRetries), &awsstepfunctions.PassProps{
		Comment: at(fmt.Sprintf("Busy, offline or ECS throttled: a random 0-%d s first wait, so that executions that failed together retry apart", int(offlineSpread.Seconds()))),
		Parameters: &map[string]any{
			"seconds": awsstepfunctions.JsonPath_MathRandom(jsii.Number(0), jsii.Number(offlineSpread.Seconds())),
		},
		ResultPath: at("$.spread"),
	})
	wait := awsstepfunctions.NewWait(scope, at(props.Prefix+contract.StateWaitForBoard), &awsstepfunctions.WaitProps{
		Comment: at("The spread wait"),
		Time:    awsstepfunctions.WaitTime_SecondsPath(at("$.spread.seconds")),
	})
	// ECS faults and throttling go the same way: RetryDeliverToBoard
	// retries them, so DeliverToBoard needs no Retry of its own.
	run.AddCatch(spreadPass, &awsstepfunctions.CatchProps{Errors: jsii.Strings(slices.Concat(OfflineErrors, APIFaultErrors)...), ResultPath: at("$.error")})

	return run, again, spreadPass.Next(wait)
}

// reportedOutcome reads the task's result: its report (in its words), or
// without one the stopped task's exit 0.
func reportedOutcome(o *boardOutcomes, props FanOutProps) awsstepfunctions.Choice {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	exitZero := props.ExitZero
	if exitZero == "" {
		exitZero = contract.OutcomeDelivered
	}
	// The task reported: its words. A failed sync names its first failed
	// keys (at most contract.MaxReportedKeys), so the cause is readable
	// without the task's log.
	exitCode := awsstepfunctions.JsonPath_NumberAt(at(reportExitCode))
	withKeys := awsstepfunctions.JsonPath_Format(at("{}; failed keys: {}"), str(reportSummary),
		awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ListAt(at(reportFailed))))
	sync := map[string]any{"sync": awsstepfunctions.JsonPath_ObjectAt(at(reportSync))}
	reported := o.outcome(contract.StateBoardReport, "The task's report: its status and summary", str(reportStatus), exitCode, nil, str(reportSummary))
	reportedSync := o.with(contract.StateBoardReportSync, "The task's report with a sync's counts", str(reportStatus), exitCode, nil, str(reportSummary), sync)
	reportedKeys := o.with(contract.StateBoardReportKeys, "The task's report with a sync's counts and its first failed keys", str(reportStatus), exitCode, nil, withKeys, sync)
	odd := o.outcome(contract.StateBoardReportOdd, "A report whose status is not an outcome word: a failure", contract.OutcomeFailed, exitCode, nil,
		awsstepfunctions.JsonPath_Format(at("the task reported status {}: {}"), str(reportStatus), str(reportSummary)))
	noReport := o.outcome(contract.StateBoardNoReport, "The task exited 0 without a report (an older image, or the report could not be sent)",
		exitZero, awsstepfunctions.JsonPath_NumberAt(at(stoppedExit)), str(stoppedTaskArn), noReport(exitZero))
	oddResult := o.outcome(contract.StateBoardOddResult, "Neither a report nor a stopped task: a failure, the result as it is", contract.OutcomeFailed, nil, nil,
		awsstepfunctions.JsonPath_Format(at("the task's result is neither a report nor a stopped task: {}"),
			awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.task")))))
	words := make([]string, 0, len(contract.Outcomes))
	for _, w := range contract.Outcomes {
		if w != contract.OutcomeOffline { // the state machine's word, never the task's
			words = append(words, w)
		}
	}
	known := []awsstepfunctions.Condition{statusIs(words...)}
	isSync := []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(at(reportSync))}
	hasKeys := []awsstepfunctions.Condition{awsstepfunctions.Condition_IsPresent(at(reportFailed + "[0]"))}
	return awsstepfunctions.NewChoice(o.scope, at(props.Prefix+contract.StateBoardReported), &awsstepfunctions.ChoiceProps{
		Comment: at("The task's report (its words), or without one the exit code"),
	}).
		When(and(isReport(), known, isSync, hasKeys), reportedKeys, nil).
		When(and(isReport(), known, isSync), reportedSync, nil).
		When(and(isReport(), known), reported, nil).
		When(and(isReport()), odd, nil).
		When(and(isStoppedTask()), noReport, nil).
		Otherwise(oddResult)
}

// failureOutcome classifies a failure of the board's task: offline for
// all of offlineWait, a task that ran and failed (its exit code), or any
// other error.
func failureOutcome(o *boardOutcomes, props FanOutProps) awsstepfunctions.Choice {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	scope := o.scope
	offline := o.outcome(contract.StateBoardOffline, "Busy or offline for all of offlineWait: RunTask's failures are the cause",
		contract.OutcomeOffline, nil, nil,
		awsstepfunctions.JsonPath_Format(at("{}: {}"), str("$.error.Error"), str("$.error.Cause")))
	gone := o.outcome(contract.StateBoardGone, "Exit 4 without a report: the object is not in the bucket any more (not a failure)", contract.OutcomeGone,
		awsstepfunctions.JsonPath_NumberAt(at(failedExitCode)), str(failedTaskArn), contract.ExitNotFound.Describe())
	exitKnown := o.outcome(contract.StateBoardExitCode, "The task exited with one of edge-drop-task's codes", contract.OutcomeFailed,
		awsstepfunctions.JsonPath_NumberAt(at(failedExitCode)), str(failedTaskArn),
		awsstepfunctions.JsonPath_ArrayGetItem(awsstepfunctions.JsonPath_ListAt(at("$.failure.exitCodes")), awsstepfunctions.JsonPath_NumberAt(at(failedExitCode))))
	exitOther := o.outcome(contract.StateBoardOtherExitCode, "An exit code edge-drop-task does not use (above 128: killed by signal code-128)", contract.OutcomeFailed,
		awsstepfunctions.JsonPath_NumberAt(at(failedExitCode)), str(failedTaskArn),
		awsstepfunctions.JsonPath_Format(at("exit {}: not an edge-drop-task exit code"), str(failedExitCode)))
	stopped := o.outcome(contract.StateBoardTaskStopped, "The container never exited: ECS's reason", contract.OutcomeFailed,
		nil, str(failedTaskArn), awsstepfunctions.JsonPath_Format(at("task stopped without an exit code: {}"), str(failedTask+".StoppedReason")))
	withCause := o.outcome(contract.StateBoardError, "Any other error: its name and cause", contract.OutcomeFailed, nil, nil,
		awsstepfunctions.JsonPath_Format(at("{}: {}"), str("$.error.Error"), str("$.error.Cause")))
	nameOnly := o.outcome(contract.StateBoardErrorName, "An error without a cause: its name", contract.OutcomeFailed, nil, nil, str("$.error.Error"))

	readTask := readStoppedTask(scope, props.Prefix+contract.StateReadBoardTask, "The cause of States.TaskFailed is the stopped task as JSON",
		props.Prefix+contract.StateClassifyBoardExit, exitBranches{gone: gone, known: exitKnown, other: exitOther, stopped: stopped, neither: withCause})

	offlineNames := make([]awsstepfunctions.Condition, 0, len(OfflineErrors))
	for _, e := range OfflineErrors {
		offlineNames = append(offlineNames, awsstepfunctions.Condition_StringEquals(at("$.error.Error"), at(e)))
	}
	return awsstepfunctions.NewChoice(scope, at(props.Prefix+contract.StateClassifyBoardFailure), &awsstepfunctions.ChoiceProps{
		Comment: at("Offline (RunTask placed nothing for offlineWait), a task that ran and failed, or any other error"),
	}).
		When(and([]awsstepfunctions.Condition{awsstepfunctions.Condition_Or(offlineNames...)}, causeGiven()), offline, nil).
		When(isTaskFailure(), readTask, nil).
		When(and(causeGiven()), withCause, nil).
		Otherwise(nameOnly)
}
