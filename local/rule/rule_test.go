package rule

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/bucket"
)

func sampleObject(key string) bucket.Notification {
	return bucket.Notification{
		Bucket: "edge-drop-uploads", Key: key, ETag: `"b1946ac92492d2347c6235b4d2611184"`,
		Sequencer: "00617F08299329D189", RequestID: "N4N7GDK58NMKJ12R", SourceIP: "127.0.0.1",
		Reason: "PutObject", Size: 5, Time: time.Date(2026, 11, 29, 19, 0, 1, 999_000_000, time.FixedZone("X", 3600)),
	}
}

func TestEventShape(t *testing.T) {
	e := NewEvent(sampleObject("demo/red flower.jpg"), "123456789012", "eu-west-1")
	var got map[string]any
	if err := json.Unmarshal(e.JSON(), &got); err != nil {
		t.Fatal(err)
	}
	id, _ := got["id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("id %q is not a v4 UUID", id)
	}
	got["id"] = "ID"
	want := map[string]any{
		"version": "0", "id": "ID", "detail-type": "Object Created", "source": "aws.s3",
		"account": "123456789012", "time": "2026-11-29T18:00:01Z", "region": "eu-west-1",
		"resources": []any{"arn:aws:s3:::edge-drop-uploads"},
		"detail": map[string]any{
			"version": "0",
			"bucket":  map[string]any{"name": "edge-drop-uploads"},
			"object": map[string]any{
				"key": "demo/red+flower.jpg", "size": float64(5),
				"etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189",
			},
			"request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
			"source-ip-address": "127.0.0.1", "reason": "PutObject",
		},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("event\n got %s\nwant %s", gj, wj)
	}
	if e2 := NewEvent(sampleObject("k"), "1", "r"); e2.ID == e.ID {
		t.Fatal("two events share an id")
	}
	if strings.Contains(string(e.JSON()), "\n") || strings.Contains(string(NewEvent(sampleObject("a&b<c>"), "1", "r").JSON()), `\u00`) {
		t.Fatal("JSON is not compact / HTML-escaped")
	}
}

// The shape of S3's "Object Deleted" example in the EventBridge event
// message structure docs: no object size, a deletion-type.
func TestDeletedEventShape(t *testing.T) {
	o := sampleObject("demo/red flower.jpg")
	o.Deleted, o.Reason = true, bucket.ReasonDeleteObject
	var got map[string]any
	if err := json.Unmarshal(NewEvent(o, "123456789012", "eu-west-1").JSON(), &got); err != nil {
		t.Fatal(err)
	}
	got["id"] = "ID"
	want := map[string]any{
		"version": "0", "id": "ID", "detail-type": "Object Deleted", "source": "aws.s3",
		"account": "123456789012", "time": "2026-11-29T18:00:01Z", "region": "eu-west-1",
		"resources": []any{"arn:aws:s3:::edge-drop-uploads"},
		"detail": map[string]any{
			"version": "0",
			"bucket":  map[string]any{"name": "edge-drop-uploads"},
			"object": map[string]any{
				"key": "demo/red+flower.jpg", "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189",
			},
			"request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
			"source-ip-address": "127.0.0.1", "reason": "DeleteObject", "deletion-type": "Permanently Deleted",
		},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("event\n got %s\nwant %s", gj, wj)
	}
}

// The pipeline rule with mirrorDeletes matches both detail-types; without,
// a deletion must not start a delivery.
func TestMatchDeleted(t *testing.T) {
	deleted := sampleObject("demo/a.txt")
	deleted.Deleted, deleted.Reason = true, bucket.ReasonDeleteObject
	both := `{"source":["aws.s3"],"detail-type":["Object Created","Object Deleted"],"detail":{"bucket":{"name":["edge-drop-uploads"]},"object":{"key":[{"prefix":"demo/"}]}}}`
	createdOnly := `{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["edge-drop-uploads"]}}}`
	deletionTypes := `{"detail-type":["Object Deleted"],"detail":{"deletion-type":["Permanently Deleted","Delete Marker Created"]}}`
	sized := `{"detail":{"object":{"size":[{"exists":true}]}}}`
	for _, c := range []struct {
		pattern string
		o       bucket.Notification
		want    bool
	}{
		{both, deleted, true}, {both, sampleObject("demo/a.txt"), true}, {createdOnly, deleted, false},
		{deletionTypes, deleted, true}, {deletionTypes, sampleObject("k"), false}, {sized, deleted, false}, {sized, sampleObject("k"), true},
	} {
		r, err := Compile("R", []byte(c.pattern))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r.Matches(NewEvent(c.o, "1", "r").JSON()); err != nil || got != c.want {
			t.Errorf("pattern %s, deleted=%v: match=%v (%v), want %v", c.pattern, c.o.Deleted, got, err, c.want)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	for _, raw := range []string{"red flower.jpg", "this im + age blah.txt", "a/b/c.txt", "100%.txt", "日本.txt", "copy (1).txt", "tilde~q?h#"} {
		if back, err := DecodeKey(contract.EventKey(raw)); err != nil || back != raw {
			t.Errorf("DecodeKey(EventKey(%q)) = %q, %v", raw, back, err)
		}
	}
	if _, err := DecodeKey("bad%2"); err == nil {
		t.Error("DecodeKey accepted a truncated escape")
	}
}

func TestMatch(t *testing.T) {
	ev := func(key string) []byte {
		return NewEvent(sampleObject(key), "123456789012", "eu-west-1").JSON()
	}
	base := `"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["edge-drop-uploads"]}`
	withKey := func(k string) string { return `{` + base + `,"object":{"key":[` + k + `]}}}` }
	cases := []struct {
		name, pattern, key string
		want               bool
	}{
		{"cdk bucket only", `{` + base + `}}`, "anything", true},
		{"wrong bucket", `{"source":["aws.s3"],"detail":{"bucket":{"name":["other"]}}}`, "k", false},
		{"wrong source", `{"source":["aws.ec2"]}`, "k", false},
		{"detail-type list", `{"detail-type":["Object Deleted","Object Created"]}`, "k", true},
		{"prefix match", withKey(`{"prefix":"demo"}`), "demo/a.txt", true},
		{"prefix no match", withKey(`{"prefix":"demo"}`), "other/demo.txt", false},
		{"prefix on encoded key", withKey(`{"prefix":"in+dir/"}`), "in dir/x", true},
		{"suffix match", withKey(`{"suffix":".txt"}`), "demo/a.txt", true},
		{"suffix no match", withKey(`{"suffix":".txt"}`), "demo/a.txt.gz", false},
		{"suffix exact whole", withKey(`{"suffix":".txt"}`), ".txt", true},
		{"suffix with star literal", withKey(`{"suffix":"*.txt"}`), "a*.txt", true},
		{"suffix star is literal", withKey(`{"suffix":"*.txt"}`), "ab.txt", false},
		{"suffix with backslash", withKey(`{"suffix":"\\x"}`), `a\x`, false}, // key is URL-encoded: '\' → %5C
		{"suffix encoded backslash", withKey(`{"suffix":"%5Cx"}`), `a\x`, true},
		{"suffix empty", withKey(`{"suffix":""}`), "a", true},
		{"suffix or prefix", withKey(`{"suffix":".jpg"},{"prefix":"demo/"}`), "demo/a.txt", true},
		{"suffix or exact", withKey(`{"suffix":".jpg"},"b.txt"`), "b.txt", true},
		{"suffix or exact none", withKey(`{"suffix":".jpg"},"b.txt"`), "c.txt", false},
		{"wildcard match", withKey(`{"wildcard":"demo*.txt"}`), "demo/x/y.txt", true},
		{"wildcard no match", withKey(`{"wildcard":"demo*.txt"}`), "demo/x.bin", false},
		{"exact key", withKey(`"demo/red+flower.jpg"`), "demo/red flower.jpg", true},
		{"exact raw key does not match", withKey(`"demo/red flower.jpg"`), "demo/red flower.jpg", false},
		{"anything-but string", withKey(`{"anything-but":"skip.txt"}`), "keep.txt", true},
		{"anything-but string hit", withKey(`{"anything-but":"skip.txt"}`), "skip.txt", false},
		{"anything-but list", withKey(`{"anything-but":["a","b"]}`), "b", false},
		{"exists true", `{"detail":{"object":{"etag":[{"exists":true}]}}}`, "k", true},
		{"exists false", `{"detail":{"object":{"version-id":[{"exists":false}]}}}`, "k", true},
		{"exists false hit", `{"detail":{"object":{"etag":[{"exists":false}]}}}`, "k", false},
		{"equals-ignore-case", `{"detail":{"reason":[{"equals-ignore-case":"putobject"}]}}`, "k", true},
		{"number exact", `{"detail":{"object":{"size":[5]}}}`, "k", true},
		{"number exact no", `{"detail":{"object":{"size":[6]}}}`, "k", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compile("R1", []byte(c.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", c.pattern, err)
			}
			got, err := r.Matches(ev(c.key))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("pattern %s, key %q: match=%v, want %v", c.pattern, c.key, got, c.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	unsupported := []struct{ pattern, op, path string }{
		{`{"detail":{"object":{"size":[{"numeric":[">",0]}]}}}`, "numeric", "detail.object.size"},
		{`{"detail":{"source-ip-address":[{"cidr":"10.0.0.0/8"}]}}`, "cidr", "detail.source-ip-address"},
		{`{"$or":[{"source":["aws.s3"]},{"source":["aws.ec2"]}]}`, "$or", "(top level)"},
		{`{"detail":{"$or":[{"a":["b"]}]}}`, "$or", "detail"},
		{`{"detail":{"object":{"key":[{"anything-but":{"prefix":"tmp/"}}]}}}`, "anything-but/prefix", "detail.object.key"},
		{`{"detail":{"object":{"key":[{"anything-but":{"suffix":".tmp"}}]}}}`, "anything-but/suffix", "detail.object.key"},
		{`{"detail":{"object":{"size":[{"anything-but":[0,1]}]}}}`, "anything-but (non-string values)", "detail.object.size"},
		{`{"detail":{"object":{"key":[{"suffix":{"equals-ignore-case":".PNG"}}]}}}`, "suffix/equals-ignore-case", "detail.object.key"},
		{`{"detail":{"object":{"key":[{"prefix":{"equals-ignore-case":"Demo"}}]}}}`, "prefix/equals-ignore-case", "detail.object.key"},
	}
	for _, c := range unsupported {
		_, err := Compile("UploadRule", []byte(c.pattern))
		var ue *UnsupportedOperatorError
		if !errors.As(err, &ue) || ue.Operator != c.op || ue.Path != c.path || ue.Rule != "UploadRule" {
			t.Errorf("Compile(%s): err = %v, want unsupported %q at %s", c.pattern, err, c.op, c.path)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, `"UploadRule"`) || !strings.Contains(msg, `"`+c.op+`"`) {
			t.Errorf("error is not one line naming rule and operator: %s", msg)
		}
	}
	invalid := []string{
		``, `not json`, `[]`, `{}`, `{"source":"aws.s3"}`, `{"source":[]}`, `{"source":[["a"]]}`,
		`{"source":[{"prefix":"a","suffix":"b"}]}`, `{"source":[{"shellstyle":"a*"}]}`, `{"source":[{"bogus":1}]}`,
		`{"source":[{"exists":"yes"}]}`, `{"source":[{"prefix":1}]}`, `{"a":["b"]} {"c":["d"]}`, `{"detail":{}}`,
		`{"source":[{"wildcard":"a\\b"}]}`, `{"source":[{"exists":true},"x"]}`,
	}
	for _, p := range invalid {
		_, err := Compile("R", []byte(p))
		if err == nil {
			t.Errorf("Compile(%s) succeeded", p)
			continue
		}
		var ue *UnsupportedOperatorError
		if errors.As(err, &ue) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), `rule "R": `) {
			t.Errorf("Compile(%s): %v", p, err)
		}
	}
}

func TestMatchesBadEventAndConcurrency(t *testing.T) {
	r, err := Compile("R", []byte(`{"source":["aws.s3"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Matches([]byte(`{not json`)); err == nil {
		t.Error("Matches accepted invalid JSON")
	}
	if string(r.Pattern) != `{"source":["aws.s3"]}` || r.Name != "R" {
		t.Errorf("rule = %s %s", r.Name, r.Pattern)
	}
	ev := NewEvent(sampleObject("k"), "1", "r").JSON()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if ok, err := r.Matches(ev); !ok || err != nil {
					t.Errorf("concurrent match: %v %v", ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
