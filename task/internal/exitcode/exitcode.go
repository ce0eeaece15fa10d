// Package exitcode maps the task's errors to its process exit codes. The
// codes themselves, their classes and their meaning are the contract with the
// cloud side and live in package contract; the state machine's DeliveryFailed
// state reports them as the failure's cause (its Catch is States.ALL: every
// failure ends the execution, the code says why).
package exitcode

import (
	"errors"
	"fmt"

	"github.com/edge-drop/edge-drop/contract"
)

// Code is a process exit status.
type Code = contract.ExitCode

// The exit codes (see contract.ExitCode).
const (
	OK        = contract.ExitOK
	Usage     = contract.ExitUsage
	UnsafeKey = contract.ExitUnsafeKey
	NotFound  = contract.ExitNotFound
	Denied    = contract.ExitDenied
	LocalIO   = contract.ExitLocalIO
	Network   = contract.ExitNetwork
	Integrity = contract.ExitIntegrity
	Canceled  = contract.ExitCanceled
	TooLarge  = contract.ExitTooLarge
	Partial   = contract.ExitPartial
)

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
