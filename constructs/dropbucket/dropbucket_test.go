package dropbucket_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/constructs/dropbucket"
	"github.com/edge-drop/edge-drop/internal/cdktest"
)

var (
	like   = assertions.Match_ObjectLike
	with   = assertions.Match_ArrayWith
	absent = assertions.Match_Absent
)

func TestCreatedBucketIsLockedDownAndSendsEventsNatively(t *testing.T) {
	// GIVEN a bare stack WHEN the construct creates the bucket
	stack := cdktest.Stack(t)
	d, err := dropbucket.New(stack, "Drop", dropbucket.Props{})
	if err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Template(t, stack)
	logs := logicalIDOf(stack, d.AccessLogs)

	// THEN two buckets: the drop bucket and its access-log bucket
	tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(2))
	// AND the drop bucket sends events to EventBridge through its own
	// NotificationConfiguration: no custom resource, no Lambda
	cdktest.Check(t, "drop bucket", func() {
		tpl.HasResource(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
			"Properties": like(&map[string]any{
				"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
					map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"OwnershipControls":       map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
				"LoggingConfiguration":    map[string]any{"DestinationBucketName": map[string]any{"Ref": logs}, "LogFilePrefix": "drop-bucket/"},
				"LifecycleConfiguration": map[string]any{"Rules": with(&[]any{like(&map[string]any{
					"Id": "expire-old-versions", "Status": "Enabled",
					"NoncurrentVersionExpiration":    map[string]any{"NoncurrentDays": 30},
					"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7},
				})})},
				"BucketName": absent(),
			}),
		})
	})
	tpl.ResourceCountIs(jsii.String("Custom::S3BucketNotifications"), jsii.Number(0))
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(0))

	// AND the access-log bucket is private, encrypted, expires its logs
	// and has no notifications of its own
	cdktest.Check(t, "access-log bucket", func() {
		tpl.HasResource(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": like(&map[string]any{
				"PublicAccessBlockConfiguration": like(&map[string]any{"BlockPublicPolicy": true, "RestrictPublicBuckets": true}),
				"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
					"Id": "expire-access-logs", "Status": "Enabled", "ExpirationInDays": 365}}},
				"NotificationConfiguration": absent(),
				"LoggingConfiguration":      absent(),
			}),
		})
	})

	// AND the drop bucket's policy refuses plain HTTP and TLS below 1.2
	cdktest.Check(t, "TLS-only policy", func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &map[string]any{
			"Bucket": map[string]any{"Ref": logicalIDOf(stack, d.Bucket)},
			"PolicyDocument": like(&map[string]any{"Statement": with(&[]any{
				like(&map[string]any{"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
				like(&map[string]any{"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"NumericLessThan": map[string]any{"s3:TlsVersion": 1.2}}}),
			})}),
		})
	})
	cdktest.NagClean(t, stack)
}

func TestBucketPropsNameTheBucketAndSetTheRemovalPolicy(t *testing.T) {
	stack := cdktest.Stack(t)
	_, err := dropbucket.New(stack, "Drop", dropbucket.Props{BucketProps: &dropbucket.BucketProps{
		BucketName: "edge-drop-landing", RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	}})
	if err != nil {
		t.Fatal(err)
	}
	tpl := cdktest.Template(t, stack)
	cdktest.Check(t, "named bucket", func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), like(&map[string]any{"BucketName": "edge-drop-landing"}))
	})
	// Both buckets go with the stack.
	cdktest.Check(t, "removal", func() {
		tpl.AllResources(jsii.String("AWS::S3::Bucket"), like(&map[string]any{"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}))
	})
}

func TestExistingBucketGetsEventBridgeThroughCDKsCustomResource(t *testing.T) {
	// GIVEN a bucket the stack does not own
	stack := cdktest.Stack(t)
	existing := awss3.Bucket_FromBucketName(stack, jsii.String("Existing"), jsii.String("existing-landing-bucket"))
	d, err := dropbucket.New(stack, "Drop", dropbucket.Props{ExistingBucketObj: existing})
	if err != nil {
		t.Fatal(err)
	}
	// THEN it is used as is: no bucket, no access-log bucket
	if d.Bucket != existing || d.AccessLogs != nil {
		t.Errorf("want the given bucket and no access-log bucket, got %v, %v", d.Bucket, d.AccessLogs)
	}
	tpl := cdktest.Template(t, stack)
	tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0))
	// AND EventBridge is turned on without dropping the bucket's other
	// notifications (Managed false merges with what is there)
	cdktest.Check(t, "notifications", func() {
		tpl.HasResourceProperties(jsii.String("Custom::S3BucketNotifications"), &map[string]any{
			"ServiceToken":              assertions.Match_AnyValue(),
			"BucketName":                "existing-landing-bucket",
			"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{}},
			"Managed":                   false,
		})
	})
	// AND CDK's handler's findings are suppressed with reasons
	cdktest.NagClean(t, stack)
}

func TestExistingBucketAndBucketPropsIsAnError(t *testing.T) {
	stack := cdktest.Stack(t)
	existing := awss3.Bucket_FromBucketName(stack, jsii.String("Existing"), jsii.String("existing-landing-bucket"))
	d, err := dropbucket.New(stack, "Drop", dropbucket.Props{
		ExistingBucketObj: existing,
		BucketProps:       &dropbucket.BucketProps{BucketName: "new-bucket"},
	})
	if !errors.Is(err, dropbucket.ErrBothBuckets) || d != nil {
		t.Fatalf("want ErrBothBuckets and no construct, got %v, %v", d, err)
	}
	// Nothing was added to the stack.
	if stack.Node().TryFindChild(jsii.String("Drop")) != nil {
		t.Error("a rejected construct must not leave a node behind")
	}
}

// logicalIDOf is the logical ID of a bucket created in stack.
func logicalIDOf(stack awscdk.Stack, b awss3.IBucket) string {
	return *stack.GetLogicalId(b.Node().DefaultChild().(awscdk.CfnElement))
}
