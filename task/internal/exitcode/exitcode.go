// Package exitcode defines the process exit codes of edge-drop-task and maps
// errors to them. The Step Functions state machine's Catch/Retry rules match
// on these numbers, so they are part of the contract and must not change:
//
//	0  success (also: target already up to date)
//	2  bad configuration or usage (missing/invalid env var or flag)
//	3  unsafe or invalid object key (would escape the data dir, folder marker, ...)
//	4  object not found (404 / NoSuchKey, for the decoded and the raw key)
//	5  access denied (403)
//	6  local I/O error (disk full, permission, read-only file system, ...)
//	7  network / S3 error that persisted after retries, or a timeout
//	8  integrity failure (length, checksum or ETag mismatch; object changed
//	   during the download)
//	9  canceled (SIGTERM / SIGINT)
package exitcode

import (
	"errors"
	"fmt"
)

// Code is a process exit status.
type Code int

// The exit codes. See the package documentation.
const (
	OK        Code = 0
	Usage     Code = 2
	UnsafeKey Code = 3
	NotFound  Code = 4
	Denied    Code = 5
	LocalIO   Code = 6
	Network   Code = 7
	Integrity Code = 8
	Canceled  Code = 9
)

var names = map[Code]string{
	OK:        "ok",
	Usage:     "usage",
	UnsafeKey: "unsafe_key",
	NotFound:  "not_found",
	Denied:    "access_denied",
	LocalIO:   "local_io",
	Network:   "network",
	Integrity: "integrity",
	Canceled:  "canceled",
}

// String returns a short stable name, used as the "class" field in logs.
func (c Code) String() string {
	if n, ok := names[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", int(c))
}

// Error carries an exit code together with the underlying error.
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err with code c. A nil err gives nil.
func New(c Code, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: c, Err: err}
}

// Errorf formats an error that carries code c.
func Errorf(c Code, format string, args ...any) error {
	return &Error{Code: c, Err: fmt.Errorf(format, args...)}
}

// Of returns the exit code for err: OK for nil, the code of the outermost
// *Error in the chain, or Network for anything unclassified (an error we did
// not anticipate almost always comes from the transport).
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Network
}
