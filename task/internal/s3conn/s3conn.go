// Package s3conn builds the S3 client from the SDK's standard settings
// (AWS_REGION, AWS_ENDPOINT_URL_S3, credentials chain incl. the ECS task
// role) plus the few knobs edge-drop needs: path-style addressing for local
// S3-compatible servers, retry policy and per-request timeouts.
package s3conn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// Options tune the client.
type Options struct {
	// RequestTimeout bounds the wait for response headers (the SDK retries
	// on it). Body stalls are handled by the downloader.
	RequestTimeout time.Duration
	// MaxAttempts per API call, including the first (SDK retries with
	// exponential backoff and jitter). 0 means 5.
	MaxAttempts int
	// MaxBackoff caps the delay between SDK retries. 0 means 5s.
	MaxBackoff time.Duration
	// Concurrency sizes the idle connection pool.
	Concurrency int
	// Endpoint and Credentials override the SDK's standard settings (tests).
	Endpoint    string
	Credentials aws.CredentialsProvider
	// Logger receives the SDK's own warnings (e.g. "falling back to
	// IMDSv1") as JSON log lines; without it the SDK prints them on
	// stderr, where a failure must be one line.
	Logger *slog.Logger
}

// DefaultRegion is used when no region is configured anywhere: S3
// redirects/works for path-style local servers, and for AWS the ECS agent
// sets AWS_REGION.
const DefaultRegion = "us-east-1"

// New returns an S3 client. getenv is os.Getenv in production.
func New(ctx context.Context, o Options, getenv func(string) string) (*s3.Client, error) {
	cfg, err := Load(ctx, o)
	if err != nil {
		return nil, err
	}
	return S3(cfg, o, getenv), nil
}

// S3 is the S3 client of a loaded configuration.
func S3(cfg aws.Config, o Options, getenv func(string) string) *s3.Client {
	pathStyle := UsePathStyle(getenv)
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = pathStyle
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	})
}

// Load reads the SDK's standard settings (region, credentials, endpoints
// such as AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_SFN) with edge-drop's
// transport, retry and checksum settings; the S3 client and the report's
// Step Functions client share it (and its credentials cache).
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	conns := o.Concurrency + 2
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		if o.RequestTimeout > 0 {
			t.ResponseHeaderTimeout = o.RequestTimeout
			t.TLSHandshakeTimeout = o.RequestTimeout
		}
		t.MaxIdleConns = conns
		t.MaxIdleConnsPerHost = conns
		t.DisableCompression = true
	})
	if o.RequestTimeout > 0 {
		httpClient = httpClient.WithDialerOptions(func(d *net.Dialer) { d.Timeout = o.RequestTimeout })
	}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
			})
		}),
		// We verify the whole object ourselves (ranged GETs carry no
		// checksums); keep the SDK from wrapping bodies in hashers.
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.Logger != nil {
		opts = append(opts, config.WithLogger(sdkLogger(o.Logger)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Credentials != nil {
		cfg.Credentials = checkedCredentials{cfg.Credentials}
	}
	return cfg, nil
}

// sdkLogger turns the SDK's printf-style log calls into slog records.
func sdkLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelWarn
		if c == logging.Debug {
			level = slog.LevelDebug
		}
		l.Log(context.Background(), level, "aws sdk", "message", fmt.Sprintf(format, v...))
	})
}

// NoCredentialsFix says how to give the task credentials.
const NoCredentialsFix = "under ECS the task role provides them (is the task definition's taskRoleArn set?); " +
	"by hand set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE"

// NoCredentialsError: the SDK's credential chain gave no credentials, so
// no request was sent. The SDK reports this as a plain wrapped error
// ("get identity: get credentials: failed to refresh cached credentials,
// ..."), with whatever the last provider tried inside (on a board without
// a task role: the EC2 metadata service, i.e. connection errors), which
// would read as a network fault; this type marks it.
type NoCredentialsError struct{ Err error }

func (e *NoCredentialsError) Error() string {
	return "no AWS credentials: " + NoCredentialsFix + "; the SDK said: " + e.Err.Error()
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// RetryableError keeps the SDK's retryer from running the whole chain
// again for each of its attempts: the providers retry on their own.
func (e *NoCredentialsError) RetryableError() bool { return false }

// NoCredentials reports whether err (or an error it wraps) is a
// NoCredentialsError, and returns it.
func NoCredentials(err error) (*NoCredentialsError, bool) {
	var nc *NoCredentialsError
	return nc, errors.As(err, &nc)
}

// checkedCredentials marks the chain's failures as NoCredentialsError. It
// wraps the SDK's cache, which still does the caching and refreshing.
type checkedCredentials struct{ aws.CredentialsProvider }

func (c checkedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil { // a canceled wait is the cancel, not missing credentials
		err = &NoCredentialsError{Err: err}
	}
	return creds, err
}

// IsCredentialsProvider and ProviderSources pass through to the wrapped
// provider (the S3 client asks whether it is anonymous; the user agent
// names the source).
func (c checkedCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(c.CredentialsProvider, target)
}

func (c checkedCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := c.CredentialsProvider.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// UsePathStyle reports whether path-style addressing should be used:
// AWS_S3_USE_PATH_STYLE=true, or an AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
// whose host is an IP address or localhost (virtual-hosted style cannot
// work there).
func UsePathStyle(getenv func(string) string) bool {
	if v := getenv("AWS_S3_USE_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		return err == nil && b
	}
	ep := getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ep = getenv("AWS_ENDPOINT_URL")
	}
	if ep == "" {
		return false
	}
	u, err := url.Parse(ep)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || net.ParseIP(h) != nil
}

// Getenv is os.Getenv, for callers that pass the real environment.
var Getenv = os.Getenv
