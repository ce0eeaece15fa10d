package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/edge-drop/edge-drop/contract"
)

// withDeletes puts the delete branch before the delivery: the event's
// detail-type is read first, so that nothing on the delivery path reads
// the size an Object Deleted event does not have.
func withDeletes(scope constructs.Construct, props Props, deliver awsstepfunctions.IChainable, skipped awsstepfunctions.IChainable) awsstepfunctions.IChainable {
	extract := awsstepfunctions.NewPass(scope, at(contract.StateExtractDeleted), &awsstepfunctions.PassProps{
		Comment: at("Keep what the delete needs from the S3 event; the key stays URL-encoded as S3 sent it"),
		Parameters: &map[string]any{
			"bucket":    str("$.detail.bucket.name"),
			"key":       str("$.detail.object.key"),
			"sequencer": str("$.detail.object.sequencer"),
		},
	})
	// "any" delivered each file to one board ECS picked: the delete runs
	// on every board, and the boards without the file keep nothing (the
	// task removes only files it delivered).
	targets := props
	if targets.Target.Kind == TargetAny {
		targets.Target = Target{Kind: TargetAll}
	}
	remove := fleet(scope, targets, FanOutProps{
		Prefix:   contract.DeletePrefix,
		ExitZero: contract.OutcomeDeleted,
		Ledger:   props.Ledger,
		record:   ledgerKind{mode: contract.ModeDelete},
		What:     awsstepfunctions.JsonPath_Format(at("the delete of s3://{}/{}"), str("$.bucket"), str("$.key")),
		Carry:    []string{"bucket", "key", "sequencer"},
		Environment: []*awsstepfunctionstasks.TaskEnvironmentVariable{
			{Name: at(contract.EnvMode), Value: at(contract.ModeDelete)},
			{Name: at(contract.EnvBucket), Value: str("$.bucket")},
			{Name: at(contract.EnvKey), Value: str("$.key")},
		},
	})
	deleted := extract.Next(awsstepfunctions.NewChoice(scope, at(contract.StateDeletedMatches), &awsstepfunctions.ChoiceProps{
		Comment: at("Delete only keys that match the configured pattern: no other key was delivered"),
	}).
		When(awsstepfunctions.Condition_StringMatches(at("$.key"), at(props.KeyPattern)), remove, nil).
		Otherwise(skipped))

	return awsstepfunctions.NewChoice(scope, at(contract.StateEventKind), &awsstepfunctions.ChoiceProps{
		Comment: at("An upload is delivered, a delete removes the delivered file"),
	}).
		When(awsstepfunctions.Condition_And(
			awsstepfunctions.Condition_IsPresent(at("$.detail-type")),
			awsstepfunctions.Condition_StringEquals(at("$.detail-type"), at(DetailTypeDeleted)),
		), deleted, nil).
		Otherwise(deliver)
}
