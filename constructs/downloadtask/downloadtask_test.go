package downloadtask_test

import (
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var (
	like = assertions.Match_ObjectLike
	with = assertions.Match_ArrayWith
)

const image = "public.ecr.aws/example/edge-drop:1.2.3"

// task builds the construct alone, reading from a bucket the stack does not
// own, with the image from a registry (no asset build).
func task(t *testing.T, change func(*downloadtask.Props)) (awscdk.Stack, *downloadtask.DownloadTask) {
	t.Helper()
	stack := cdktest.Stack(t)
	props := defaults(awss3.Bucket_FromBucketName(stack, jsii.String("Landing"), jsii.String("landing")))
	if change != nil {
		change(&props)
	}
	return stack, downloadtask.New(stack, "Task", props)
}

// defaults are the app's default settings.
func defaults(bucket awss3.IBucket) downloadtask.Props {
	return downloadtask.Props{
		Bucket:        bucket,
		Image:         awsecs.ContainerImage_FromRegistry(jsii.String(image), nil),
		DataDir:       "/data",
		CPU:           256,
		MemoryMiB:     128,
		User:          "65532:65532",
		Timeout:       30 * time.Minute,
		LogRetention:  awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	}
}

func logicalID(stack awscdk.Stack, r awscdk.IResource) string {
	return *stack.GetLogicalId(r.Node().DefaultChild().(awscdk.CfnElement))
}

func TestTaskDefinitionRunsOnTheBoardWithTheDataDirMounted(t *testing.T) {
	stack, d := task(t, nil)
	tpl := cdktest.Template(t, stack)
	logs := logicalID(stack, d.LogGroup)

	tpl.ResourceCountIs(jsii.String("AWS::ECS::TaskDefinition"), jsii.Number(1))
	cdktest.Check(t, "task definition", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), like(&map[string]any{
			"RequiresCompatibilities": []any{"EXTERNAL"},
			"NetworkMode":             "bridge",
			"TaskRoleArn":             map[string]any{"Fn::GetAtt": []any{logicalID(stack, d.TaskRole), "Arn"}},
			"ExecutionRoleArn":        map[string]any{"Fn::GetAtt": []any{logicalID(stack, d.ExecutionRole), "Arn"}},
			"Volumes":                 []any{map[string]any{"Name": contract.VolumeName, "Host": map[string]any{"SourcePath": "/data"}}},
			"ContainerDefinitions": []any{like(&map[string]any{
				"Name":                   contract.ContainerName,
				"Image":                  image,
				"Essential":              true,
				"Cpu":                    256,
				"Memory":                 128,
				"User":                   "65532:65532",
				"ReadonlyRootFilesystem": true,
				"MountPoints":            []any{map[string]any{"ContainerPath": "/data", "SourceVolume": contract.VolumeName, "ReadOnly": false}},
				"Environment": with(&[]any{
					map[string]any{"Name": contract.EnvDataDir, "Value": "/data"},
					map[string]any{"Name": contract.EnvTimeout, "Value": "29m0s"},
				}),
				"LogConfiguration": map[string]any{"LogDriver": "awslogs", "Options": like(&map[string]any{
					"awslogs-group": map[string]any{"Ref": logs}, "awslogs-stream-prefix": "edge-drop",
				})},
			})},
		}))
	})
	cdktest.Check(t, "log group", func() {
		tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), like(&map[string]any{
			"DeletionPolicy": "Retain",
			"Properties":     like(&map[string]any{"RetentionInDays": 30}),
		}))
	})
	// Both roles are for ECS tasks only.
	cdktest.Check(t, "roles", func() {
		tpl.AllResourcesProperties(jsii.String("AWS::IAM::Role"), like(&map[string]any{
			"AssumeRolePolicyDocument": like(&map[string]any{"Statement": []any{like(&map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"},
			})}}),
		}))
	})
	cdktest.NagClean(t, stack)
}

// report is the task's one other grant: states:SendTaskSuccess (no
// resource type, so "*"), in this region only.
var report = map[string]any{
	"Sid": "ReportTheOutcome", "Effect": "Allow", "Action": "states:SendTaskSuccess", "Resource": "*",
	"Condition": map[string]any{"StringEquals": map[string]any{"aws:RequestedRegion": map[string]any{"Ref": "AWS::Region"}}},
}

func TestTaskRoleMayOnlyGetObjectsOfTheBucketAndReport(t *testing.T) {
	// One stack, two tasks: the whole bucket, and one prefix.
	stack, whole := task(t, nil)
	props := defaults(awss3.Bucket_FromBucketName(stack, jsii.String("SameBucket"), jsii.String("landing")))
	props.KeyPrefix = "reports/"
	prefixed := downloadtask.New(stack, "Prefixed", props)
	tpl := cdktest.Template(t, stack)
	for role, resource := range map[string]string{
		logicalID(stack, whole.TaskRole):    "arn:aws:s3:::landing/*",
		logicalID(stack, prefixed.TaskRole): "arn:aws:s3:::landing/reports/*",
	} {
		cdktest.Check(t, "task role policy "+resource, func() {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), like(&map[string]any{
				"Roles": []any{map[string]any{"Ref": role}},
				"PolicyDocument": like(&map[string]any{"Statement": []any{map[string]any{
					"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": resource,
				}, report}}),
			}))
		})
	}
	cdktest.NagClean(t, stack)
}

func TestTaskGivesUpBeforeTheStateTimesOut(t *testing.T) {
	// The task's own timeout is a minute short of the state's, but never
	// less than half of it. One stack, one task per timeout.
	stack, _ := task(t, nil) // 30m
	for _, timeout := range []time.Duration{2 * time.Minute, time.Minute} {
		props := defaults(awss3.Bucket_FromBucketName(stack, jsii.String("Bucket"+timeout.String()), jsii.String("landing")))
		props.Timeout = timeout
		downloadtask.New(stack, "Task"+timeout.String(), props)
	}
	tpl := cdktest.Template(t, stack)
	for _, want := range []string{"29m0s", "1m0s", "30s"} {
		cdktest.Check(t, "timeout "+want, func() {
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::ECS::TaskDefinition"), like(&map[string]any{
				"ContainerDefinitions": []any{like(&map[string]any{"Environment": with(&[]any{
					map[string]any{"Name": contract.EnvTimeout, "Value": want},
				})})},
			}), jsii.Number(1))
		})
	}
}

func TestListBucketOnlyWhenAskedAndNarrowedToThePrefix(t *testing.T) {
	stack, whole := task(t, func(p *downloadtask.Props) { p.ListKeys = true })
	props := defaults(awss3.Bucket_FromBucketName(stack, jsii.String("SameBucket"), jsii.String("landing")))
	props.KeyPrefix, props.ListKeys, props.ListPrefix = "reports/", true, "reports/"
	prefixed := downloadtask.New(stack, "Prefixed", props)
	// Routing by key: reads one board's route, lists every route.
	props = defaults(awss3.Bucket_FromBucketName(stack, jsii.String("RoutedBucket"), jsii.String("landing")))
	props.KeyPrefix, props.ListKeys, props.ListPrefix = "to/shop-1/", true, "to/"
	routed := downloadtask.New(stack, "Routed", props)
	tpl := cdktest.Template(t, stack)
	read := func(resource string) map[string]any {
		return map[string]any{"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
	}
	list := map[string]any{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::landing"}
	listUnder := func(prefix string) map[string]any {
		return map[string]any{"Sid": "ListUploadedKeys", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::landing",
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": prefix}}}
	}
	for role, statements := range map[string][]any{
		// No prefix: the whole bucket, as for s3:GetObject.
		logicalID(stack, whole.TaskRole): {read("arn:aws:s3:::landing/*"), list, report},
		// A prefix: ListObjectsV2 only under it (a HEAD of a missing key
		// under it is evaluated with the key as s3:prefix).
		logicalID(stack, prefixed.TaskRole): {read("arn:aws:s3:::landing/reports/*"), listUnder("reports/*"), report},
		logicalID(stack, routed.TaskRole):   {read("arn:aws:s3:::landing/to/shop-1/*"), listUnder("to/*"), report},
	} {
		cdktest.Check(t, "task role policy of "+role, func() {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), like(&map[string]any{
				"Roles":          []any{map[string]any{"Ref": role}},
				"PolicyDocument": like(&map[string]any{"Statement": assertions.Match_ArrayEquals(&statements)}),
			}))
		})
	}
	cdktest.NagClean(t, stack)
}

// The board's bandwidth budget reaches the task as its environment; a
// timetable also gets the board's /etc/localtime, read-only (the scratch
// image has no time zone of its own). Without either, the task definition
// is as before: no variable, no volume.
func TestBandwidthBudgetInTheEnvironment(t *testing.T) {
	stack, _ := task(t, func(p *downloadtask.Props) { p.MaxRate, p.RateSchedule = "2MiB", "08:00,512KiB 18:00,off" })
	plain := downloadtask.New(stack, "Plain", defaults(awss3.Bucket_FromBucketName(stack, jsii.String("Other"), jsii.String("landing"))))
	tpl := cdktest.Template(t, stack)
	cdktest.Check(t, "budget", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), like(&map[string]any{
			"Volumes": []any{
				map[string]any{"Name": contract.VolumeName, "Host": map[string]any{"SourcePath": "/data"}},
				map[string]any{"Name": "localtime", "Host": map[string]any{"SourcePath": "/etc/localtime"}},
			},
			"ContainerDefinitions": []any{like(&map[string]any{
				"MountPoints": []any{
					map[string]any{"ContainerPath": "/data", "SourceVolume": contract.VolumeName, "ReadOnly": false},
					map[string]any{"ContainerPath": "/etc/localtime", "SourceVolume": "localtime", "ReadOnly": true},
				},
				"Environment": with(&[]any{
					map[string]any{"Name": contract.EnvMaxRate, "Value": "2MiB"},
					map[string]any{"Name": contract.EnvRateSchedule, "Value": "08:00,512KiB 18:00,off"},
				}),
			})},
		}))
	})
	cdktest.Check(t, "no budget", func() {
		tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), like(&map[string]any{
			"Volumes": []any{map[string]any{"Name": contract.VolumeName, "Host": map[string]any{"SourcePath": "/data"}}},
			"ContainerDefinitions": []any{like(&map[string]any{
				"Environment": assertions.Match_Not(with(&[]any{like(&map[string]any{"Name": contract.EnvMaxRate})})),
			})},
		}))
	})
	_ = plain
	cdktest.NagClean(t, stack)
}
