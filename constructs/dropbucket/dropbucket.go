// Package dropbucket is where the data flow starts: the S3 bucket users upload
// to, created with secure defaults or imported by name, with EventBridge
// notifications turned on either way.
package dropbucket

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Props configures the bucket: set ExistingBucketName to import one,
// otherwise a new bucket is created (named BucketName, or by CloudFormation
// when that is empty).
type Props struct {
	BucketName         string
	ExistingBucketName string
	// RemovalPolicy applies to the created bucket and its access-log bucket.
	RemovalPolicy awscdk.RemovalPolicy
}

// DropBucket exposes what it made or imported.
type DropBucket struct {
	constructs.Construct
	Bucket awss3.IBucket
	// AccessLogs receives the server access logs of a created bucket; nil
	// when the bucket is imported (its owner decides about logging).
	AccessLogs awss3.Bucket
	Imported   bool
}

// New creates or imports the bucket.
func New(scope constructs.Construct, id string, props Props) *DropBucket {
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &DropBucket{Construct: c}

	if props.ExistingBucketName != "" {
		d.Imported = true
		d.Bucket = awss3.Bucket_FromBucketName(c, jsii.String("Imported"), jsii.String(props.ExistingBucketName))
		// Turns on "Send notifications to EventBridge" through CDK's
		// notifications custom resource; existing notification settings
		// of the bucket are kept.
		d.Bucket.EnableEventBridgeNotification()
		suppressNotificationsHandler(c)
		return d
	}

	d.AccessLogs = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     props.RemovalPolicy,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})

	var name *string
	if props.BucketName != "" {
		name = jsii.String(props.BucketName)
	}
	d.Bucket = awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:             name,
		EventBridgeEnabled:     jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          props.RemovalPolicy,
		ServerAccessLogsBucket: d.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("drop-bucket/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-old-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	})
	suppressNotificationsHandler(c)
	return d
}

// notificationsHandlerID is the id CDK gives its stack-wide singleton Lambda
// that writes bucket notification settings (EventBridgeEnabled uses it).
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
