package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/task/internal/keypath"
)

// Bounds, sized for a 512 MB, 4-core ARM board: memory use does not depend
// on the part size (parts are streamed to disk through a small buffer), so
// the part size only trades request count against resume granularity.
const (
	MinPartSize    = 4 << 10
	MaxPartSize    = 5 << 30
	MaxConcurrency = 64
	// MaxInFlight bounds objects × ranged GETs per object in a sync, the
	// requests (connections, buffers) in flight at once.
	MaxInFlight = 64
)

// Setting is one of the task's settings: where it comes from, how it is
// read and checked, its default and what it means. Settings without set
// are read by another package (documented here so the table is whole).
type Setting struct {
	Name    string // in words, for errors ("bucket")
	Env     string // environment variable (contract.Env*); "" = flag only
	Flag    string // flag without "-"; "" = environment only
	Default string // as one would write it; "" = none
	// Doc says what it means (Markdown): task/README.md's table and -h.
	Doc string
	// Modes the setting is read in (nil: every mode). In the others its
	// environment variable is ignored (a task definition may set it for
	// every mode) and its flag is a usage error.
	Modes []string
	// ModeNote ends the error of a flag given in another mode.
	ModeNote string
	Required bool // in its modes (get reads it back)
	Bool     bool // a flag that needs no value (-mirror-deletes means true)
	// Arg: the setting can also be the first argument (the mode).
	Arg bool

	set func(c *Config, v string) error
	get func(c Config) string
}

// Settings is every setting, in the README's order.
var Settings = []Setting{
	{Name: "mode", Env: contract.EnvMode, Arg: true, Default: contract.ModeDownload,
		Doc: "`download` (one object), `sync` (a prefix) or `delete` (the delivered file of a deleted object); the first argument wins",
		set: func(c *Config, v string) error { c.Mode = v; return nil }},
	{Name: "bucket", Env: contract.EnvBucket, Flag: "bucket", Required: true,
		Doc: "bucket",
		set: func(c *Config, v string) error { c.Bucket = v; return nil },
		get: func(c Config) string { return c.Bucket }},
	{Name: "key", Env: contract.EnvKey, Flag: "key", Required: true, Modes: []string{contract.ModeDownload, contract.ModeDelete},
		ModeNote: " (a sync lists -prefix and keeps -pattern)",
		Doc:      "download and delete: the key as in the S3 event (URL-encoded) or raw",
		set:      func(c *Config, v string) error { c.Key = v; return nil },
		get:      func(c Config) string { return c.Key }},
	{Name: "key list", Env: contract.EnvKeys, Modes: []string{contract.ModeDownload},
		Doc: "key-list mode (coalesced bursts, `coalesceWindow`): a JSON list of `{\"k\": key, \"q\": sequencer, \"e\": etag, \"z\": size, \"d\": true for a delete}`, at most 100 entries and 5,632 bytes (RunTask overrides are 8,192 characters with the task token); each key is delivered (or, with `\"d\"`, its delivered file removed) exactly as a task for it alone would, a key named twice keeps its newest event (S3 sequencer); the report lists each key's outcome (`keys`), its status and exit code are the worst key's (a gone key fails nothing unless every key is gone). Excludes `EDGE_DROP_KEY`"},
	{Name: "data dir", Env: contract.EnvDataDir, Flag: "dir", Default: "/data",
		Doc: "data dir; the object goes to `<dir>/<key>`",
		set: func(c *Config, v string) error { c.DataDir = v; return nil }},
	{Name: "part size", Env: contract.EnvPartSize, Flag: "part-size", Default: "8MiB",
		Doc: "bytes per ranged GET (`8388608`, `8MiB`, `8M`, `8MB`=decimal), 4KiB to 5GiB",
		set: size(func(c *Config) *int64 { return &c.PartSize }, MinPartSize, MaxPartSize)},
	{Name: "concurrency", Env: contract.EnvConcurrency, Flag: "concurrency", Default: "4",
		Doc: "parallel ranged GETs, 1 to 64",
		set: count(func(c *Config) *int { return &c.Concurrency }, 1, MaxConcurrency)},
	{Name: "timeout", Env: contract.EnvTimeout, Flag: "timeout", Default: "2h",
		Doc: "overall timeout (Go duration; `0` = none)",
		set: duration(func(c *Config) *time.Duration { return &c.Timeout }, true)},
	{Name: "request timeout", Env: contract.EnvRequestTimeout, Flag: "request-timeout", Default: "30s",
		Doc: "per request: to the response headers, and the longest stall inside a body (resumed, up to 5 times without progress)",
		set: duration(func(c *Config) *time.Duration { return &c.RequestTimeout }, false)},
	{Name: "size limit", Env: contract.EnvMaxBytes, Flag: "max-bytes", Default: "0",
		Doc: "largest object accepted, in bytes (a plain integer; `0` = no limit); a larger one fails with exit 10 before anything is written",
		set: func(c *Config, v string) error {
			n, err := parseCount(v)
			if err != nil {
				return fmt.Errorf("%w (bytes; 0 = no limit)", err)
			}
			c.MaxBytes = n
			return nil
		}},
	{Name: "bandwidth limit", Env: contract.EnvMaxRate, Flag: "max-rate", Default: contract.RateOff,
		Doc: "bytes per second for all of the task's downloads together, sync included (`2MiB`, `512KiB`, `16M`; a unit is required), or `off`",
		set: func(c *Config, v string) (err error) { c.MaxRate, err = contract.ParseRate(v); return err }},
	{Name: "bandwidth timetable", Env: contract.EnvRateSchedule, Flag: "rate-schedule",
		Doc: "caps by time of day in the board's local time, rclone's `--bwlimit` format: `08:00,512KiB 18:00,off` (each from its time until the next; before the first, the last), or with days, `Mon-08:00,1MiB Sat-00:00,off`; with `EDGE_DROP_MAX_RATE` the lower cap applies",
		set: func(c *Config, v string) (err error) { c.RateSchedule, err = contract.ParseRateSchedule(v); return err }},
	{Name: "free-space floor", Env: contract.EnvMinFree, Flag: "min-free", Default: "5%,256MiB",
		Doc: "free space a delivery must leave on the data dir's file system: a size, a percentage of the file system, or both (the smaller applies); `0` = none. A delivery that would go below it fails with exit 6 before the first byte",
		set: func(c *Config, v string) (err error) { c.MinFree, err = ParseMinFree(v); return err }},
	{Name: "partial age limit", Env: contract.EnvPartialMaxAge, Flag: "partial-max-age", Default: "168h",
		Doc: "an interrupted download is kept for the next delivery of the same version to resume, for at most this long after its last byte (Go duration; `0` = never kept)",
		set: duration(func(c *Config) *time.Duration { return &c.PartialMaxAge }, true)},
	{Name: "partial size limit", Env: contract.EnvPartialMaxBytes, Flag: "partial-max-bytes", Default: "2GiB",
		Doc: "the most space interrupted downloads kept for resuming may take in all (oldest removed first; they also give way to a delivery that needs the space)",
		set: size(func(c *Config) *int64 { return &c.PartialMaxBytes }, 0, 1<<50)},
	{Name: "event sequencer", Env: contract.EnvEventSequencer,
		Doc: "the S3 event's `sequencer` (optional; set by the state machine)",
		set: func(c *Config, v string) error { c.Event.Sequencer = strings.TrimSpace(v); return nil }},
	{Name: "event ETag", Env: contract.EnvEventETag,
		Doc: "the S3 event's `eTag` (optional)",
		set: func(c *Config, v string) error { c.Event.ETag = strings.TrimSpace(v); return nil }},
	{Name: "event size", Env: contract.EnvEventSize,
		Doc: "the S3 event's `size`, a non-negative integer (optional)",
		set: func(c *Config, v string) (err error) { c.Event.Size, err = parseCount(v); return err }},
	{Name: "prefix", Env: contract.EnvKeyPrefix, Flag: "prefix", Modes: []string{contract.ModeSync},
		Doc: "sync: the `ListObjectsV2` prefix (a raw key prefix; empty: the whole bucket)",
		set: func(c *Config, v string) error { c.Prefix = v; return nil }},
	{Name: "pattern", Env: contract.EnvKeyPattern, Flag: "pattern", Default: "*", Modes: []string{contract.ModeSync},
		Doc: "sync: keep the keys this Step Functions `StringMatches` pattern accepts, matched against the key **as the S3 event encodes it** (`red flower.jpg` is `red+flower.jpg`)",
		set: func(c *Config, v string) error { c.Pattern = v; return nil }},
	{Name: "objects at once", Env: contract.EnvSyncObjects, Flag: "objects", Default: "4", Modes: []string{contract.ModeSync},
		Doc: "sync: objects downloaded at once, each with `CONCURRENCY` ranged GETs; objects × concurrency ≤ 64",
		set: count(func(c *Config) *int { return &c.SyncObjects }, 1, MaxInFlight)},
	{Name: "mirror deletes", Env: contract.EnvMirrorDeletes, Flag: "mirror-deletes", Default: "false", Modes: []string{contract.ModeSync}, Bool: true,
		Doc: "sync: also remove delivered files whose objects are gone (`true`/`false`)",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.MirrorDeletes = b
			return nil
		}},
	{Name: "strip components", Env: contract.EnvStripComponents, Default: "0",
		Doc: "routing by key (fleet): how many leading key components are not part of the local path, like tar's `--strip-components` (`to/a/dir/f` with 2 lands as `<dir>/dir/f`); see [Routing](#routing-by-key)",
		set: func(c *Config, v string) error {
			n, err := parseCount(v)
			if err != nil || n > keypath.MaxKeyBytes {
				return fmt.Errorf("%q is not a non-negative integer (leading key components to drop)", v)
			}
			c.StripComponents = int(n)
			return nil
		}},
	{Name: "task token", Env: contract.EnvTaskToken,
		Doc: "the Step Functions task token of the state that started the task: the [report](#the-report) is sent as its output (optional; set by the state machine)"},
	{Name: "task metadata", Env: "ECS_CONTAINER_METADATA_URI_V4",
		Doc: "set by the ECS agent: the report names the task's ARN"},
	{Name: "version", Flag: "version", Bool: true,
		Doc: "print the version and exit",
		set: func(c *Config, v string) (err error) { c.ShowVersion, err = strconv.ParseBool(v); return err }},
}

// Lookup returns the setting of an environment variable or flag name.
func Lookup(name string) (Setting, bool) {
	i := slices.IndexFunc(Settings, func(s Setting) bool { return s.Env == name || s.Flag != "" && s.Flag == name })
	if i < 0 {
		return Setting{}, false
	}
	return Settings[i], true
}

// in reports whether the setting is read in mode.
func (s Setting) in(mode string) bool { return s.Modes == nil || slices.Contains(s.Modes, mode) }

func (s Setting) env(getenv func(string) string) string {
	if s.Env == "" {
		return ""
	}
	return getenv(s.Env)
}

func (s Setting) label() string {
	if s.Env != "" {
		return s.Env
	}
	return "-" + s.Flag
}

// size sets a byte count (contract.ParseSize) within [lo, hi].
func size(field func(*Config) *int64, lo, hi int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := contract.ParseSize(v)
		if err == nil {
			err = checkRange(n, lo, hi)
		}
		if err == nil {
			*field(c) = n
		}
		return err
	}
}

// count sets an integer within [lo, hi].
func count(field func(*Config) *int, lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if err := checkRange(int64(n), int64(lo), int64(hi)); err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
}

// duration sets a Go duration, positive (or 0 where allowed).
func duration(field func(*Config) *time.Duration, allowZero bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 90s, 10m, 1h)", v)
		}
		if d < 0 || (d == 0 && !allowZero) {
			return fmt.Errorf("%q must be positive", v)
		}
		*field(c) = d
		return nil
	}
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
