package pipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// A paged delivery adds up its pages' summaries (contract.FleetSummary):
// each child ends in its page's; the parent keeps the fleet's so far at
// soFar and adds each page's (thisPage) to it. Board names are paired,
// then flattened (there is no concatenation intrinsic), each side cut to
// NamedBoardsCap so that the lists stay bounded.
const (
	soFar    = "$.fleet.summary"
	thisPage = "$.page.summary"
)

// capped cuts a list of names to NamedBoardsCap.
var capped = fmt.Sprintf("[0:%d]", NamedBoardsCap)

// summary is contract.FleetSummary's shape with these values.
func summary(boards, counts, offline, failed, pagesFailed any) map[string]any {
	return map[string]any{
		contract.SummaryBoards: boards, contract.SummaryCounts: counts,
		contract.SummaryOffline: offline, contract.SummaryFailed: failed, contract.SummaryPagesFailed: pagesFailed,
	}
}

// counts is a summary's counts: each outcome word's as count makes it.
func counts(count func(word string) any) map[string]any {
	c := map[string]any{}
	for _, w := range contract.Outcomes {
		c[w] = count(w)
	}
	return c
}

// field is a summary's field at path (soFar, thisPage): boards,
// counts.<word>, ...
func field(path string, name ...string) string { return path + "." + strings.Join(name, ".") }

// countsSoFar are the fleet's counts so far, as they are.
func countsSoFar() map[string]any {
	return counts(func(w string) any { return num(field(soFar, contract.SummaryCounts, w)) })
}

// plus is the number at path's field plus n.
func plus(path string, n *float64, name ...string) *string {
	return awsstepfunctions.JsonPath_MathAdd(num(field(path, name...)), n)
}

// summarizePage ends a child: its page's counts per outcome and the
// boards that failed or stayed offline, by name (contract.FleetSummary).
// The outcomes themselves stay in TallyOutcomes' output.
func summarizePage(scope constructs.Construct, prefix string) awsstepfunctions.IChainable {
	perWord := counts(func(w string) any {
		return awsstepfunctions.JsonPath_ArrayLength(list(fmt.Sprintf("$.fleet.outcomes[?(@.status == '%s')]", w)))
	})
	return awsstepfunctions.NewPass(scope, at(prefix+contract.StateSummarizePage), &awsstepfunctions.PassProps{
		Comment:    at("The page in numbers for the parent; every board's outcome is in TallyOutcomes' output"),
		Parameters: ptr(summary(num("$.tally.boards"), perWord, list("$.tally.offline"), list("$.tally.failed"), 0)),
		ResultPath: at("$.summary"),
	}).Next(awsstepfunctions.NewSucceed(scope, at(prefix+contract.StatePageDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("The output is the page's summary"),
		OutputPath: at("$.summary"),
	}))
}

// emptySummary is a paged delivery's summary before its first page.
func emptySummary() map[string]any {
	return summary(0, counts(func(string) any { return 0 }), []any{}, []any{}, 0)
}

// pageSummaryStates add a page's summary to the fleet's: AddPage after a
// child's summary, PageNotDelivered when the child failed (its boards
// count as failed), then FlattenBoardNames after either.
func pageSummaryStates(scope constructs.Construct, fan FanOutProps) (addPage, pageFailed, flatten awsstepfunctions.Pass) {
	return addPageSummary(scope, fan), countPageAsFailed(scope, fan), flattenBoardNames(scope, fan)
}

// withSummary is the fan-out's state rebuilt with the fleet's summary s.
func withSummary(fan FanOutProps, s map[string]any) *map[string]any {
	return fan.rebuilt(fleetQuery(map[string]any{"summary": s}), nil)
}

func addPageSummary(scope constructs.Construct, fan FanOutProps) awsstepfunctions.Pass {
	added := counts(func(w string) any {
		return plus(soFar, num(field(thisPage, contract.SummaryCounts, w)), contract.SummaryCounts, w)
	})
	pair := func(names string) *string {
		return awsstepfunctions.JsonPath_Array(str(field(soFar, names)+capped), str(field(thisPage, names)+capped))
	}
	return awsstepfunctions.NewPass(scope, fan.name(contract.StateAddPage), &awsstepfunctions.PassProps{
		Comment: at("Add the page's summary to the fleet's"),
		Parameters: withSummary(fan, summary(
			plus(soFar, num(field(thisPage, contract.SummaryBoards)), contract.SummaryBoards),
			added,
			pair(contract.SummaryOffline),
			pair(contract.SummaryFailed),
			num(field(soFar, contract.SummaryPagesFailed)))),
	})
}

// countPageAsFailed: a child that failed (it catches every board's
// failure, so this is Step Functions refusing or ending it): its boards
// count as failed.
func countPageAsFailed(scope constructs.Construct, fan FanOutProps) awsstepfunctions.Pass {
	pageSize := awscdk.Token_AsNumber(awsstepfunctions.JsonPath_ArrayLength(list("$.listed.ContainerInstanceArns")))
	asFailed := countsSoFar()
	asFailed[contract.OutcomeFailed] = plus(soFar, pageSize, contract.SummaryCounts, contract.OutcomeFailed)
	keep := func(names string) *string {
		return awsstepfunctions.JsonPath_Array(str(field(soFar, names)+capped), awsstepfunctions.JsonPath_Array())
	}
	return awsstepfunctions.NewPass(scope, fan.name(contract.StatePageNotDelivered), &awsstepfunctions.PassProps{
		Comment: at("The child execution failed: every board of its page counts as failed (its error is in DeliverToPage's events)"),
		Parameters: withSummary(fan, summary(
			plus(soFar, pageSize, contract.SummaryBoards),
			asFailed,
			keep(contract.SummaryOffline),
			keep(contract.SummaryFailed),
			plus(soFar, jsii.Number(1), contract.SummaryPagesFailed))),
	})
}

func flattenBoardNames(scope constructs.Construct, fan FanOutProps) awsstepfunctions.Pass {
	return awsstepfunctions.NewPass(scope, fan.name(contract.StateFlattenNames), &awsstepfunctions.PassProps{
		Comment: at("[[so far...], [this page...]] → [so far..., this page...]"),
		Parameters: withSummary(fan, summary(
			num(field(soFar, contract.SummaryBoards)),
			countsSoFar(),
			list(field(soFar, contract.SummaryOffline)+"[*][*]"),
			list(field(soFar, contract.SummaryFailed)+"[*][*]"),
			num(field(soFar, contract.SummaryPagesFailed)))),
	})
}

// pagedVerdict ends a paged delivery: the fleet in numbers, then NoBoards,
// SomeBoardsFailed or the summary as the output.
func pagedVerdict(scope constructs.Construct, fan FanOutProps) awsstepfunctions.IChainable {
	tally := summary(
		num(field(soFar, contract.SummaryBoards)),
		countsSoFar(),
		list(field(soFar, contract.SummaryOffline)+capped),
		list(field(soFar, contract.SummaryFailed)+capped),
		num(field(soFar, contract.SummaryPagesFailed)))
	tally[contract.SummaryUndelivered] = awsstepfunctions.JsonPath_MathAdd(
		num(field(soFar, contract.SummaryCounts, contract.OutcomeFailed)),
		num(field(soFar, contract.SummaryCounts, contract.OutcomeOffline)))
	tallyPages := awsstepfunctions.NewPass(scope, fan.name(contract.StateTallyPages), &awsstepfunctions.PassProps{
		Comment:    at(fmt.Sprintf("The fleet in numbers; at most %d offline and %d failed boards by name", NamedBoardsCap, NamedBoardsCap)),
		Parameters: &tally,
		ResultPath: at(soFar),
	})
	someFailed := awsstepfunctions.NewFail(scope, fan.name(contract.StateSomeBoardsFail), &awsstepfunctions.FailProps{
		Comment: at("At least one board did not get the file; the cause counts them and names the first ones, the children's histories hold their outcomes"),
		Error:   at(contract.ErrSomeBoardsFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at(fmt.Sprintf("{} was not delivered to {} of the {} boards of {}: offline {}, failed {} (at most %d names each; {} pages failed; outcomes: the DeliverToPage child executions)", NamedBoardsCap)),
			fan.What,
			str(field(soFar, contract.SummaryUndelivered)),
			str(field(soFar, contract.SummaryBoards)),
			str("$.fleet.target"),
			awsstepfunctions.JsonPath_JsonToString(list(field(soFar, contract.SummaryOffline))),
			awsstepfunctions.JsonPath_JsonToString(list(field(soFar, contract.SummaryFailed))),
			str(field(soFar, contract.SummaryPagesFailed))),
	})
	delivered := awsstepfunctions.NewSucceed(scope, fan.name(contract.StateFleetDelivered), &awsstepfunctions.SucceedProps{
		Comment:    at("Every matching board got the file; the output is the fleet's summary"),
		OutputPath: at(soFar),
	})
	return tallyPages.Next(awsstepfunctions.NewChoice(scope, fan.name(contract.StateVerdict), &awsstepfunctions.ChoiceProps{
		Comment: at("No board at all, some not delivered, or every one"),
	}).
		When(awsstepfunctions.Condition_NumberEquals(at(field(soFar, contract.SummaryBoards)), jsii.Number(0)), noBoards(scope, fan), nil).
		When(awsstepfunctions.Condition_NumberGreaterThan(at(field(soFar, contract.SummaryUndelivered)), jsii.Number(0)), someFailed, nil).
		Otherwise(delivered))
}
