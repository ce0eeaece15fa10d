package s3conn

import "testing"

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
