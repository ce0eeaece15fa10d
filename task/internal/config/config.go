// Package config reads the task's settings from the environment (as set by
// the state machine's container overrides) and from command-line flags (for
// running by hand). Flags override environment variables.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
)

// Defaults, sized for a 512 MB, 4-core ARM board: memory use does not depend
// on the part size (parts are streamed to disk through a small buffer), so
// the part size only trades request count against resume granularity.
const (
	DefaultDataDir        = "/data"
	DefaultPartSize       = 8 << 20
	DefaultConcurrency    = 4
	DefaultTimeout        = 2 * time.Hour
	DefaultRequestTimeout = 30 * time.Second

	// DefaultSyncObjects: objects a sync downloads at once. With the
	// default 4 ranged GETs each, at most 16 requests are in flight: enough
	// to keep a board's link busy with small files, and the memory of 16
	// connections and 64 KiB buffers is ~2 MiB.
	DefaultSyncObjects = 4

	MinPartSize    = 4 << 10
	MaxPartSize    = 5 << 30
	MaxConcurrency = 64
	// MaxInFlight bounds objects × ranged GETs per object in a sync, the
	// requests (connections, buffers) in flight at once.
	MaxInFlight = 64
)

// Config is the validated configuration.
type Config struct {
	// Mode is contract.ModeDownload, ModeSync or ModeDelete.
	Mode           string
	Bucket         string
	Key            string // raw, as received (possibly URL-encoded)
	DataDir        string
	PartSize       int64
	Concurrency    int
	Timeout        time.Duration // overall; 0 = none
	RequestTimeout time.Duration // per request: time to headers, and longest stall while reading a body
	ShowVersion    bool
	// MaxBytes is the largest object the board accepts; 0 = no limit.
	MaxBytes int64
	// StripComponents leading key components are not part of the local
	// path (routing by key: the prefix and the target); 0 = the key is the path.
	StripComponents int
	// Event is what the S3 event said of the object (all optional).
	Event Event
	// Keys: key-list mode (contract.EnvKeys, download mode only): every
	// key of a coalesced batch, the newest event of each; Key and Event
	// are then unused.
	Keys []contract.ListedKey
	// Sync mode.
	Prefix        string // raw key prefix
	Pattern       string // StringMatches pattern on the event-encoded key
	SyncObjects   int    // objects at once
	MirrorDeletes bool
}

// Event is what the triggering S3 event said of the object, passed by the
// state machine so the task can tell an event that a newer upload has
// already superseded. Every field is optional (empty / -1 when unset).
type Event struct {
	Sequencer string
	ETag      string
	Size      int64 // -1 = not given
}

// ErrHelp is returned when -h/-help was given; usage has been printed.
var ErrHelp = flag.ErrHelp

// Parse reads env (through getenv) and then args (without the program
// name). Errors are single lines suitable for the log.
func Parse(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	c := Config{
		Mode:           contract.ModeDownload,
		SyncObjects:    DefaultSyncObjects,
		Pattern:        "*",
		DataDir:        DefaultDataDir,
		PartSize:       DefaultPartSize,
		Concurrency:    DefaultConcurrency,
		Timeout:        DefaultTimeout,
		RequestTimeout: DefaultRequestTimeout,
		Event:          Event{Size: -1},
	}
	var errs []error
	bad := func(src string, err error) { errs = append(errs, fmt.Errorf("%s: %w", src, err)) }

	// The mode: the first argument, else the environment, else download.
	modeSrc := contract.EnvMode
	if v := getenv(contract.EnvMode); v != "" {
		c.Mode = v
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Mode, modeSrc, args = args[0], "mode argument", args[1:]
	}
	if !slices.Contains(contract.Modes, c.Mode) {
		return c, fmt.Errorf("%s: unknown mode %q: use %s (default %s)", modeSrc, c.Mode, strings.Join(contract.Modes, ", "), contract.ModeDownload)
	}

	// Environment first.
	c.Bucket = getenv(contract.EnvBucket)
	c.Key = getenv(contract.EnvKey)
	if v := getenv(contract.EnvKeys); v != "" {
		keys, err := contract.ParseKeyList(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.Keys = keys
	}
	if v := getenv(contract.EnvDataDir); v != "" {
		c.DataDir = v
	}
	setSize := func(src, v string) {
		n, err := ParseSize(v)
		if err == nil {
			err = checkRange(n, MinPartSize, MaxPartSize)
		}
		if err != nil {
			bad(src, err)
			return
		}
		c.PartSize = n
	}
	setConc := func(src, v string) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			bad(src, fmt.Errorf("%q is not an integer", v))
			return
		}
		if err := checkRange(int64(n), 1, MaxConcurrency); err != nil {
			bad(src, err)
			return
		}
		c.Concurrency = n
	}
	setDur := func(dst *time.Duration, allowZero bool) func(src, v string) {
		return func(src, v string) {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				bad(src, fmt.Errorf("%q is not a duration (e.g. 90s, 10m, 1h)", v))
				return
			}
			if d < 0 || (d == 0 && !allowZero) {
				bad(src, fmt.Errorf("%q must be positive", v))
				return
			}
			*dst = d
		}
	}
	setTimeout := setDur(&c.Timeout, true)
	setReqTimeout := setDur(&c.RequestTimeout, false)
	setMax := func(src, v string) {
		n, err := parseCount(v)
		if err != nil {
			bad(src, fmt.Errorf("%w (bytes; 0 = no limit)", err))
			return
		}
		c.MaxBytes = n
	}
	if v := getenv(contract.EnvMaxBytes); v != "" {
		setMax(contract.EnvMaxBytes, v)
	}
	if v := getenv(contract.EnvStripComponents); v != "" {
		if n, err := parseCount(v); err != nil || n > keypath.MaxKeyBytes {
			bad(contract.EnvStripComponents, fmt.Errorf("%q is not a non-negative integer (leading key components to drop)", v))
		} else {
			c.StripComponents = int(n)
		}
	}
	c.Event.Sequencer = strings.TrimSpace(getenv(contract.EnvEventSequencer))
	c.Event.ETag = strings.TrimSpace(getenv(contract.EnvEventETag))
	if v := getenv(contract.EnvEventSize); v != "" {
		if n, err := parseCount(v); err != nil {
			bad(contract.EnvEventSize, err)
		} else {
			c.Event.Size = n
		}
	}
	setObjects := func(src, v string) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			bad(src, fmt.Errorf("%q is not an integer", v))
			return
		}
		if err := checkRange(int64(n), 1, MaxInFlight); err != nil {
			bad(src, err)
			return
		}
		c.SyncObjects = n
	}
	setMirror := func(src, v string) {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			bad(src, fmt.Errorf("%q is not true or false", v))
			return
		}
		c.MirrorDeletes = b
	}
	// Sync settings in the environment are read in sync mode only: a task
	// definition may set them for every mode.
	if c.Mode == contract.ModeSync {
		c.Prefix = getenv(contract.EnvKeyPrefix)
		if v := getenv(contract.EnvKeyPattern); v != "" {
			c.Pattern = v
		}
		if v := getenv(contract.EnvSyncObjects); v != "" {
			setObjects(contract.EnvSyncObjects, v)
		}
		if v := getenv(contract.EnvMirrorDeletes); v != "" {
			setMirror(contract.EnvMirrorDeletes, v)
		}
	}
	if v := getenv(contract.EnvPartSize); v != "" {
		setSize(contract.EnvPartSize, v)
	}
	if v := getenv(contract.EnvConcurrency); v != "" {
		setConc(contract.EnvConcurrency, v)
	}
	if v := getenv(contract.EnvTimeout); v != "" {
		setTimeout(contract.EnvTimeout, v)
	}
	if v := getenv(contract.EnvRequestTimeout); v != "" {
		setReqTimeout(contract.EnvRequestTimeout, v)
	}

	// Then flags, which override.
	fs := flag.NewFlagSet("edge-drop-task", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: edge-drop-task [download|sync|delete] [flags]\n\n"+
			"  download  (default) deliver s3://BUCKET/KEY to DIR/KEY\n"+
			"  sync      deliver every object under -prefix whose key matches -pattern that DIR lacks or holds in another version\n"+
			"  delete    remove DIR/KEY if KEY is gone from the bucket and this task delivered the file\n\n"+
			"The mode can also be set with %s. Flags override the %s* environment variables.\n\n", contract.EnvMode, contract.EnvPrefix)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Bucket, "bucket", c.Bucket, "S3 bucket (env "+contract.EnvBucket+")")
	fs.StringVar(&c.Key, "key", c.Key, "object key, raw or URL-encoded as in S3 events (env "+contract.EnvKey+")")
	fs.StringVar(&c.DataDir, "dir", c.DataDir, "data directory the key is placed under (env "+contract.EnvDataDir+")")
	fs.Func("part-size", "bytes per ranged GET, e.g. 8MiB (env "+contract.EnvPartSize+", default 8MiB)", func(v string) error { setSize("-part-size", v); return nil })
	fs.Func("concurrency", "parallel ranged GETs (env "+contract.EnvConcurrency+", default 4)", func(v string) error { setConc("-concurrency", v); return nil })
	fs.Func("timeout", "overall timeout, 0 = none (env "+contract.EnvTimeout+", default 2h)", func(v string) error { setTimeout("-timeout", v); return nil })
	fs.Func("request-timeout", "per-request timeout: to response headers and longest body stall (env "+contract.EnvRequestTimeout+", default 30s)", func(v string) error { setReqTimeout("-request-timeout", v); return nil })
	fs.Func("max-bytes", "largest object accepted, in bytes, 0 = no limit (env "+contract.EnvMaxBytes+", default 0)", func(v string) error { setMax("-max-bytes", v); return nil })
	fs.StringVar(&c.Prefix, "prefix", c.Prefix, "sync: key prefix to list (env "+contract.EnvKeyPrefix+")")
	fs.StringVar(&c.Pattern, "pattern", c.Pattern, "sync: StringMatches pattern ('*' = any run, '\\*' a literal '*') on the key as S3 events encode it (env "+contract.EnvKeyPattern+")")
	fs.Func("objects", "sync: objects downloaded at once; times -concurrency at most 64 (env "+contract.EnvSyncObjects+", default 4)", func(v string) error { setObjects("-objects", v); return nil })
	fs.BoolFunc("mirror-deletes", "sync: remove delivered files whose objects are gone (env "+contract.EnvMirrorDeletes+", default false)", func(v string) error { setMirror("-mirror-deletes", v); return nil })
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, ErrHelp
		}
		return c, errors.New(firstLine(err.Error()))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if c.ShowVersion {
		return c, nil
	}
	if c.Bucket == "" {
		errs = append(errs, fmt.Errorf("bucket is required (%s or -bucket)", contract.EnvBucket))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Mode == contract.ModeSync {
		if set["key"] {
			errs = append(errs, errors.New("-key is not used in sync mode (it lists -prefix and keeps -pattern)"))
		}
		// An empty pattern keeps no key: the sync would list everything,
		// deliver nothing and succeed (an unset shell variable, say).
		if c.Pattern == "" {
			errs = append(errs, errors.New(`-pattern is empty (it would keep no key): give a StringMatches pattern, "*" for every key`))
		}
		if n := c.SyncObjects * c.Concurrency; n > MaxInFlight {
			errs = append(errs, fmt.Errorf("objects × concurrency = %d × %d = %d requests in flight, more than %d: lower %s or %s", c.SyncObjects, c.Concurrency, n, MaxInFlight, contract.EnvSyncObjects, contract.EnvConcurrency))
		}
	} else {
		switch {
		case getenv(contract.EnvKeys) != "" && c.Mode != contract.ModeDownload:
			errs = append(errs, fmt.Errorf("%s is for download mode (a delete in the list is an entry with \"d\": true)", contract.EnvKeys))
		case getenv(contract.EnvKeys) != "" && set["key"]:
			errs = append(errs, fmt.Errorf("-key and %s exclude each other: give one key or a list", contract.EnvKeys))
		case getenv(contract.EnvKeys) != "":
		case c.Key == "":
			errs = append(errs, fmt.Errorf("key is required (%s or -key; or a list in %s)", contract.EnvKey, contract.EnvKeys))
		}
		for _, f := range []string{"prefix", "pattern", "objects", "mirror-deletes"} {
			if set[f] {
				errs = append(errs, fmt.Errorf("-%s is only for sync mode (edge-drop-task sync ...)", f))
			}
		}
	}
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("data dir must not be empty (%s or -dir)", contract.EnvDataDir))
	}
	if len(errs) > 0 {
		msg := make([]string, len(errs))
		for i, e := range errs {
			msg[i] = e.Error()
		}
		return c, errors.New(strings.Join(msg, "; "))
	}
	return c, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// parseCount parses a plain non-negative integer (no units: these values
// come from machines, not people).
func parseCount(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", v)
	}
	return n, nil
}

func checkRange(n, lo, hi int64) error {
	if n < lo || n > hi {
		return fmt.Errorf("%d out of range [%d, %d]", n, lo, hi)
	}
	return nil
}

var units = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseSize parses "8388608", "8MiB", "8M" (binary), "8MB" (decimal),
// "512KiB", "1GiB". Units are case-insensitive.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (bytes, or e.g. 8MiB)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
