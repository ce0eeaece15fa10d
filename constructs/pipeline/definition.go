package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// body is the state machine's definition: one event's, or a batch's.
func (p Props) body(scope constructs.Construct) awsstepfunctions.IChainable {
	if p.CoalesceWindow > 0 {
		return batchDefinition(scope, p)
	}
	return definition(scope, p)
}

// definition is Extract → KeyMatchesPattern → SizeWithinLimit → the
// delivery to the target, with Skipped for other keys and TooLarge for
// objects over the limit; with MirrorDeletes a delete branch first.
func definition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	skipped := awsstepfunctions.NewSucceed(scope, at(contract.StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: at("The key does not match the pattern: nothing to deliver"),
	})
	deliver := toTarget(scope, props, FanOutProps{
		What:        awsstepfunctions.JsonPath_Format(at("s3://{}/{}"), str("$.bucket"), str("$.key")),
		Carry:       []string{"bucket", "key", "size", "etag", "sequencer"},
		Environment: *objectEnvironment(),
		Pageable:    true,
		Ledger:      props.Ledger,
		record:      ledgerKind{mode: contract.ModeDownload},
		redeliver:   true,
	})
	created := extract(scope).Next(awsstepfunctions.NewChoice(scope, at(contract.StateMatches), &awsstepfunctions.ChoiceProps{
		Comment: at("Deliver only keys that match the configured pattern"),
	}).
		When(awsstepfunctions.Condition_StringMatches(at("$.key"), at(props.KeyPattern)), sizeCheck(scope, props.MaxObjectBytes, deliver), nil).
		Otherwise(skipped))
	if !props.MirrorDeletes {
		return created
	}
	return withDeletes(scope, props, created, skipped)
}

// extract keeps what the task needs from the S3 event.
func extract(scope constructs.Construct) awsstepfunctions.Pass {
	return awsstepfunctions.NewPass(scope, at(contract.StateExtract), &awsstepfunctions.PassProps{
		Comment: at("Keep what the task needs from the S3 event; the key stays URL-encoded as S3 sent it"),
		Parameters: &map[string]any{
			"bucket": str("$.detail.bucket.name"),
			"key":    str("$.detail.object.key"),
			"size":   num("$.detail.object.size"),
			"etag":   str("$.detail.object.etag"),
			// S3's order of the events of one key: the task tells an event
			// that a newer upload has superseded.
			"sequencer": str("$.detail.object.sequencer"),
		},
	})
}

// sizeCheck lets nothing larger than the board accepts reach it: the
// execution ends in TooLarge, before RunTask, with the size and the limit
// in the cause.
func sizeCheck(scope constructs.Construct, maxBytes int64, deliver awsstepfunctions.IChainable) awsstepfunctions.Choice {
	tooLarge := awsstepfunctions.NewFail(scope, at(contract.StateTooLarge), &awsstepfunctions.FailProps{
		Comment: at("The object is larger than maxObjectMiB: nothing was started on the board"),
		Error:   at(contract.ErrTooLarge),
		CausePath: awsstepfunctions.JsonPath_Format(at(fmt.Sprintf(
			"s3://{}/{} is {} bytes, more than the %d bytes (maxObjectMiB=%d) a board accepts: not delivered",
			maxBytes, maxBytes>>20)),
			str("$.bucket"),
			str("$.key"),
			str("$.size")),
	})
	return awsstepfunctions.NewChoice(scope, at(contract.StateSize), &awsstepfunctions.ChoiceProps{
		Comment: at("Refuse objects larger than the board accepts before anything runs on it"),
	}).
		When(awsstepfunctions.Condition_NumberGreaterThan(at("$.size"), jsii.Number(float64(maxBytes))), tooLarge, nil).
		Otherwise(deliver)
}

// toTarget is the delivery to the target: one board ECS picks for "any"
// (oneBoard), else the fleet's fan-out with what fan says the task does.
func toTarget(scope constructs.Construct, props Props, fan FanOutProps) awsstepfunctions.IChainable {
	if props.Target.Kind == TargetAny {
		return oneBoard(scope, props)
	}
	return fleet(scope, props, fan)
}

// fansOut reports whether the state machine lists boards: a fleet target,
// or deletes (which for "any" run on every board).
func (p Props) fansOut() bool { return p.Target.Kind != TargetAny || p.MirrorDeletes }
