package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"
)

// KeyFilter narrows the rule's event pattern on the object key; at most one
// field is set. Keys in S3 events are URL-encoded, so filters match the
// encoded form (a space is '+').
type KeyFilter struct {
	Prefix, Suffix, Wildcard string
}

// The S3 event types the rule matches (detail-type). An Object Deleted
// event's deletion-type is "Permanently Deleted" (an unversioned object,
// or a version deleted for good) or "Delete Marker Created" (a versioned
// object hidden by a delete marker); both mean GetObject of the key no
// longer answers, so both remove the board's copy. Its detail has no
// size and no etag.
const (
	DetailTypeCreated = "Object Created"
	DetailTypeDeleted = "Object Deleted"
)

// EventPattern matches "Object Created" events of the bucket (and "Object
// Deleted" ones, of either deletion-type, when deletes are mirrored),
// narrowed by the key filter when one is set.
func EventPattern(bucketName *string, f KeyFilter, deletes bool) *awsevents.EventPattern {
	detail := map[string]any{"bucket": map[string]any{"name": []any{bucketName}}}
	var key map[string]any
	switch {
	case f.Prefix != "":
		key = map[string]any{"prefix": f.Prefix}
	case f.Suffix != "":
		key = map[string]any{"suffix": f.Suffix}
	case f.Wildcard != "":
		key = map[string]any{"wildcard": f.Wildcard}
	}
	if key != nil {
		detail["object"] = map[string]any{"key": []any{key}}
	}
	detailTypes := []string{DetailTypeCreated}
	if deletes {
		detailTypes = append(detailTypes, DetailTypeDeleted)
	}
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.s3"),
		DetailType: jsii.Strings(detailTypes...),
		Detail:     &detail,
	}
}

func ruleDescription(deletes bool) string {
	if deletes {
		return "edge-drop: S3 Object Created in the drop bucket starts a delivery, Object Deleted a delete"
	}
	return "edge-drop: S3 Object Created in the drop bucket starts a delivery"
}

// Target delivery: EventBridge retries a failed StartExecution with backoff
// for up to this long before the event goes to the dead-letter queue.
const (
	targetRetryAttempts    = 185
	targetMaxEventAgeHours = 24
)
