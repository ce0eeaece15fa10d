package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
)

// imported uses an existing bucket and an existing cluster.
var imported = map[string]any{
	config.KeyExistingBucketName:  "existing-landing-bucket",
	config.KeyExistingClusterName: "existing-edge-cluster",
	config.KeyTaskImage:           "public.ecr.aws/example/edge-drop:1.2.3",
}

func TestImportedBucketAndCluster(t *testing.T) {
	// GIVEN an existing bucket and cluster WHEN synthesized
	app := synthCached(t, "imported", imported)
	// THEN no cluster stack is made and the pipeline creates neither
	if app.Cluster != nil {
		t.Fatal("an imported cluster must not create the cluster stack")
	}
	tpl := assertions.Template_FromStack(app.Pipeline.Stack, nil)
	tpl.ResourceCountIs(strPtr("AWS::S3::Bucket"), num(0))
	tpl.ResourceCountIs(strPtr("AWS::ECS::Cluster"), num(0))
	// EventBridge notifications are turned on for the existing bucket.
	_, notif := only(t, tpl, "Custom::S3BucketNotifications")
	equalJSON(t, "bucket", notif["BucketName"], "existing-landing-bucket")
	equalJSON(t, "eventbridge", notif["NotificationConfiguration"], map[string]any{"EventBridgeConfiguration": map[string]any{}})
	equalJSON(t, "managed", notif["Managed"], false)

	_, rule := onlyOf(t, tpl, "AWS::Events::Rule", "Pipeline")
	equalJSON(t, "pattern bucket", get(t, rule, "EventPattern", "detail", "bucket", "name"), []string{"existing-landing-bucket"})

	def := asl(t, tpl)
	cluster := get(t, def, "States", "DownloadToBoard", "Parameters", "Cluster").(string)
	if !strings.HasSuffix(cluster, ":ecs:${AWS::Region}:${AWS::AccountId}:cluster/existing-edge-cluster") {
		t.Errorf("cluster %q, want the existing cluster's ARN", cluster)
	}
	sts := statementsOf(t, tpl, "DownloadTaskTaskRole")
	if len(sts) != 3 || !strings.HasSuffix(render(t, sts[0]["Resource"]), ":s3:::existing-landing-bucket/demo*") ||
		!strings.HasSuffix(render(t, sts[1]["Resource"]), ":s3:::existing-landing-bucket") || sts[1]["Action"] != "s3:ListBucket" ||
		sts[2]["Action"] != "states:SendTaskSuccess" {
		t.Errorf("task role %s", mustJSON(t, sts))
	}
}
