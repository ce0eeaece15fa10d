package pipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/contract"
)

// batchEnvironment is what a key-list task learns: the bucket and the
// part's keys ($.bucket, $.keys of the part).
func batchEnvironment() []*awsstepfunctionstasks.TaskEnvironmentVariable {
	return []*awsstepfunctionstasks.TaskEnvironmentVariable{
		{Name: jsii.String(contract.EnvBucket), Value: str("$.bucket")},
		{Name: jsii.String(contract.EnvKeys), Value: str("$.keys")},
	}
}

// ReadBatchExpression is ReadBatch's JSONata: the pipe's SQS records
// ($states.input, each body an EventBridge event of S3) to the batch's
// bucket, its key count and its parts. Per key the newest event wins (the
// greatest sequencer, left-padded; equal ones: the later record), then the
// pattern filters; each part's keys are one JSON list (contract.ListedKey)
// of at most MaxKeyListBytes, MaxKeysPerTask entries.
func ReadBatchExpression(keyPattern string) string {
	seq := func(v string) string { return fmt.Sprintf(`$pad($uppercase(%s.detail.object.sequencer), -64, "0")`, v) }
	return strings.Join([]string{
		`(`,
		`$events := $states.input.$parse(body);`,
		`$sorted := $sort($events, function($a, $b) { $a.detail.object.key > $b.detail.object.key or ($a.detail.object.key = $b.detail.object.key and ` + seq("$a") + ` > ` + seq("$b") + `) });`,
		`$n := $count($sorted);`,
		`$newest := $filter($sorted, function($v, $i) { $i = $n - 1 or $sorted[$i + 1].detail.object.key != $v.detail.object.key });`,
		`$kept := $filter($newest, function($v) { $contains($v.detail.object.key, /` + contract.CompilePattern(keyPattern).Regexp() + `/) });`,
		`$strs := $map($kept, function($v) { $string($v.` + "`detail-type`" + ` = "` + DetailTypeDeleted + `"` +
			` ? {"k": $v.detail.object.key, "q": $v.detail.object.sequencer, "d": true}` +
			` : {"k": $v.detail.object.key, "q": $v.detail.object.sequencer, "e": $v.detail.object.etag, "z": $v.detail.object.size}) });`,
		`$count_ := $count($strs);`,
		`$widest := $count_ = 0 ? 0 : $max($map($strs, function($s) { $length($s) }));`,
		fmt.Sprintf(`$per := $min([%d, $floor(%d / ($widest + 1))]);`, contract.MaxKeysPerTask, contract.MaxKeyListBytes-2),
		`$bucket := $events[0].detail.bucket.name;`,
		`{`,
		`"bucket": $bucket,`,
		`"events": $count($events),`,
		`"count": $count_,`,
		`"parts": $count_ = 0 ? [] : [$map([0 .. $ceil($count_ / $per) - 1], function($i) { (`,
		`  $these := $strs[[$i * $per .. $i * $per + $per - 1]];`,
		`  $first := $parse($these[0]).k;`,
		`  {"part": [{"bucket": $bucket, "keys": "[" & $join($these, ",") & "]", "count": $count($these),`,
		`   "key": "s3://" & $bucket & "/" & $first & ($count($these) > 1 ? " and " & ($count($these) - 1) & " more keys" : "")}]}`,
		`) })]`,
		`}`,
		`)`,
	}, "\n")
}

// batchDefinition is ReadBatch → AnyKeysInBatch → DeliverEachPart (one
// part after another; each part is the target's delivery, oneBoard or the
// fleet fan-out, with the part's key list) → EveryPartDelivered.
func batchDefinition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	read := awsstepfunctions.NewPass(scope, at(contract.StateReadBatch), &awsstepfunctions.PassProps{
		Comment:       at("The batch's keys: the newest event of each, those the pattern matches, in parts of one task's key list"),
		QueryLanguage: awsstepfunctions.QueryLanguage_JSONATA,
		Outputs:       "{% " + ReadBatchExpression(props.KeyPattern) + " %}",
	})
	skipped := awsstepfunctions.NewSucceed(scope, at(contract.StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: at("No key of the batch matches the pattern: nothing to deliver"),
	})
	deliver := toTarget(scope, props, FanOutProps{
		What:        str("$.key"),
		Carry:       []string{"bucket", "key", "keys", "count"},
		Environment: batchEnvironment(),
	})
	return read.Next(awsstepfunctions.NewChoice(scope, at(contract.StateAnyKeysInBatch), &awsstepfunctions.ChoiceProps{
		Comment: at("Any key left to deliver?"),
	}).
		When(awsstepfunctions.Condition_NumberGreaterThan(at("$.count"), jsii.Number(0)), eachPart(scope, deliver).Next(batchVerdict(scope)), nil).
		Otherwise(skipped))
}

// eachPart delivers the parts one after another, each inside a Map of
// its one item whose Catch lets the later parts run when it fails (an
// inline Map stops at its first failed iteration).
func eachPart(scope constructs.Construct, deliver awsstepfunctions.IChainable) awsstepfunctions.Map {
	part := awsstepfunctions.NewMap(scope, at(contract.StateDeliverPart), &awsstepfunctions.MapProps{
		Comment:        at("One part of the batch: one task per board for all of its keys"),
		ItemsPath:      at("$.part"),
		ResultSelector: &map[string]any{"delivered": true},
	})
	part.ItemProcessor(deliver, nil)
	notDelivered := awsstepfunctions.NewPass(scope, at(contract.StatePartNotDelivered), &awsstepfunctions.PassProps{
		Comment: at("The part failed (a key failed on a board, a board was offline): the later parts still run"),
		Parameters: &map[string]any{
			"delivered": false,
			"what":      str("$.part[0].key"),
			"error":     awsstepfunctions.JsonPath_JsonToString(awsstepfunctions.JsonPath_ObjectAt(at("$.error"))),
		},
	})
	part.AddCatch(notDelivered, &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: at("$.error")})

	each := awsstepfunctions.NewMap(scope, at(contract.StateDeliverParts), &awsstepfunctions.MapProps{
		Comment:        at("The parts one after another: a board gets one task at a time"),
		ItemsPath:      at("$.parts"),
		MaxConcurrency: jsii.Number(1),
		ResultPath:     at("$.delivered"),
	})
	each.ItemProcessor(part, nil)
	return each
}

// batchVerdict succeeds when every part was delivered.
func batchVerdict(scope constructs.Construct) awsstepfunctions.Choice {
	failed := awsstepfunctions.NewFail(scope, at(contract.StateBatchFailed), &awsstepfunctions.FailProps{
		Comment: at("Some part of the batch was not delivered everywhere; each board's outcome is in its part's history"),
		Error:   at(contract.ErrDeliveryFailed),
		CausePath: awsstepfunctions.JsonPath_Format(at("not every key of the batch ({} keys of {} events) was delivered: {}"),
			str("$.count"), str("$.events"), awsstepfunctions.JsonPath_JsonToString(list("$.delivered"))),
	})
	return awsstepfunctions.NewChoice(scope, at(contract.StateEveryPart), &awsstepfunctions.ChoiceProps{
		Comment:       at("Every part delivered?"),
		QueryLanguage: awsstepfunctions.QueryLanguage_JSONATA,
	}).
		When(awsstepfunctions.Condition_Jsonata(at("{% $count($states.input.delivered[delivered = false]) = 0 %}")),
			awsstepfunctions.NewSucceed(scope, at(contract.StateBatchDelivered), &awsstepfunctions.SucceedProps{
				Comment: at("Every key of the batch is on every board of the target (or gone)"),
			}), nil).
		Otherwise(failed)
}
