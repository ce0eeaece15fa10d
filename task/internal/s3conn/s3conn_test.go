package s3conn

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestUsePathStyle(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"AWS_S3_USE_PATH_STYLE": "true"}, true},
		{map[string]string{"AWS_S3_USE_PATH_STYLE": "false", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, false},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://[::1]:9000"}, true},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://localhost:9000"}, true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://10.0.0.5"}, true},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "https://s3.eu-west-1.amazonaws.com"}, false},
	}
	for _, c := range cases {
		if got := UsePathStyle(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: got %v want %v", c.env, got, c.want)
		}
	}
}

// The SDK's own warnings go to the task's JSON log, not to stderr, where a
// failure must be exactly one line.
func TestSDKWarningsGoToTheLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c, err := New(context.Background(), Options{Logger: log, Endpoint: "http://127.0.0.1:1"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c.Options().Logger.Logf(logging.Warn, "falling back to IMDSv%d", 1)
	var rec struct{ Level, Msg, Message string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", buf.String(), err)
	}
	if rec.Level != "WARN" || rec.Msg != "aws sdk" || rec.Message != "falling back to IMDSv1" {
		t.Errorf("got %+v", rec)
	}
}
