// Package rule reproduces, for the local demo, the EventBridge side of the
// cloud pipeline: the "Object Created" and "Object Deleted" events S3 sends to EventBridge, the
// matching of rule event patterns against it (Tim Bray's quamina, the Go
// implementation of EventBridge patterns), and the input a rule target
// receives (Input / InputPath / InputTransformer).
package rule

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/bucket"
)

// Event is an EventBridge event as S3 sends it for "Object Created" or
// "Object Deleted". The JSON field names are exactly EventBridge's.
type Event struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     Detail   `json:"detail"`
}

// Detail is the "detail" member of an S3 Object Created or Object Deleted
// event. DeletionType is only in Object Deleted events.
type Detail struct {
	Version         string       `json:"version"`
	Bucket          DetailBucket `json:"bucket"`
	Object          DetailObject `json:"object"`
	RequestID       string       `json:"request-id"`
	Requester       string       `json:"requester"`
	SourceIPAddress string       `json:"source-ip-address"`
	Reason          string       `json:"reason"`
	DeletionType    string       `json:"deletion-type,omitempty"`
}

// DetailBucket is detail.bucket.
type DetailBucket struct {
	Name string `json:"name"`
}

// DetailObject is detail.object. Key is URL-encoded as S3 encodes it (see
// contract.EventKey); VersionID is only present for versioned buckets.
// Size is absent from Object Deleted events (nil).
type DetailObject struct {
	Key       string `json:"key"`
	Size      *int64 `json:"size,omitempty"`
	ETag      string `json:"etag"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer"`
}

// Constants of the S3 Object Created and Object Deleted events. The local
// bucket is unversioned, so every deletion is permanent.
const (
	SourceS3                       = "aws.s3"
	DetailTypeObjectCreated        = "Object Created"
	DetailTypeObjectDeleted        = "Object Deleted"
	DeletionTypePermanentlyDeleted = "Permanently Deleted"
)

// NewEvent builds the EventBridge event S3 emits for o: Object Created, or
// Object Deleted (no size; deletion-type) for a deletion. The requester is
// the account (the demo's uploader acts as the bucket owner).
func NewEvent(o bucket.Notification, account, region string) Event {
	e := Event{
		Version:    "0",
		ID:         newUUID(),
		DetailType: DetailTypeObjectCreated,
		Source:     SourceS3,
		Account:    account,
		Time:       o.Time.UTC().Format("2006-01-02T15:04:05Z"),
		Region:     region,
		Resources:  []string{"arn:aws:s3:::" + o.Bucket},
		Detail: Detail{
			Version: "0",
			Bucket:  DetailBucket{Name: o.Bucket},
			Object: DetailObject{
				Key:       contract.EventKey(o.Key),
				Size:      &o.Size,
				ETag:      strings.Trim(o.ETag, `"`),
				Sequencer: o.Sequencer,
			},
			RequestID:       o.RequestID,
			Requester:       account,
			SourceIPAddress: o.SourceIP,
			Reason:          o.Reason,
		},
	}
	if o.Deleted {
		e.DetailType = DetailTypeObjectDeleted
		e.Detail.Object.Size = nil
		e.Detail.DeletionType = DeletionTypePermanentlyDeleted
	}
	return e
}

// JSON is the event as EventBridge delivers it (compact; '<', '>' and '&'
// are not \u-escaped, as AWS does not escape them).
func (e Event) JSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		panic(err) // only strings and ints: cannot fail
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// DecodeKey reverses contract.EventKey (what a consumer of the event must do before
// calling S3 with the key).
func DecodeKey(encoded string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(encoded); i++ {
		switch c := encoded[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(encoded) || !isHex(encoded[i+1]) || !isHex(encoded[i+2]) {
				return "", fmt.Errorf("invalid %%-escape at byte %d of %q", i, encoded)
			}
			b.WriteByte(unhex(encoded[i+1])<<4 | unhex(encoded[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand panics instead)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// DetailTypeScheduledEvent is the detail-type of a scheduled rule's event.
const DetailTypeScheduledEvent = "Scheduled Event"

// NewScheduledEvent builds the event a scheduled rule sends its targets
// (source aws.events, the rule's ARN as the resource, detail {}).
func NewScheduledEvent(ruleARN, account, region string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": newUUID(), "detail-type": DetailTypeScheduledEvent, "source": "aws.events",
		"account": account, "time": at.UTC().Format("2006-01-02T15:04:05Z"), "region": region,
		"resources": []string{ruleARN}, "detail": map[string]any{},
	})
	return b
}
