// Package config reads the task's settings from the environment (as set by
// the task definition and the state machine's container overrides) and
// from command-line flags (for running by hand). Flags override
// environment variables. Every setting is one entry of Settings (name,
// environment variable, flag, parse and check, default, doc), from which
// the flags, -h and task/README.md's settings table derive.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
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
	// MaxRate caps the bytes per second of all downloads together (0 =
	// none); RateSchedule is a timetable of caps (the lower one applies).
	MaxRate      int64
	RateSchedule contract.RateSchedule
	// MinFree is the free space a delivery must leave.
	MinFree MinFree
	// Interrupted downloads are kept for resuming up to this age and
	// this many bytes in all.
	PartialMaxAge   time.Duration
	PartialMaxBytes int64
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

// Defaults is the configuration before the environment and flags: every
// setting's Default, parsed as if it had been given.
func Defaults() Config {
	c := Config{Event: Event{Size: -1}}
	for _, s := range Settings {
		if s.Default != "" && s.set != nil {
			if err := s.set(&c, s.Default); err != nil {
				panic(fmt.Sprintf("config: the default %q of %s does not parse: %v", s.Default, s.label(), err))
			}
		}
	}
	return c
}

// Parse reads the mode, then the environment (through getenv), then args
// (without the program name). Errors are one line, naming every bad
// setting and where it came from.
func Parse(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	c := Defaults()
	var src string
	c.Mode, src, args = mode(args, getenv)
	if !slices.Contains(contract.Modes, c.Mode) {
		return c, fmt.Errorf("%s: unknown mode %q: use %s (default %s)", src, c.Mode, strings.Join(contract.Modes, ", "), contract.ModeDownload)
	}
	var errs []error
	for _, s := range Settings {
		if v := s.env(getenv); v != "" && s.set != nil && !s.Arg && s.in(c.Mode) {
			errs = appendErr(errs, s.Env, s.set(&c, v))
		}
	}
	keyList := getenv(contract.EnvKeys)
	if keyList != "" && c.Mode == contract.ModeDownload {
		keys, err := contract.ParseKeyList(keyList) // its errors name the variable
		if err != nil {
			errs = append(errs, err)
		}
		c.Keys = keys
	}
	fs := newFlagSet(&c, usageOut, &errs)
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
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	errs = append(errs, check(c, given, keyList != "")...)
	return c, joinLine(errs)
}

// mode is the first argument, else EDGE_DROP_MODE, else download; src
// says which.
func mode(args []string, getenv func(string) string) (m, src string, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], "mode argument", args[1:]
	}
	if v := getenv(contract.EnvMode); v != "" {
		return v, contract.EnvMode, args
	}
	return contract.ModeDownload, contract.EnvMode, args
}

// newFlagSet defines a flag for every setting that has one; a bad value is
// collected in errs with the flag's name (the flag package's own message
// would be two lines).
func newFlagSet(c *Config, usageOut io.Writer, errs *[]error) *flag.FlagSet {
	fs := flag.NewFlagSet("edge-drop-task", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.Usage = func() { Usage(usageOut) }
	for _, s := range Settings {
		if s.Flag == "" || s.set == nil {
			continue
		}
		set := func(v string) error {
			*errs = appendErr(*errs, "-"+s.Flag, s.set(c, v))
			return nil
		}
		if s.Bool {
			fs.BoolFunc(s.Flag, s.help(), set)
		} else {
			fs.Func(s.Flag, s.help(), set)
		}
	}
	return fs
}

// check applies the rules between settings and modes; keyList says
// whether a key list (contract.EnvKeys) was given.
func check(c Config, given map[string]bool, keyList bool) []error {
	var errs []error
	switch {
	case keyList && c.Mode != contract.ModeDownload:
		errs = append(errs, fmt.Errorf("%s is for download mode (a delete in the list is an entry with \"d\": true)", contract.EnvKeys))
	case keyList && given["key"]:
		errs = append(errs, fmt.Errorf("-key and %s exclude each other: give one key or a list", contract.EnvKeys))
	}
	for _, s := range Settings {
		switch {
		case s.Env == contract.EnvKey && keyList:
			// The list names the keys.
		case given[s.Flag] && !s.in(c.Mode) && len(s.Modes) == 1:
			errs = append(errs, fmt.Errorf("-%s is only for %s mode (edge-drop-task %s ...)", s.Flag, s.Modes[0], s.Modes[0]))
		case given[s.Flag] && !s.in(c.Mode):
			errs = append(errs, fmt.Errorf("-%s is not used in %s mode%s", s.Flag, c.Mode, s.ModeNote))
		case s.Required && s.in(c.Mode) && s.get != nil && s.get(c) == "" && s.Env == contract.EnvKey && c.Mode == contract.ModeDownload:
			errs = append(errs, fmt.Errorf("%s is required (%s or -%s; or a list in %s)", s.Name, s.Env, s.Flag, contract.EnvKeys))
		case s.Required && s.in(c.Mode) && s.get != nil && s.get(c) == "":
			errs = append(errs, fmt.Errorf("%s is required (%s or -%s)", s.Name, s.Env, s.Flag))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("data dir must not be empty (%s or -dir)", contract.EnvDataDir))
	}
	if c.Mode != contract.ModeSync {
		return errs
	}
	// An empty pattern keeps no key: the sync would list everything,
	// deliver nothing and succeed (an unset shell variable, say).
	if c.Pattern == "" {
		errs = append(errs, errors.New(`-pattern is empty (it would keep no key): give a StringMatches pattern, "*" for every key`))
	}
	if n := c.SyncObjects * c.Concurrency; n > MaxInFlight {
		errs = append(errs, fmt.Errorf("objects × concurrency = %d × %d = %d requests in flight, more than %d: lower %s or %s",
			c.SyncObjects, c.Concurrency, n, MaxInFlight, contract.EnvSyncObjects, contract.EnvConcurrency))
	}
	return errs
}

func appendErr(errs []error, src string, err error) []error {
	if err == nil {
		return errs
	}
	return append(errs, fmt.Errorf("%s: %w", src, err))
}

// joinLine joins errors into one line ("; ").
func joinLine(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msg := make([]string, len(errs))
	for i, e := range errs {
		msg[i] = e.Error()
	}
	return errors.New(strings.Join(msg, "; "))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
