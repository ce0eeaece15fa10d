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

// definition is Extract → KeyMatchesPattern → SizeWithinLimit →
// DownloadToBoard, with Skipped for other keys, TooLarge for objects over
// the limit and DeliveryFailed when the task fails.
func definition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	extract := awsstepfunctions.NewPass(scope, jsii.String(contract.StateExtract), &awsstepfunctions.PassProps{
		Comment: jsii.String("Keep what the task needs from the S3 event; the key stays URL-encoded as S3 sent it"),
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

	skipped := awsstepfunctions.NewSucceed(scope, jsii.String(contract.StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: jsii.String("The key does not match the pattern: nothing to deliver"),
	})

	var deliver awsstepfunctions.IChainable
	if props.Target.Kind == TargetAny {
		deliver = oneBoard(scope, props)
	} else {
		deliver = fleet(scope, props, FanOutProps{
			What:        awsstepfunctions.JsonPath_Format(jsii.String("s3://{}/{}"), str("$.bucket"), str("$.key")),
			Carry:       []string{"bucket", "key", "size", "etag", "sequencer"},
			Environment: *objectEnvironment(),
			Pageable:    true,
			Ledger:      props.Ledger,
			record:      ledgerKind{mode: contract.ModeDownload},
			redeliver:   true,
		})
	}

	// Nothing larger than the board accepts reaches it: the execution ends
	// here, before RunTask, with the size and the limit in the cause.
	tooLarge := awsstepfunctions.NewFail(scope, jsii.String(contract.StateTooLarge), &awsstepfunctions.FailProps{
		Comment: jsii.String("The object is larger than maxObjectMiB: nothing was started on the board"),
		Error:   jsii.String(contract.ErrTooLarge),
		CausePath: awsstepfunctions.JsonPath_Format(jsii.String(fmt.Sprintf(
			"s3://{}/{} is {} bytes, more than the %d bytes (maxObjectMiB=%d) a board accepts: not delivered",
			props.MaxObjectBytes, props.MaxObjectBytes>>20)),
			str("$.bucket"),
			str("$.key"),
			str("$.size")),
	})
	sizeCheck := awsstepfunctions.NewChoice(scope, jsii.String(contract.StateSize), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Refuse objects larger than the board accepts before anything runs on it"),
	}).
		When(awsstepfunctions.Condition_NumberGreaterThan(jsii.String("$.size"), jsii.Number(float64(props.MaxObjectBytes))), tooLarge, nil).
		Otherwise(deliver)

	created := extract.Next(awsstepfunctions.NewChoice(scope, jsii.String(contract.StateMatches), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Deliver only keys that match the configured pattern"),
	}).
		When(awsstepfunctions.Condition_StringMatches(jsii.String("$.key"), jsii.String(props.KeyPattern)), sizeCheck, nil).
		Otherwise(skipped))
	if !props.MirrorDeletes {
		return created
	}
	return withDeletes(scope, props, created, skipped)
}

// fansOut reports whether the state machine lists boards: a fleet target,
// or deletes (which for "any" run on every board).
func (p Props) fansOut() bool { return p.Target.Kind != TargetAny || p.MirrorDeletes }
