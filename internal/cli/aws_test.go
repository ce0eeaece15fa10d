package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/internal/cli"
	"github.com/edge-drop/edge-drop/internal/fleettest"
)

// awsEnv isolates the AWS configuration: no files, no metadata service,
// nothing from the machine's environment.
func awsEnv(t *testing.T) string {
	dir := t.TempDir()
	config, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	os.WriteFile(config, nil, 0o600)
	os.WriteFile(creds, nil, 0o600)
	for _, v := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return config
}

// cloudFormation answers DescribeStacks (AWS query protocol) for one
// stack with these outputs.
func cloudFormation(t *testing.T, stack string, outputs map[string]string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("Action") != "DescribeStacks" {
			http.Error(w, "unexpected "+r.Form.Get("Action"), 400)
			return
		}
		if r.Form.Get("StackName") != stack {
			w.WriteHeader(400)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`, r.Form.Get("StackName"))
			return
		}
		var outs strings.Builder
		for k, v := range outputs {
			fmt.Fprintf(&outs, "<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue></member>", k, v)
		}
		fmt.Fprintf(w, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>%s</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-12-01T00:00:00Z</CreationTime><Outputs>%s</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`, stack, outs.String())
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", srv.URL)
}

func runIn(t *testing.T, dir string, args ...string) (string, string, int) {
	return fleettest.Output(func(stdout, stderr io.Writer) int {
		return cli.Run(context.Background(), cli.Env{Stdout: stdout, Stderr: stderr, Dir: dir, Poll: 20 * time.Millisecond}, args)
	})
}

// Without a region, credentials, a profile or the stack, one line names
// the fix, for the environment and for profiles alike.
func TestAWSSetupErrors(t *testing.T) {
	config := awsEnv(t)
	cloudFormation(t, "Shop-Pipeline", map[string]string{"BucketName": "b"})
	dir := t.TempDir()
	check := func(name string, args []string, code int, msg string) {
		t.Helper()
		out, errOut, got := runIn(t, dir, args...)
		if got != code || !strings.Contains(errOut, msg) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line with %q", name, got, errOut, code, msg)
		}
	}
	check("no region", []string{"boards"}, cli.ExitSetup, "no AWS region: set AWS_REGION")
	t.Setenv("AWS_REGION", "eu-west-1")
	check("no credentials", []string{"boards"}, cli.ExitSetup, "no AWS credentials: run aws configure")
	check("no such profile", []string{"boards", "--profile", "shop"}, cli.ExitSetup, `AWS profile "shop" is not in`)

	// A profile with a region and keys: the stack is looked up.
	os.WriteFile(config, []byte("[profile shop]\nregion = eu-central-1\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600)
	os.Unsetenv("AWS_REGION")
	check("default stack", []string{"boards", "--profile", "shop"}, cli.ExitNotFound, "stack EdgeDrop-Pipeline not found in eu-central-1: deploy it (make deploy), or name it with --stack")
	t.Setenv("AWS_PROFILE", "shop")
	os.WriteFile(filepath.Join(dir, "cdk.json"), []byte(`{"app": "go run .", "context": {"stackPrefix": "Shop"}}`), 0o600)
	check("stack from cdk.json, profile from AWS_PROFILE", []string{"boards"}, cli.ExitSetup, "stack Shop-Pipeline has no output ClusterName: deploy this version of edge-drop (make deploy)")
	check("--local with --stack", []string{"--local", "boards", "--stack", "x"}, cli.ExitUsage, "--local talks to the demo")
}
