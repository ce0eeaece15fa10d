package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func open(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestLockExcludesAndIsReleasedOnClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.lock")
	a, b := open(t, p), open(t, p)
	if ok, err := TryLock(a); !ok || err != nil {
		t.Fatalf("first TryLock = %v, %v", ok, err)
	}
	if ok, err := TryLock(b); ok || err != nil {
		t.Fatalf("second TryLock while held = %v, %v; want false, nil", ok, err)
	}
	waiting := make(chan struct{})
	got := make(chan error)
	go func() { got <- Lock(context.Background(), b, func() { close(waiting) }) }()
	<-waiting // b found the lock held and is polling
	a.Close() // the kernel releases a's lock, as when a task dies
	if err := <-got; err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
}

func TestLockHonoursContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.lock")
	a, b := open(t, p), open(t, p)
	if ok, _ := TryLock(a); !ok {
		t.Fatal("TryLock failed")
	}
	cause := errors.New("sigterm")
	ctx, cancel := context.WithCancelCause(context.Background())
	got := make(chan error)
	go func() { got <- Lock(ctx, b, func() { cancel(cause) }) }()
	if err := <-got; !errors.Is(err, cause) {
		t.Fatalf("Lock = %v, want the context's cause", err)
	}
}
