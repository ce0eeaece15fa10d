package contract

// The S3 event types (EventBridge detail-type) the pipeline's rule matches.
// An Object Deleted event's deletion-type is "Permanently Deleted" (an
// unversioned object, or a version deleted for good) or "Delete Marker
// Created" (a versioned object hidden by a delete marker); both mean
// GetObject of the key no longer answers, so both remove the board's copy.
// Its detail has no size and no etag.
const (
	DetailObjectCreated = "Object Created"
	DetailObjectDeleted = "Object Deleted"
)
