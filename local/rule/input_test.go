package rule

import (
	"encoding/json"
	"strings"
	"testing"
)

const testEvent = `{"version":"0","id":"ID","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-29T18:00:01Z","region":"eu-west-1","resources":["arn:aws:s3:::b"],"detail":{"version":"0","bucket":{"name":"b"},"object":{"key":"dir/say+%22hi%22+%5C+%3Cok%3E.txt","size":5,"etag":"e","sequencer":"01"},"request-id":"R","requester":"123456789012","source-ip-address":"127.0.0.1","reason":"PutObject","odd":"quote \" back \\ tab \t","list":[{"n":1},{"n":2}]}}`

func TestTargetInputDefaultAndConstant(t *testing.T) {
	got, err := TargetInput([]byte(testEvent), "", "", nil)
	if err != nil || string(got) != testEvent {
		t.Fatalf("default: %s %v", got, err)
	}
	got, err = TargetInput([]byte(testEvent), `{"fixed": [1, 2]}`, "", nil)
	if err != nil || string(got) != `{"fixed": [1, 2]}` {
		t.Fatalf("Input: %s %v", got, err)
	}
	if _, err := TargetInput([]byte(testEvent), `{bad`, "", nil); err == nil {
		t.Fatal("invalid constant Input accepted")
	}
	if _, err := TargetInput([]byte(testEvent), `{}`, "$.detail", nil); err == nil {
		t.Fatal("Input and InputPath together accepted")
	}
	if _, err := TargetInput([]byte(testEvent), "", "$.detail", &InputTransformer{}); err == nil {
		t.Fatal("InputPath and InputTransformer together accepted")
	}
}

func TestTargetInputPath(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"$", testEvent},
		{"$.detail.bucket", `{"name":"b"}`},
		{"$.detail-type", `"Object Created"`},
		{"$.detail.object.size", `5`},
		{"$.detail['request-id']", `"R"`},
		{`$["detail"]["bucket"]["name"]`, `"b"`},
		{"$.resources[0]", `"arn:aws:s3:::b"`},
		{"$.detail.list[1].n", `2`},
	} {
		got, err := TargetInput([]byte(testEvent), "", c.path, nil)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if c.path == "$" {
			if !jsonEqual(t, got, []byte(c.want)) {
				t.Errorf("%s = %s", c.path, got)
			}
		} else if string(got) != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	for _, bad := range []string{"detail", "$.missing", "$.resources[5]", "$..key", "$.list[*]", "$.detail[?(@.x)]", "$.a[", "$x"} {
		if got, err := TargetInput([]byte(testEvent), "", bad, nil); err == nil {
			t.Errorf("InputPath %s accepted: %s", bad, got)
		}
	}
	if _, err := TargetInput([]byte(`not json`), "", "$", nil); err == nil {
		t.Error("invalid event accepted")
	}
}

func TestTargetInputTransformer(t *testing.T) {
	paths := map[string]string{
		"bucket": "$.detail.bucket.name",
		"key":    "$.detail.object.key",
		"size":   "$.detail.object.size",
		"obj":    "$.detail.bucket",
		"odd":    "$.detail.odd",
		"none":   "$.detail.nope",
	}
	cases := []struct{ name, tpl, want string }{
		{"json with quoted placeholders", `{"bucket": "<bucket>", "key": "<key>"}`,
			`{"bucket": "b", "key": "dir/say+%22hi%22+%5C+%3Cok%3E.txt"}`},
		{"unquoted string gets quotes", `{"bucket": <bucket>, "size": <size>, "obj": <obj>}`,
			`{"bucket": "b", "size": 5, "obj": {"name":"b"}}`},
		{"special characters escaped inside string", `{"odd": "x <odd> y"}`,
			`{"odd": "x quote \" back \\ tab \t y"}`},
		{"special characters unquoted", `{"odd": <odd>}`,
			`{"odd": "quote \" back \\ tab \t"}`},
		{"number and object inside string", `{"s": "<size> bytes in <obj>"}`,
			`{"s": "5 bytes in {\"name\":\"b\"}"}`},
		{"string template", `"s3://<bucket>/<key>"`, `"s3://b/dir/say+%22hi%22+%5C+%3Cok%3E.txt"`},
		{"missing path", `{"a": <none>, "b": "[<none>]"}`, `{"a": null, "b": "[]"}`},
		{"unknown placeholder kept", `{"a": "<unknown>", "b": "<b>"}`, `{"a": "<unknown>", "b": "<b>"}`},
		{"escaped quote keeps string state", `{"a": "x\" <size>"}`, `{"a": "x\" 5"}`},
		{"predefined", `{"rule": "<aws.events.rule-name>", "t": <aws.events.event.ingestion-time>, "id": <aws.events.event>}`, ``},
	}
	for _, c := range cases {
		tr := &InputTransformer{InputPathsMap: paths, InputTemplate: c.tpl, RuleName: "UploadRule"}
		got, err := TargetInput([]byte(testEvent), "", "", tr)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.name == "predefined" {
			var v struct {
				Rule string          `json:"rule"`
				T    string          `json:"t"`
				ID   json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(got, &v); err != nil || v.Rule != "UploadRule" || v.T != "2026-11-29T18:00:01Z" || !jsonEqual(t, v.ID, []byte(testEvent)) {
				t.Errorf("predefined: %s (%v)", got, err)
			}
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if strings.HasPrefix(c.want, "{") && !json.Valid(got) {
			t.Errorf("%s: output is not JSON: %s", c.name, got)
		}
	}
	if _, err := TargetInput([]byte(testEvent), "", "", &InputTransformer{InputPathsMap: map[string]string{"aws.x": "$"}, InputTemplate: "{}"}); err == nil {
		t.Error("reserved name accepted")
	}
	if _, err := TargetInput([]byte(testEvent), "", "", &InputTransformer{InputPathsMap: map[string]string{"x": "bad"}, InputTemplate: "{}"}); err == nil {
		t.Error("bad path accepted")
	}
}

// The whole chain the demo runs: S3 notification → event → rule → input.
func TestEventToTargetInput(t *testing.T) {
	ev := NewEvent(sampleObject("demo/red flower.jpg"), "123456789012", "eu-west-1").JSON()
	r, err := Compile("Rule", []byte(`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["edge-drop-uploads"]},"object":{"key":[{"suffix":".jpg"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Matches(ev); !ok || err != nil {
		t.Fatalf("match: %v %v", ok, err)
	}
	in, err := TargetInput(ev, "", "", &InputTransformer{
		InputPathsMap: map[string]string{"b": "$.detail.bucket.name", "k": "$.detail.object.key"},
		InputTemplate: `{"bucket":<b>,"key":<k>}`,
	})
	if err != nil || string(in) != `{"bucket":"edge-drop-uploads","key":"demo/red+flower.jpg"}` {
		t.Fatalf("input: %s %v", in, err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
