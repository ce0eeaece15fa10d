package download

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/edge-drop/edge-drop/task/internal/exitcode"
	"github.com/edge-drop/edge-drop/task/internal/s3conn"
)

// ErrSignal is the cancel cause main uses for SIGTERM/SIGINT.
var ErrSignal = errors.New("canceled by signal")

// classify maps an error from the SDK, the network or the file system to an
// exit code.
func classify(ctx context.Context, err error) exitcode.Code {
	var ec *exitcode.Error
	if errors.As(err, &ec) {
		return ec.Code
	}
	if ctx != nil && ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), ErrSignal) {
			return exitcode.Canceled
		}
		return exitcode.Network // overall timeout
	}
	if errors.Is(err, ErrSignal) {
		return exitcode.Canceled
	}
	// No credentials: no request was sent, and retrying cannot help (the
	// chain's last provider often failed to connect, which would read as
	// a network fault). Access denied, not usage: like a 403 the fix is on
	// the IAM side (the task role) or the caller's identity, not in the
	// task's own settings, which exit 2 is about and which are checked
	// before any request.
	if _, ok := s3conn.NoCredentials(err); ok {
		return exitcode.Denied
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return exitcode.NotFound
		case http.StatusForbidden:
			return exitcode.Denied
		case http.StatusPreconditionFailed:
			return exitcode.Integrity
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return exitcode.NotFound
		case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return exitcode.Denied
		case "PreconditionFailed":
			return exitcode.Integrity
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EDQUOT) {
		return exitcode.LocalIO
	}
	return exitcode.Network
}

// retryable reports whether a part may be resumed after err.
func retryable(ctx context.Context, err error) bool {
	if errors.Is(err, errStall) {
		return true
	}
	return classify(ctx, err) == exitcode.Network
}

// Classify is classify for callers outside the package (main).
func Classify(ctx context.Context, err error) exitcode.Code { return classify(ctx, err) }

// RootErr is rootErr for callers outside the package: an os.Root error
// that means the path left the data dir is exit 3, anything else exit 6.
func RootErr(err error) error { return rootErr(err) }
