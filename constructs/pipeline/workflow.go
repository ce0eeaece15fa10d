package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/externallaunch"
	"github.com/edge-drop/edge-drop/contract"
)

// State names: the ASL definition, the local demo and the tests share them.
const (
	StateExtract  = "Extract"
	StateMatches  = "KeyMatchesPattern"
	StateSkipped  = "Skipped"
	StateDownload = "DownloadToBoard"
	StateFailed   = "DeliveryFailed"
)

// RetriedErrors are the ECS API errors worth retrying soon: throttling
// ("Rate exceeded" surfaces as AmazonECSException) and service faults. A
// task that ran and failed is not retried: the task binary has already
// retried its downloads itself.
var RetriedErrors = []string{"ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException"}

// definition is Extract → KeyMatchesPattern → DownloadToBoard, with
// Skipped for other keys and DeliveryFailed when the task fails.
func definition(scope constructs.Construct, props Props) awsstepfunctions.IChainable {
	extract := awsstepfunctions.NewPass(scope, jsii.String(StateExtract), &awsstepfunctions.PassProps{
		Comment: jsii.String("Keep what the task needs from the S3 event; the key stays URL-encoded as S3 sent it"),
		Parameters: &map[string]any{
			"bucket": awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.bucket.name")),
			"key":    awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.object.key")),
			"size":   awsstepfunctions.JsonPath_NumberAt(jsii.String("$.detail.object.size")),
			"etag":   awsstepfunctions.JsonPath_StringAt(jsii.String("$.detail.object.etag")),
		},
	})

	skipped := awsstepfunctions.NewSucceed(scope, jsii.String(StateSkipped), &awsstepfunctions.SucceedProps{
		Comment: jsii.String("The key does not match the pattern: nothing to deliver"),
	})

	failed := awsstepfunctions.NewFail(scope, jsii.String(StateFailed), &awsstepfunctions.FailProps{
		Comment: jsii.String("The task failed or could not start; the cause names the object and the reason"),
		Error:   jsii.String(contract.ErrDeliveryFailed),
		CausePath: awsstepfunctions.JsonPath_Format(jsii.String("s3://{}/{} was not delivered: {}: {}"),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket")),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.key")),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.error.Error")),
			awsstepfunctions.JsonPath_StringAt(jsii.String("$.error.Cause"))),
	})

	download := awsstepfunctionstasks.NewEcsRunTask(scope, jsii.String(StateDownload), &awsstepfunctionstasks.EcsRunTaskProps{
		Comment:            jsii.String("Run the download task on the board and wait for it to stop"),
		IntegrationPattern: awsstepfunctions.IntegrationPattern_RUN_JOB, // ecs:runTask.sync
		Cluster:            props.Cluster,
		TaskDefinition:     props.Task.TaskDefinition,
		LaunchTarget:       externallaunch.New(),
		ContainerOverrides: &[]*awsstepfunctionstasks.ContainerOverride{{
			ContainerDefinition: props.Task.Container,
			Environment: &[]*awsstepfunctionstasks.TaskEnvironmentVariable{
				{Name: jsii.String(contract.EnvBucket), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.bucket"))},
				{Name: jsii.String(contract.EnvKey), Value: awsstepfunctions.JsonPath_StringAt(jsii.String("$.key"))},
			},
		}},
		PropagatedTagSource: awsecs.PropagatedTagSource_TASK_DEFINITION,
		ResultSelector: &map[string]any{
			"taskArn":    awsstepfunctions.JsonPath_StringAt(jsii.String("$.TaskArn")),
			"exitCode":   awsstepfunctions.JsonPath_NumberAt(jsii.String("$.Containers[0].ExitCode")),
			"stopReason": awsstepfunctions.JsonPath_StringAt(jsii.String("$.StoppedReason")),
		},
		ResultPath:  jsii.String("$.task"),
		TaskTimeout: awsstepfunctions.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(props.TaskTimeout.Seconds()))),
	})
	download.AddRetry(&awsstepfunctions.RetryProps{
		Errors:         jsii.Strings(RetriedErrors...),
		Interval:       awscdk.Duration_Seconds(jsii.Number(5)),
		MaxAttempts:    jsii.Number(5),
		BackoffRate:    jsii.Number(2),
		MaxDelay:       awscdk.Duration_Seconds(jsii.Number(60)),
		JitterStrategy: awsstepfunctions.JitterType_FULL,
	})
	// A busy board: up to ~25 minutes of waiting, spread by jitter so a
	// burst of uploads does not retry in lockstep.
	download.AddRetry(&awsstepfunctions.RetryProps{
		Errors:         jsii.Strings(contract.ErrPlacement),
		Interval:       awscdk.Duration_Seconds(jsii.Number(15)),
		MaxAttempts:    jsii.Number(10),
		BackoffRate:    jsii.Number(2),
		MaxDelay:       awscdk.Duration_Seconds(jsii.Number(300)),
		JitterStrategy: awsstepfunctions.JitterType_FULL,
	})
	download.AddCatch(failed, &awsstepfunctions.CatchProps{
		Errors:     jsii.Strings("States.ALL"),
		ResultPath: jsii.String("$.error"),
	})

	return extract.Next(awsstepfunctions.NewChoice(scope, jsii.String(StateMatches), &awsstepfunctions.ChoiceProps{
		Comment: jsii.String("Deliver only keys that match the configured pattern"),
	}).
		When(awsstepfunctions.Condition_StringMatches(jsii.String("$.key"), jsii.String(props.KeyPattern)), download, nil).
		Otherwise(skipped))
}
