package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// summarizePage ends a child: its page's counts per outcome and the
// boards that failed or stayed offline, by name (contract.FleetSummary).
// The outcomes themselves stay in TallyOutcomes' output.
func summarizePage(scope constructs.Construct, prefix string) awsstepfunctions.IChainable {
	at := jsii.String
	counts := map[string]any{}
	for _, w := range contract.Outcomes {
		counts[w] = awsstepfunctions.JsonPath_ArrayLength(awsstepfunctions.JsonPath_ListAt(at(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')]", w))))
	}
	return awsstepfunctions.NewPass(scope, at(prefix+contract.StateSummarizePage), &awsstepfunctions.PassProps{
		Comment: at("The page in numbers for the parent; every board's outcome is in TallyOutcomes' output"),
		Parameters: &map[string]any{
			contract.SummaryBoards:      awsstepfunctions.JsonPath_NumberAt(at("$.tally.boards")),
			contract.SummaryCounts:      counts,
			contract.SummaryOffline:     awsstepfunctions.JsonPath_ListAt(at("$.tally.offline")),
			contract.SummaryFailed:      awsstepfunctions.JsonPath_ListAt(at("$.tally.failed")),
			contract.SummaryPagesFailed: 0,
		},
		ResultPath: at("$.summary"),
	}).Next(awsstepfunctions.NewSucceed(scope, at(prefix+contract.StatePageDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("The output is the page's summary"),
		OutputPath: at("$.summary"),
	}))
}

// emptySummary is a paged delivery's summary before its first page.
func emptySummary() map[string]any {
	zero := map[string]any{}
	for _, w := range contract.Outcomes {
		zero[w] = 0
	}
	return map[string]any{
		contract.SummaryBoards: 0, contract.SummaryCounts: zero,
		contract.SummaryOffline: []any{}, contract.SummaryFailed: []any{}, contract.SummaryPagesFailed: 0,
	}
}

// pageSummaryStates add a page's summary to the fleet's: AddPage after a
// child's summary, PageNotDelivered when the child failed (its boards
// count as failed), then FlattenBoardNames after either.
func pageSummaryStates(scope constructs.Construct, fan FanOutProps) (addPage, pageFailed, flatten awsstepfunctions.Pass) {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	num := func(p string) *float64 { return awsstepfunctions.JsonPath_NumberAt(at(p)) }
	list := func(p string) *[]*string { return awsstepfunctions.JsonPath_ListAt(at(p)) }
	name := func(state string) *string { return at(fan.Prefix + state) }

	// The state is rebuilt so that nothing is carried twice; the names
	// are paired now and flattened next (no concatenation intrinsic),
	// each side cut to NamedBoardsCap so the lists stay bounded.
	rebuilt := func(summary map[string]any) *map[string]any {
		state := map[string]any{
			"listed": awsstepfunctions.JsonPath_ObjectAt(at("$.listed")),
			"fleet":  map[string]any{"filter": str("$.fleet.filter"), "target": str("$.fleet.target"), "summary": summary},
		}
		for _, f := range fan.Carry {
			state[f] = str("$." + f)
		}
		return &state
	}
	capped := fmt.Sprintf("[0:%d]", NamedBoardsCap)
	sum := func(field string, add *float64) *string {
		return awsstepfunctions.JsonPath_MathAdd(num("$.fleet.summary."+field), add)
	}
	added := map[string]any{}
	for _, w := range contract.Outcomes {
		added[w] = sum(contract.SummaryCounts+"."+w, num("$.page.summary."+contract.SummaryCounts+"."+w))
	}
	pair := func(field string) *string {
		return awsstepfunctions.JsonPath_Array(str("$.fleet.summary."+field+capped), str("$.page.summary."+field+capped))
	}
	addPage = awsstepfunctions.NewPass(scope, name(contract.StateAddPage), &awsstepfunctions.PassProps{
		Comment: at("Add the page's summary to the fleet's"),
		Parameters: rebuilt(map[string]any{
			contract.SummaryBoards:      sum(contract.SummaryBoards, num("$.page.summary."+contract.SummaryBoards)),
			contract.SummaryCounts:      added,
			contract.SummaryOffline:     pair(contract.SummaryOffline),
			contract.SummaryFailed:      pair(contract.SummaryFailed),
			contract.SummaryPagesFailed: num("$.fleet.summary." + contract.SummaryPagesFailed),
		}),
	})
	// A child that failed (it catches every board's failure, so this is
	// Step Functions refusing or ending it): its boards count as failed.
	pageSize := awscdk.Token_AsNumber(awsstepfunctions.JsonPath_ArrayLength(list("$.listed.ContainerInstanceArns")))
	asFailed := map[string]any{}
	for _, w := range contract.Outcomes {
		asFailed[w] = num("$.fleet.summary." + contract.SummaryCounts + "." + w)
	}
	asFailed[contract.OutcomeFailed] = sum(contract.SummaryCounts+"."+contract.OutcomeFailed, pageSize)
	keep := func(field string) *string {
		return awsstepfunctions.JsonPath_Array(str("$.fleet.summary."+field+capped), awsstepfunctions.JsonPath_Array())
	}
	pageFailed = awsstepfunctions.NewPass(scope, name(contract.StatePageNotDelivered), &awsstepfunctions.PassProps{
		Comment: at("The child execution failed: every board of its page counts as failed (its error is in DeliverToPage's events)"),
		Parameters: rebuilt(map[string]any{
			contract.SummaryBoards:      sum(contract.SummaryBoards, pageSize),
			contract.SummaryCounts:      asFailed,
			contract.SummaryOffline:     keep(contract.SummaryOffline),
			contract.SummaryFailed:      keep(contract.SummaryFailed),
			contract.SummaryPagesFailed: sum(contract.SummaryPagesFailed, jsii.Number(1)),
		}),
	})
	counts := map[string]any{}
	for _, w := range contract.Outcomes {
		counts[w] = num("$.fleet.summary." + contract.SummaryCounts + "." + w)
	}
	flatten = awsstepfunctions.NewPass(scope, name(contract.StateFlattenNames), &awsstepfunctions.PassProps{
		Comment: at("[[so far...], [this page...]] → [so far..., this page...]"),
		Parameters: rebuilt(map[string]any{
			contract.SummaryBoards:      num("$.fleet.summary." + contract.SummaryBoards),
			contract.SummaryCounts:      counts,
			contract.SummaryOffline:     list("$.fleet.summary." + contract.SummaryOffline + "[*][*]"),
			contract.SummaryFailed:      list("$.fleet.summary." + contract.SummaryFailed + "[*][*]"),
			contract.SummaryPagesFailed: num("$.fleet.summary." + contract.SummaryPagesFailed),
		}),
	})

	return addPage, pageFailed, flatten
}

// pagedVerdict ends a paged delivery: the fleet in numbers, then NoBoards,
// SomeBoardsFailed or the summary as the output.
func pagedVerdict(scope constructs.Construct, fan FanOutProps) awsstepfunctions.IChainable {
	at := jsii.String
	str := func(p string) *string { return awsstepfunctions.JsonPath_StringAt(at(p)) }
	num := func(p string) *float64 { return awsstepfunctions.JsonPath_NumberAt(at(p)) }
	list := func(p string) *[]*string { return awsstepfunctions.JsonPath_ListAt(at(p)) }
	name := func(state string) *string { return at(fan.Prefix + state) }
	capped := fmt.Sprintf("[0:%d]", NamedBoardsCap)
	counts := map[string]any{}
	for _, w := range contract.Outcomes {
		counts[w] = num("$.fleet.summary." + contract.SummaryCounts + "." + w)
	}
	tally := awsstepfunctions.NewPass(scope, name(contract.StateTallyPages), &awsstepfunctions.PassProps{
		Comment: at(fmt.Sprintf("The fleet in numbers; at most %d offline and %d failed boards by name", NamedBoardsCap, NamedBoardsCap)),
		Parameters: &map[string]any{
			contract.SummaryBoards:      num("$.fleet.summary." + contract.SummaryBoards),
			contract.SummaryCounts:      counts,
			contract.SummaryOffline:     list("$.fleet.summary." + contract.SummaryOffline + capped),
			contract.SummaryFailed:      list("$.fleet.summary." + contract.SummaryFailed + capped),
			contract.SummaryPagesFailed: num("$.fleet.summary." + contract.SummaryPagesFailed),
			contract.SummaryUndelivered: awsstepfunctions.JsonPath_MathAdd(
				num("$.fleet.summary."+contract.SummaryCounts+"."+contract.OutcomeFailed),
				num("$.fleet.summary."+contract.SummaryCounts+"."+contract.OutcomeOffline)),
		},
		ResultPath: at("$.fleet.summary"),
	})
	someFailed := awsstepfunctions.NewFail(scope, name(contract.StateSomeBoardsFail), &awsstepfunctions.FailProps{
		Comment: at("At least one board did not get the file; the cause counts them and names the first ones, the children's histories hold their outcomes"),
		Error:   at(contract.ErrSomeBoardsFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at(fmt.Sprintf("{} was not delivered to {} of the {} boards of {}: offline {}, failed {} (at most %d names each; {} pages failed; outcomes: the DeliverToPage child executions)", NamedBoardsCap)),
			fan.What,
			str("$.fleet.summary."+contract.SummaryUndelivered),
			str("$.fleet.summary."+contract.SummaryBoards),
			str("$.fleet.target"),
			awsstepfunctions.JsonPath_JsonToString(list("$.fleet.summary."+contract.SummaryOffline)),
			awsstepfunctions.JsonPath_JsonToString(list("$.fleet.summary."+contract.SummaryFailed)),
			str("$.fleet.summary."+contract.SummaryPagesFailed)),
	})
	delivered := awsstepfunctions.NewSucceed(scope, name(contract.StateFleetDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("Every matching board got the file; the output is the fleet's summary"),
		OutputPath: at("$.fleet.summary"),
	})
	return tally.Next(awsstepfunctions.NewChoice(scope, name(contract.StateVerdict), &awsstepfunctions.ChoiceProps{
		Comment: at("No board at all, some not delivered, or every one"),
	}).
		When(awsstepfunctions.Condition_NumberEquals(at("$.fleet.summary."+contract.SummaryBoards), jsii.Number(0)), noBoards(scope, fan), nil).
		When(awsstepfunctions.Condition_NumberGreaterThan(at("$.fleet.summary."+contract.SummaryUndelivered), jsii.Number(0)), someFailed, nil).
		Otherwise(delivered))
}
