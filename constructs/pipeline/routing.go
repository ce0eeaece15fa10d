package pipeline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// TargetKind and Target are the contract's (one definition, shared with
// the config and the CLI). Names are checked by the config
// (contract.CheckName) before they reach a cluster query.
type (
	TargetKind = contract.TargetKind
	Target     = contract.Target
)

const (
	TargetAny    = contract.TargetAny    // one board ECS picks
	TargetBoard  = contract.TargetBoard  // the board named Name
	TargetGroup  = contract.TargetGroup  // every board of group Name
	TargetAll    = contract.TargetAll    // every board
	TargetRouted = contract.TargetRouted // the board or group the key names after RoutePrefix
)

// Filter is the cluster query (listContainerInstances' Filter) that
// selects a target's boards; routed targets are filled in at run time.
func Filter(kind TargetKind, name string) string {
	board := "attribute:" + contract.AttrBoard
	group := "attribute:" + contract.GroupAttr(name)
	switch kind {
	case TargetBoard:
		return board + " == " + name
	case TargetGroup:
		return group + " exists"
	case TargetAll:
		return board + " exists"
	case TargetRouted:
		return board + " == " + name + " or " + group + " exists"
	}
	panic("pipeline: no cluster query for target " + string(kind))
}

// StripComponents is how many leading components of a routed key are not
// part of the board's path: the prefix's and the target's.
func StripComponents(routePrefix string) int { return strings.Count(routePrefix, "/") + 1 }

// stripComponentsEnv tells the task how many leading components of a
// routed key to drop.
func stripComponentsEnv(routePrefix string) *awsstepfunctionstasks.TaskEnvironmentVariable {
	return &awsstepfunctionstasks.TaskEnvironmentVariable{
		Name: at(contract.EnvStripComponents), Value: at(strconv.Itoa(StripComponents(routePrefix))),
	}
}

// fleet is every target but "any": the target's boards, then FanOut;
// for a routed key the target is read from the key and checked first
// (routed). fan holds what the task does (environment, carried fields,
// state name prefix); fleet fills in the boards.
func fleet(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.IChainable {
	fan.Cluster, fan.Task, fan.Timing = props.Cluster, props.Task, props.timing()
	t := props.Target
	if t.Kind == TargetRouted {
		return routed(scope, props, fan)
	}
	filter := Filter(t.Kind, t.Name)
	fan.Filter = at(filter)
	fan.Target = at(strings.TrimSuffix(string(t.Kind)+":"+t.Name, ":"))
	if fan.redeliver {
		fan.Redeliver = oneBoardOf(filter)
	}
	return fanOut(scope, props, fan)
}

// oneBoardOf narrows a cluster query (a format string, with its args) to
// the board a redelivery names.
func oneBoardOf(filter string, args ...*string) func(board *string) *string {
	return func(board *string) *string {
		return awsstepfunctions.JsonPath_Format(at("attribute:"+contract.AttrBoard+" == {} and ("+filter+")"), append([]*string{board}, args...)...)
	}
}

// routed is RoutedKey → ReadRoute → RouteIsAName → the fan-out to the
// board or group the key names after the routing prefix.
func routed(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.IChainable {
	const target = "$.route.target"
	prefix := props.Target.RoutePrefix
	notRouted, badName := routeFailures(scope, fan, prefix, target)
	fan.Environment = append(fan.Environment, stripComponentsEnv(prefix))
	// The one place the key's text reaches a cluster query: only after
	// RouteIsAName has proven it a name.
	marker := "\x00"
	filter := strings.ReplaceAll(Filter(TargetRouted, marker), marker, "{}")
	fan.Filter = awsstepfunctions.JsonPath_Format(at(filter), str(target), str(target))
	fan.Target = awsstepfunctions.JsonPath_Format(at("route {} (board or group)"), str(target))
	if fan.redeliver {
		fan.Redeliver = oneBoardOf(filter, str(target), str(target))
	}
	readRoute := awsstepfunctions.NewPass(scope, fan.name(contract.StateReadRoute), &awsstepfunctions.PassProps{
		Comment: at("The key's component after the routing prefix"),
		Parameters: &map[string]any{
			"target": awsstepfunctions.JsonPath_ArrayGetItem(
				awsstepfunctions.JsonPath_StringSplit(str("$.key"), at("/")), jsii.Number(StripComponents(prefix)-1)),
		},
		ResultPath: at("$.route"),
	})
	isName := nameCheck(scope, fan.name(contract.StateRouteIsName), target, badName, fanOut(scope, props, fan))

	// The key is URL-encoded as S3 sent it; the prefix holds only
	// characters S3 does not encode (config checks it), so it matches as
	// written. An empty target ("to//x") or no path after it ("to/x") is
	// not a route.
	return awsstepfunctions.NewChoice(scope, fan.name(contract.StateRouted), &awsstepfunctions.ChoiceProps{
		Comment: at("Is the key " + prefix + "<board-or-group>/<path>?"),
	}).
		When(awsstepfunctions.Condition_And(
			awsstepfunctions.Condition_StringMatches(at("$.key"), at(prefix+"*/*")),
			awsstepfunctions.Condition_Not(awsstepfunctions.Condition_StringMatches(at("$.key"), at(prefix+"/*"))),
		), readRoute.Next(isName), nil).
		Otherwise(notRouted)
}

// routeFailures end a routed delivery before any query: a key that names
// no target, a target that is not a name.
func routeFailures(scope constructs.Construct, fan FanOutProps, prefix, target string) (notRouted, badName awsstepfunctions.Fail) {
	bad := func(id, comment, cause string, args ...*string) awsstepfunctions.Fail {
		return awsstepfunctions.NewFail(scope, fan.name(id), &awsstepfunctions.FailProps{
			Comment:   at(comment),
			Error:     at(contract.ErrBadTarget),
			CausePath: awsstepfunctions.JsonPath_Format(at(cause), args...),
		})
	}
	usage := fmt.Sprintf("keys are %s<board-or-group>/<path>", prefix)
	notRouted = bad(contract.StateUnroutedKey, "The key names no target: nothing was asked of ECS",
		"{} names no board or group: "+usage+": not delivered", fan.What)
	badName = bad(contract.StateBadTarget, "The target is not a valid name: it never reaches a cluster query",
		"{}: {} is not a valid board or group name ("+contract.NameRule+"): not delivered", fan.What, str(target))
	return notRouted, badName
}

// fanOut is FanOut, or for a pageable delivery past one execution's
// bounds its paged form.
func fanOut(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.IChainable {
	if fan.Pageable && props.paged() {
		return pagedFanOut(scope, props, fan)
	}
	return FanOut(scope, fan)
}

// isNotAName is true when the string at path (of the state's input) is
// not a board or group name: not a string, or not matching
// contract.NamePattern itself, its length (1-63) included. JSONPath cannot
// measure a string, so this one Choice is JSONata (a JSONPath state
// machine may have JSONata states); $string keeps each side of "and"
// safe to evaluate on its own, as JSONata 1.x evaluates both.
func isNotAName(path string) awsstepfunctions.Condition {
	in := "$states.input." + strings.TrimPrefix(path, "$.")
	if input, ok := strings.CutPrefix(path, "$$.Execution.Input."); ok {
		in = "$states.context.Execution.Input." + input
	}
	return awsstepfunctions.Condition_Jsonata(jsii.String(fmt.Sprintf(
		"{%% $not($type(%s) = 'string' and $contains($string(%s), /%s/)) %%}", in, in, contract.NamePattern)))
}

// nameCheck is the one Choice that lets only a board or group name reach a
// cluster query: the string at path goes on to ok when it is a name, to
// bad otherwise (routing's target, the sync's board, a redelivery's board).
func nameCheck(scope constructs.Construct, id *string, path string, bad, ok awsstepfunctions.IChainable) awsstepfunctions.Choice {
	return awsstepfunctions.NewChoice(scope, id, &awsstepfunctions.ChoiceProps{
		Comment:       jsii.String("A name (contract.NamePattern: 1-63 of A-Za-z0-9_-, starting with a letter or digit), else no query is built"),
		QueryLanguage: awsstepfunctions.QueryLanguage_JSONATA,
	}).
		When(isNotAName(path), bad, nil).
		Otherwise(ok)
}
