// Package flock takes exclusive advisory locks on open files with flock(2).
// The kernel drops such a lock when its holder dies, SIGKILL included, so a
// crashed task never leaves a lock behind; and two opens of one file in the
// same process conflict like two processes do, so in-process tests see the
// same behaviour as tasks on a board.
package flock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// Waiting polls with a growing backoff up to maxPoll: flock has no timeout
// and a blocking call cannot be interrupted by a context, so SIGTERM and the
// overall timeout must still be able to end the wait.
const (
	firstPoll = time.Millisecond
	maxPoll   = 50 * time.Millisecond
)

// TryLock takes the lock without waiting. It reports false when another
// open file description holds it.
func TryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	if errors.Is(ferr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	if ferr != nil {
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: ferr}
	}
	return true, nil
}

// Lock waits until it holds the lock or ctx ends (then it returns
// context.Cause(ctx)). onWait, if not nil, is called once when the first
// attempt finds the lock held.
func Lock(ctx context.Context, f *os.File, onWait func()) error {
	delay := firstPoll
	for first := true; ; first = false {
		ok, err := TryLock(f)
		if ok || err != nil {
			return err
		}
		if first && onWait != nil {
			onWait()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		delay = min(2*delay, maxPoll)
	}
}
