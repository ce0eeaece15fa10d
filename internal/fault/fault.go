// Package fault classifies what went wrong in the edge-drop CLI into the
// few kinds its exit codes distinguish, each with one line that names the
// fix.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// Kind is a class of failure; the CLI maps each to an exit code.
type Kind int

const (
	// Failed: the command worked and the answer is bad news (a sync that
	// did not succeed).
	Failed Kind = iota + 1
	// Usage: a bad flag, argument or name.
	Usage
	// Setup: no credentials, no region, no demo running, a stack output
	// missing: the fix is on the operator's side.
	Setup
	// NotFound: the stack, the table, a board or a key does not exist.
	NotFound
	// Service: AWS (or the demo) refused or failed: access denied,
	// throttling, network.
	Service
)

// Error is a failure of a Kind with its one-line message.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func newf(k Kind, format string, a ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

// Failedf, Usagef, Setupf, NotFoundf and Servicef make an Error of their kind.
func Failedf(format string, a ...any) error   { return newf(Failed, format, a...) }
func Usagef(format string, a ...any) error    { return newf(Usage, format, a...) }
func Setupf(format string, a ...any) error    { return newf(Setup, format, a...) }
func NotFoundf(format string, a ...any) error { return newf(NotFound, format, a...) }
func Servicef(format string, a ...any) error  { return newf(Service, format, a...) }

// KindOf is err's Kind; an unclassified error is a Service failure.
func KindOf(err error) Kind {
	if e := (*Error)(nil); errors.As(err, &e) {
		return e.Kind
	}
	return Service
}

// AWS classifies an error of a call to what ("DynamoDB Query on table
// EdgeDrop-Ledger"); where says how to reach the other side when it does
// not answer ("AWS" or "the demo in .demo: start make demo").
func AWS(err error, what, unreachable string) error {
	if err == nil {
		return nil
	}
	if e := (*Error)(nil); errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg := api.ErrorCode(), oneLine(api.ErrorMessage())
		switch {
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
			return Setupf("%s: the AWS credentials have expired: renew them (aws sso login, or new keys) and run again", what)
		case code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
			return Setupf("%s: the AWS credentials are not valid here (%s): check AWS_PROFILE / --profile and the keys", what, code)
		case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "Forbidden":
			return Servicef("%s: access denied (%s): use credentials whose role allows it", what, msg)
		case strings.Contains(code, "Throttl") || code == "TooManyRequestsException" || code == "ProvisionedThroughputExceededException":
			return Servicef("%s: throttled by AWS (%s): wait a moment and run again", what, code)
		}
		return Servicef("%s: %s: %s", what, code, msg)
	}
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) || errors.As(err, &dns) || strings.Contains(err.Error(), "connection refused") {
		return Servicef("%s: cannot reach %s", what, unreachable)
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role") {
		return Setupf("no AWS credentials: run aws configure (or aws sso login --profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return Servicef("%s: %s", what, oneLine(err.Error()))
}

// oneLine keeps an error message to its first line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
