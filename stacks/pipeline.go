package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/alarms"
	"github.com/edge-drop/edge-drop/constructs/downloadtask"
	"github.com/edge-drop/edge-drop/constructs/dropbucket"
	"github.com/edge-drop/edge-drop/constructs/edgecluster"
	"github.com/edge-drop/edge-drop/constructs/ledger"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
)

// PipelineStackProps configures the pipeline stack.
type PipelineStackProps struct {
	awscdk.StackProps
	Config config.Config
	// ImageDirectory holds the Dockerfile built as the task image when
	// Config.TaskImage is empty.
	ImageDirectory string
}

// PipelineStack is bucket → rule → state machine → task, with alarms on
// every way a delivery can fail.
type PipelineStack struct {
	awscdk.Stack
	Bucket   *dropbucket.DropBucket
	Task     *downloadtask.DownloadTask
	Pipeline *pipeline.Pipeline
	Sync     *pipeline.Sync
	Alarms   *alarms.Alarms
	Ledger   *ledger.Ledger
}

// NewPipelineStack creates the whole data flow for one bucket, in its
// order: the bucket, the boards' cluster and task, the ledger, the
// pipeline and the sync, the alarms, the outputs.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) (*PipelineStack, error) {
	b := pipelineBuild{
		stack:     awscdk.NewStack(scope, jsii.String(id), &props.StackProps),
		cfg:       props.Config,
		removal:   removalPolicy(props.Config.RemovalPolicy),
		retention: logRetention(props.Config.LogRetentionDays),
	}
	s := &PipelineStack{Stack: b.stack}
	var err error
	if s.Bucket, err = b.dropBucket(); err != nil {
		return nil, err
	}
	// The cluster is imported by its configured name whether or not this app
	// creates it: no Fn::ImportValue export that locks the cluster stack,
	// no Fn::GetStackOutput (undocumented per region, needs
	// cloudformation:DescribeStacks, and goes stale when the cluster stack
	// is replaced). The name is already configuration.
	cluster := edgecluster.Import(b.stack, "EdgeCluster", b.cfg.EffectiveClusterName())
	s.Task = b.downloadTask(s.Bucket, props.ImageDirectory)
	s.Ledger = ledger.New(b.stack, "Ledger", ledger.Props{
		TableName:     b.cfg.StackPrefix + "-Ledger",
		HistoryDays:   b.cfg.LedgerHistoryDays,
		RemovalPolicy: b.removal,
	})
	shared := b.flow(s.Bucket, cluster, s.Task, s.Ledger)
	s.Pipeline = b.pipeline(shared)
	s.Sync = b.sync(shared, s.Pipeline.DeadLetterQueue)
	retainFunctionLogs(b.stack, b.retention, b.removal)
	s.Alarms = b.alarms(s.Pipeline, s.Sync)
	b.outputs(s)
	return s, nil
}

// pipelineBuild is what every step of NewPipelineStack reads.
type pipelineBuild struct {
	stack     awscdk.Stack
	cfg       config.Config
	removal   awscdk.RemovalPolicy
	retention awslogs.RetentionDays
}

// dropBucket is the bucket the app creates, or the existing one it wraps.
func (b pipelineBuild) dropBucket() (*dropbucket.DropBucket, error) {
	props := dropbucket.Props{BucketProps: &dropbucket.BucketProps{BucketName: b.cfg.BucketName, RemovalPolicy: b.removal}}
	if b.cfg.ExistingBucketName != "" {
		props = dropbucket.Props{ExistingBucketObj: awss3.Bucket_FromBucketName(b.stack, jsii.String("ExistingBucket"), jsii.String(b.cfg.ExistingBucketName))}
	}
	return dropbucket.New(b.stack, "DropBucket", props)
}

// downloadTask is the task definition the boards run.
func (b pipelineBuild) downloadTask(bucket *dropbucket.DropBucket, imageDirectory string) *downloadtask.DownloadTask {
	cfg := b.cfg
	return downloadtask.New(b.stack, "DownloadTask", downloadtask.Props{
		Bucket: bucket.Bucket,
		// The prefix every delivered key starts with (keyPattern, routing,
		// the rule's filters), decoded: IAM names raw keys.
		KeyPrefix: cfg.ReadPrefix(),
		// Every sync lists; a delete needs S3's 404 for a gone key. With
		// syncEvery=off and mirrorDeletes=false there is no sync at all
		// (not even on demand) and the role keeps to s3:GetObject.
		ListKeys:       cfg.Syncs() || cfg.MirrorDeletes,
		ListPrefix:     cfg.ListPrefix(),
		Image:          taskImage(cfg, imageDirectory),
		DataDir:        cfg.DataDir,
		CPU:            cfg.TaskCPU,
		MemoryMiB:      cfg.TaskMemoryMiB,
		User:           cfg.TaskUser,
		Timeout:        cfg.TaskTimeout,
		MaxObjectBytes: cfg.MaxObjectBytes(),
		MaxRate:        cfg.BoardMaxRate,
		RateSchedule:   cfg.BoardRateSchedule,
		LogRetention:   b.retention,
		RemovalPolicy:  b.removal,
	})
}

// flow is what the pipeline and the sync share: the same boards, keys,
// task and ledger.
func (b pipelineBuild) flow(bucket *dropbucket.DropBucket, cluster awsecs.ICluster, task *downloadtask.DownloadTask, table *ledger.Ledger) pipeline.Flow {
	return pipeline.Flow{
		Bucket:        bucket.Bucket,
		Cluster:       cluster,
		Task:          task,
		Target:        target(b.cfg),
		KeyPattern:    b.cfg.KeyPattern,
		MirrorDeletes: b.cfg.MirrorDeletes,
		Ledger: pipeline.Ledger{
			// The literal name, not the table's Ref: the state machines'
			// definitions name it as written.
			Table:       jsii.String(b.cfg.StackPrefix + "-Ledger"),
			TableArn:    table.Table.TableArn(),
			HistoryDays: table.HistoryDays,
		},
		TaskTimeout:   b.cfg.TaskTimeout,
		OfflineWait:   b.cfg.OfflineWait,
		LogRetention:  b.retention,
		RemovalPolicy: b.removal,
	}
}

// pipeline is the rule and the delivery state machine.
func (b pipelineBuild) pipeline(flow pipeline.Flow) *pipeline.Pipeline {
	cfg := b.cfg
	return pipeline.New(b.stack, "Pipeline", pipeline.Props{
		Flow:           flow,
		KeyFilter:      pipeline.KeyFilter{Prefix: cfg.RuleKeyPrefix, Suffix: cfg.RuleKeySuffix, Wildcard: cfg.RuleKeyWildcard},
		MaxObjectBytes: cfg.MaxObjectBytes(),
		MaxBoards:      cfg.MaxBoards,
		CoalesceWindow: cfg.CoalesceWindow,
	})
}

// sync is the sync state machine and its schedule, nil when nothing
// syncs (syncEvery=off without mirrorDeletes).
func (b pipelineBuild) sync(flow pipeline.Flow, deadLetters awssqs.IQueue) *pipeline.Sync {
	if !b.cfg.Syncs() && !b.cfg.MirrorDeletes {
		return nil
	}
	return pipeline.NewSync(b.stack, "Sync", pipeline.SyncProps{
		Flow:            flow,
		Name:            b.cfg.StackPrefix + "-Sync",
		KeyPrefix:       b.cfg.ListPrefix(), // routed: each board's route instead
		Every:           b.cfg.SyncEvery,
		DeadLetterQueue: deadLetters,
	})
}

// alarms watch every way a delivery can fail, the ledger's failed
// writes among them (counted in each state machine's log).
func (b pipelineBuild) alarms(flow *pipeline.Pipeline, sync *pipeline.Sync) *alarms.Alarms {
	failures := pipeline.LedgerFailures(flow.Construct, "LedgerWritesFailed", flow.LogGroup)
	if sync != nil {
		pipeline.LedgerFailures(sync.Construct, "LedgerWritesFailed", sync.LogGroup)
	}
	return alarms.New(b.stack, "Alarms", alarms.Props{
		StateMachine:         flow.StateMachine,
		DeadLetterQueue:      flow.DeadLetterQueue,
		BatchDeadLetterQueue: batchDeadLetters(flow),
		Sync:                 syncMachine(sync),
		LedgerFailures: failures.Metric(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: awscloudwatch.Stats_SUM(),
		}),
		Email:         b.cfg.AlarmEmail,
		RemovalPolicy: b.removal,
	})
}

// outputs are what the operator and the CLI read after a deploy.
func (b pipelineBuild) outputs(s *PipelineStack) {
	stack, cfg, bucket := b.stack, b.cfg, s.Bucket.Bucket
	output(stack, "BucketName", bucket.BucketName(), "Upload here")
	output(stack, "StateMachineArn", s.Pipeline.StateMachine.StateMachineArn(), "Executions show each delivery")
	output(stack, "DeadLetterQueueUrl", s.Pipeline.DeadLetterQueue.QueueUrl(), "Events EventBridge could not deliver")
	if s.Sync != nil {
		output(stack, "SyncStateMachineArn", s.Sync.StateMachine.StateMachineArn(), "make sync [BOARD=<name>] starts a sync here")
	}
	output(stack, contract.OutputLedgerTable, s.Ledger.Table.TableName(), "The delivery ledger: edge-drop status, boards, missing and the page read it")
	output(stack, contract.OutputClusterName, jsii.String(cfg.EffectiveClusterName()), "The ECS cluster of the boards")
	output(stack, contract.OutputDelivery, jsii.String(cfg.Delivery().JSON()), "Which keys are delivered to which boards (the edge-drop CLI reads it)")
	output(stack, "TaskLogGroup", s.Task.LogGroup.LogGroupName(), "Logs of the task on the board")
	output(stack, "AlarmTopicArn", s.Alarms.Topic.TopicArn(), "Failed deliveries are announced here: subscribe (alarmEmail does it for one address)")
	output(stack, "UploadCommand",
		awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("aws s3 cp ./demo1.txt s3://"), bucket.BucketName(), jsii.String("/demo1.txt")}),
		"Try it: the file appears in "+cfg.DataDir+" on the board")
}

// batchDeadLetters is the coalescing queue's dead-letter queue, nil
// without coalescing.
func batchDeadLetters(p *pipeline.Pipeline) awssqs.IQueue {
	if p.Coalescer == nil {
		return nil
	}
	return p.Coalescer.DeadLetterQueue
}

// syncMachine is the sync's state machine, nil without a sync.
func syncMachine(s *pipeline.Sync) awsstepfunctions.IStateMachine {
	if s == nil {
		return nil
	}
	return s.StateMachine
}

// retainFunctionLogs gives every Lambda function in the stack (CDK's
// bucket-notifications handler) a log group with the configured retention;
// Lambda would otherwise create /aws/lambda/NAME on first run, kept forever.
func retainFunctionLogs(stack awscdk.Stack, retention awslogs.RetentionDays, removal awscdk.RemovalPolicy) {
	for _, node := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		fn, ok := node.(awscdk.CfnResource)
		if !ok || *fn.CfnResourceType() != "AWS::Lambda::Function" {
			continue
		}
		logs := awslogs.NewLogGroup(stack, jsii.String(*fn.Node().Scope().Node().Id()+"Logs"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: removal,
		})
		fn.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), logs.LogGroupName())
	}
}

// target maps deliverTo and routePrefix to the pipeline's target.
func target(cfg config.Config) pipeline.Target {
	if cfg.RoutePrefix != "" {
		return pipeline.Target{Kind: pipeline.TargetRouted, RoutePrefix: cfg.RoutePrefix}
	}
	return cfg.DeliverTo
}

func taskImage(cfg config.Config, dir string) awsecs.ContainerImage {
	if cfg.TaskImage != "" {
		return awsecs.ContainerImage_FromRegistry(jsii.String(cfg.TaskImage), nil)
	}
	return awsecs.ContainerImage_FromAsset(jsii.String(dir), &awsecs.AssetImageProps{
		Platform: awsecrassets.Platform_LINUX_ARM64(),
	})
}

func removalPolicy(p config.RemovalPolicy) awscdk.RemovalPolicy {
	if p == config.Destroy {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// retentionByDays maps config.RetentionDays (same order) to CDK's enum.
var retentionByDays = func() map[int]awslogs.RetentionDays {
	enum := []awslogs.RetentionDays{
		awslogs.RetentionDays_ONE_DAY, awslogs.RetentionDays_THREE_DAYS, awslogs.RetentionDays_FIVE_DAYS,
		awslogs.RetentionDays_ONE_WEEK, awslogs.RetentionDays_TWO_WEEKS, awslogs.RetentionDays_ONE_MONTH,
		awslogs.RetentionDays_TWO_MONTHS, awslogs.RetentionDays_THREE_MONTHS, awslogs.RetentionDays_FOUR_MONTHS,
		awslogs.RetentionDays_FIVE_MONTHS, awslogs.RetentionDays_SIX_MONTHS, awslogs.RetentionDays_ONE_YEAR,
		awslogs.RetentionDays_THIRTEEN_MONTHS, awslogs.RetentionDays_EIGHTEEN_MONTHS, awslogs.RetentionDays_TWO_YEARS,
		awslogs.RetentionDays_THREE_YEARS, awslogs.RetentionDays_FIVE_YEARS, awslogs.RetentionDays_SIX_YEARS,
		awslogs.RetentionDays_SEVEN_YEARS, awslogs.RetentionDays_EIGHT_YEARS, awslogs.RetentionDays_NINE_YEARS,
		awslogs.RetentionDays_TEN_YEARS,
	}
	m := make(map[int]awslogs.RetentionDays, len(enum))
	for i, days := range config.RetentionDays {
		m[days] = enum[i]
	}
	return m
}()

// logRetention converts validated days; config.Validate guarantees a hit.
func logRetention(days int) awslogs.RetentionDays { return retentionByDays[days] }
