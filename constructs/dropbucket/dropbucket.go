// Package dropbucket is where the data flow starts: the S3 bucket users upload
// to, either created here with secure defaults or an existing one passed in,
// sending its events to EventBridge either way.
package dropbucket

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Props says which bucket to use (the solutions-constructs way): an existing
// bucket in ExistingBucketObj, or BucketProps to create one. Setting both is
// an error; setting neither creates a bucket with the defaults.
type Props struct {
	ExistingBucketObj awss3.IBucket
	BucketProps       *BucketProps
}

// BucketProps configures a created bucket. Everything that makes it safe
// (no public access, TLS only, encryption, versioning, access logs) is
// fixed, not configurable.
type BucketProps struct {
	// BucketName names the bucket; "" lets CloudFormation pick one.
	BucketName string
	// RemovalPolicy applies to the bucket and its access-log bucket; ""
	// retains them.
	RemovalPolicy awscdk.RemovalPolicy
}

// ErrBothBuckets is returned when Props names an existing bucket and asks
// for a new one.
var ErrBothBuckets = errors.New("dropbucket: set ExistingBucketObj (use that bucket) or BucketProps (create one), not both")

// DropBucket exposes what it made or was given.
type DropBucket struct {
	constructs.Construct
	Bucket awss3.IBucket
	// AccessLogs receives the server access logs of a created bucket; nil
	// for an existing bucket (its owner decides about logging).
	AccessLogs awss3.Bucket
}

// New uses the existing bucket or creates one, and turns on its EventBridge
// notifications.
func New(scope constructs.Construct, id string, props Props) (*DropBucket, error) {
	if props.ExistingBucketObj != nil && props.BucketProps != nil {
		return nil, ErrBothBuckets
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &DropBucket{Construct: c}

	if props.ExistingBucketObj != nil {
		d.Bucket = props.ExistingBucketObj
		// CloudFormation cannot change a bucket it does not own, so this
		// goes through CDK's notifications custom resource, which keeps
		// the bucket's other notification settings.
		d.Bucket.EnableEventBridgeNotification()
		suppressNotificationsHandler(c)
		return d, nil
	}

	bp := props.BucketProps
	if bp == nil {
		bp = &BucketProps{}
	}
	removal := bp.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	d.AccessLogs = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})

	var name *string
	if bp.BucketName != "" {
		name = jsii.String(bp.BucketName)
	}
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:             name,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          removal,
		ServerAccessLogsBucket: d.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("drop-bucket/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-old-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	})
	// The bucket's own NotificationConfiguration, not the L2's
	// EventBridgeEnabled: in CDK 2.270 that deploys a Lambda-backed custom
	// resource (with a Resource * policy) to make the same API call that
	// CloudFormation makes natively for a bucket it owns.
	bucket.Node().DefaultChild().(awss3.CfnBucket).SetNotificationConfiguration(&awss3.CfnBucket_NotificationConfigurationProperty{
		EventBridgeConfiguration: &awss3.CfnBucket_EventBridgeConfigurationProperty{EventBridgeEnabled: jsii.Bool(true)},
	})
	d.Bucket = bucket
	return d, nil
}

// notificationsHandlerID is the id CDK gives its stack-wide singleton Lambda
// that writes bucket notification settings of a bucket CloudFormation does
// not own.
const notificationsHandlerID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

// suppressNotificationsHandler justifies the findings on CDK's own
// notifications handler, which edge-drop does not write and cannot change.
func suppressNotificationsHandler(scope constructs.Construct) {
	handler := awscdk.Stack_Of(scope).Node().TryFindChild(jsii.String(notificationsHandlerID))
	if handler == nil {
		return
	}
	cdknag.NagSuppressions_AddResourceSuppressions(handler, &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM4"),
			Reason:    jsii.String("CDK's bucket-notifications custom resource (runs once per deploy) uses the AWS managed basic execution policy for its own logs."),
			AppliesTo: &[]any{jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("CDK's bucket-notifications custom resource: s3:PutBucketNotification is granted on * by CDK itself."),
			AppliesTo: &[]any{jsii.String("Resource::*")},
		},
	}, jsii.Bool(true))
}
