package download_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edge-drop/edge-drop/task/internal/download"
	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
	"github.com/edge-drop/edge-drop/task/internal/s3test"
)

// noCreds fails like the SDK's default chain on a board whose task has no
// role: the last provider, the EC2 metadata service, cannot connect.
type noCreds struct{ calls atomic.Int32 }

func (p *noCreds) Retrieve(ctx context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	return aws.Credentials{}, fmt.Errorf("no EC2 IMDS role found, %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
}

// blockingCreds waits for the request's context (a SIGTERM during the
// credential fetch).
type blockingCreds struct{}

func (blockingCreds) Retrieve(ctx context.Context) (aws.Credentials, error) {
	<-ctx.Done()
	return aws.Credentials{}, ctx.Err()
}

// Real SDK errors (a HEAD through the client s3conn builds) and their
// exit codes; a failing credential chain is not a network error.
func TestClassifySDKErrors(t *testing.T) {
	t.Parallel()
	static := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	cases := []struct {
		name     string
		creds    aws.CredentialsProvider
		endpoint string
		key      string
		rule     s3test.Rule
		cancel   bool
		want     exitcode.Code
		words    []string // the error must say these
	}{
		{name: "no credentials", creds: &noCreds{}, key: "there.txt", want: exitcode.Denied,
			words: []string{"no AWS credentials", "taskRoleArn", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "no EC2 IMDS role found"}},
		{name: "canceled while fetching credentials", creds: blockingCreds{}, key: "there.txt", cancel: true, want: exitcode.Canceled},
		{name: "S3 unreachable", creds: static, endpoint: "http://127.0.0.1:1", key: "there.txt", want: exitcode.Network},
		{name: "403", creds: static, key: "there.txt", want: exitcode.Denied, rule: func(*http.Request, int) *s3test.Fault {
			return &s3test.Fault{Kind: s3test.Status, Status: http.StatusForbidden, Code: "AccessDenied"}
		}},
		{name: "404", creds: static, key: "missing.txt", want: exitcode.NotFound},
		{name: "500 after retries", creds: static, key: "there.txt", want: exitcode.Network, rule: func(*http.Request, int) *s3test.Fault {
			return &s3test.Fault{Kind: s3test.Status, Status: http.StatusInternalServerError, Code: "InternalError"}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := s3test.Start(t)
			srv.Put(t, bucket, "there.txt", []byte("x"), nil)
			srv.SetRule(c.rule)
			ep := c.endpoint
			if ep == "" {
				ep = srv.URL()
			}
			api, err := s3conn.New(context.Background(), s3conn.Options{
				RequestTimeout: time.Second, MaxAttempts: 3, MaxBackoff: time.Millisecond, Endpoint: ep, Credentials: c.creds,
			}, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if c.cancel {
				time.AfterFunc(50*time.Millisecond, func() { cancel(download.ErrSignal) })
			}
			_, err = api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(c.key)})
			if err == nil {
				t.Fatal("HEAD succeeded")
			}
			if got := download.Classify(ctx, err); got != c.want {
				t.Fatalf("exit %d %s, want %d %s: %v", got, got, c.want, c.want, err)
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			if nc, ok := c.creds.(*noCreds); ok {
				// The chain retries on its own; the SDK's retryer must not
				// run it again for each attempt, and nothing reaches S3.
				if n := nc.calls.Load(); n != 1 {
					t.Errorf("credential chain ran %d times, want 1", n)
				}
				if n := srv.Count(http.MethodHead); n != 0 {
					t.Errorf("%d HEADs sent without credentials", n)
				}
			}
		})
	}
}
