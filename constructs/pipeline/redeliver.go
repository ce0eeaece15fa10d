package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/edge-drop/edge-drop/contract"
)

// redeliverChoice starts the fan-out of a redelivery ({"edgeDrop":
// {"board": B}}) with the target's query narrowed to board B; other
// executions go on to ChooseBoards. One Choice transition per execution.
// fleet is what the fan-out's $.fleet starts with besides its filter and
// target (FanOut's outcomes, a paged delivery's summary). B is read from
// the execution's input (the context object): Extract keeps only the
// object's fields, so the state's input no longer has it.
func redeliverChoice(scope constructs.Construct, props FanOutProps, fleet map[string]any, list, whole awsstepfunctions.IChainable) awsstepfunctions.IChainable {
	const board = "$$.Execution.Input." + contract.RedeliverField + "." + contract.RedeliverBoard
	params := map[string]any{
		"filter": props.Redeliver(str(board)),
		"target": awsstepfunctions.JsonPath_Format(at("board {} of {}"), str(board), props.Target),
	}
	for k, v := range fleet {
		params[k] = v
	}
	one := awsstepfunctions.NewPass(scope, props.name(contract.StateRedeliverOne), &awsstepfunctions.PassProps{
		Comment:    at("A redelivery: the target's boards narrowed to the one it names"),
		Parameters: &params,
		ResultPath: at("$.fleet"),
	}).Next(list)
	bad := awsstepfunctions.NewFail(scope, props.name(contract.StateBadRedeliver), &awsstepfunctions.FailProps{
		Comment: at("The redelivery's board is not a name: nothing was asked of ECS"),
		Error:   at(contract.ErrBadTarget),
		Cause:   at(`the redelivery's ` + contract.RedeliverField + "." + contract.RedeliverBoard + ` must be a board name (` + contract.NameRule + `): nothing was delivered`),
	})
	isName := nameCheck(scope, props.name(contract.StateRedeliverName), board, bad, one)
	return awsstepfunctions.NewChoice(scope, props.name(contract.StateRedeliverWhich), &awsstepfunctions.ChoiceProps{
		Comment: at(`{"` + contract.RedeliverField + `": {"` + contract.RedeliverBoard + `": "<name>"}} delivers to that board of the target only`),
	}).
		When(awsstepfunctions.Condition_IsPresent(at(board)), isName, nil).
		Otherwise(whole)
}
