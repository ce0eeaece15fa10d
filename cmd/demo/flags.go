package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/local/bucket"
	"github.com/edge-drop/edge-drop/local/localrun"
)

// The endpoints' default addresses: loopback, so that nothing outside the
// machine reaches them, and a stable port, so that an exported
// --endpoint-url and make sync keep working across runs (a taken port falls
// back to a free one, with a line saying so). Not LocalStack's 4566 (or its
// per-service 4510-4599) nor MinIO's 9000/9001 nor Step Functions Local's
// 8083: people who try edge-drop are likely to run those too, and the same
// port would make the demo fall back on every run, or an old shell's
// --endpoint-url reach the other tool. Below Linux's ephemeral range
// (32768-60999), so no outgoing connection holds them.
const (
	defaultS3Addr            = "127.0.0.1:9470"
	defaultStepFunctionsAddr = "127.0.0.1:9471"
)

// checkFlags rejects what the demo must not run with, before it synthesizes
// anything: status 2 and one line per problem.
func checkFlags(o options) (int, error) {
	err := errors.Join(
		checkAddr("-addr", o.addr),
		checkAddr("-sfn-addr", o.sfnAddr),
		checkOrigin(o.corsOrigin),
		config.CheckKeys(slices.Collect(maps.Keys(o.context)), true),
		checkDataDir(o.data, o.state),
		checkBoards(o.boards),
		checkSyncEvery(o.syncEvery),
		checkSlots(o.slots),
	)
	if err != nil {
		return 2, err
	}
	return 0, nil
}

// parseSyncEvery reads -sync-every: 0 (the app's own rate) when empty.
func parseSyncEvery(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("-sync-every %q: want a duration of at least 1s, e.g. -sync-every 10s (without it: the app's syncEvery)", v)
	}
	return d, nil
}

func checkSyncEvery(v string) error {
	_, err := parseSyncEvery(v)
	return err
}

// maxSlots bounds -slots: a NanoPi has 4 cores and 512 MB, and each task
// slot may hold a process of the task definition's memory.
const maxSlots = 64

// checkSlots rejects a board capacity that could run nothing (or too much).
func checkSlots(n int) error {
	if n < 1 || n > maxSlots {
		return fmt.Errorf("-slots %d: want 1 to %d tasks at once per board, e.g. -slots 2", n, maxSlots)
	}
	return nil
}

// checkBoards validates -boards (empty: one board, no fleet).
func checkBoards(spec string) error {
	if spec == "" {
		return nil
	}
	_, err := localrun.ParseBoards(spec)
	return err
}

// checkDataDir refuses a -data directory that is not safe to hand to the
// tasks: they write the delivered files there and remove their own
// leftovers (temporary files) from it, so it must be a directory of its
// own, not the current directory (the project) or one of its parents, the
// home directory, a git directory, or where -state keeps the bucket.
func checkDataDir(data, state string) error {
	if strings.TrimSpace(data) == "" {
		return errors.New("-data is empty: give the local directory that stands in for the board's data directory, e.g. -data data")
	}
	dir, err := resolve(data)
	if err != nil {
		return fmt.Errorf("-data %s: %v", data, err)
	}
	cwd, err := resolve(".")
	if err != nil {
		return err
	}
	unsafe := func(what string) error {
		return fmt.Errorf("-data %s is %s: the tasks write into it and clean it up, give it a directory of its own, e.g. -data data", data, what)
	}
	switch {
	case dir == string(filepath.Separator):
		return unsafe("the root directory")
	case within(dir, cwd):
		return unsafe("the current directory or one of its parents")
	case slices.Contains(strings.Split(dir, string(filepath.Separator)), ".git"):
		return unsafe("inside a .git directory")
	}
	if home, err := os.UserHomeDir(); err == nil {
		if home, err := resolve(home); err == nil && dir == home {
			return unsafe("the home directory")
		}
	}
	if st, err := resolve(state); err == nil && (within(dir, st) || within(st, dir)) {
		return unsafe(fmt.Sprintf("overlapping -state %s (the bucket's objects and the assembly)", state))
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("-data %s is not a directory", data)
	}
	return nil
}

// resolve makes path absolute with its symbolic links resolved, as far as
// it exists: the demo creates the rest.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest), nil
		}
		if p == filepath.Dir(p) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// within reports whether path is dir or lies below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkAddr validates an endpoint address (host:port, port 0: any free one).
func checkAddr(flagName, addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("%s %q: want host:port, e.g. %s 127.0.0.1:0 (any free port)", flagName, addr, flagName)
	}
	return nil
}

// checkOrigin validates -cors-origin: empty (no CORS) or one origin.
func checkOrigin(origin string) error {
	if origin == "" {
		return nil
	}
	if err := bucket.CheckOrigin(origin); err != nil {
		return fmt.Errorf("-cors-origin: %w", err)
	}
	return nil
}
