// Package config is the one typed place for edge-drop's deploy-time settings.
//
// Every context key is one entry of Settings (key, Config field, parse,
// check, default, doc), from which FromContext, Validate's per-key rules,
// Keys, Default() and docs/configuration.md's table derive; the rules that
// tie keys together are the named crossChecks. Values come from CDK context
// over the defaults (cdk.json holds only CDK's feature flags): set a key in
// cdk.json's "context" or with `cdk synth -c key=value`. Everything is
// validated before a single construct is built, so a bad value fails synth
// with one line that names the context key, what it got and what is allowed.
package config

import (
	"errors"
	"fmt"
	"time"
)

// RemovalPolicy says what happens to stateful resources (bucket, log groups)
// when a stack is destroyed.
type RemovalPolicy string

const (
	Retain  RemovalPolicy = "retain"
	Destroy RemovalPolicy = "destroy"
)

// BoardPolicy selects the permissions of the boards' instance role.
type BoardPolicy string

const (
	// ScopedBoardPolicy is edge-drop's own policy: the ECS agent's calls on
	// this cluster and its container instances, the SSM agent's core calls,
	// no parameter reads, no ECR, no logs.
	ScopedBoardPolicy BoardPolicy = "scoped"
	// ManagedBoardPolicy attaches AWS's two managed policies, the fallback
	// when an agent release needs a call the scoped policy lacks.
	ManagedBoardPolicy BoardPolicy = "managed"
)

// MaxObjectMiBLimit is the largest maxObjectMiB: 1 TiB, far beyond any
// microSD card a NEO2 takes, yet a bound that keeps the byte count exact
// in the state machine's numbers.
const MaxObjectMiBLimit = 1 << 20

// MaxBoardsLimit is the largest maxBoards: the fleet size the paged
// delivery's timeout and history arithmetic are proven for (10,000 boards:
// 100 child executions of 100).
const MaxBoardsLimit = 10_000

// Config is the whole deploy-time configuration. Each field is one
// Setting's (settings.go: its key, default, rules and meaning); the notes
// here say what a zero value means to the code that reads it.
type Config struct {
	StackPrefix string // stacks <prefix>-Cluster and <prefix>-Pipeline

	BucketName         string // "": CloudFormation names the created bucket
	ExistingBucketName string // set: the bucket is imported, not created

	ClusterName         string
	ExistingClusterName string // set: no cluster stack at all (ImportsCluster)

	KeyPattern string // the Choice state's StringMatches pattern
	// RuleKey* filter keys in the EventBridge rule itself; at most one is
	// set, all as S3 events encode keys.
	RuleKeyPrefix   string
	RuleKeySuffix   string
	RuleKeyWildcard string

	DataDir       string // on the board, and the container's mount point
	TaskImage     string // "": the root Dockerfile, built as an asset
	TaskCPU       int
	TaskMemoryMiB int
	TaskUser      string // uid[:gid]
	TaskTimeout   time.Duration
	MaxObjectMiB  int // see MaxObjectBytes

	// The task's EDGE_DROP_MAX_RATE and EDGE_DROP_RATE_SCHEDULE ("": no
	// cap), checked with the task's own parsers (package contract).
	BoardMaxRate      string
	BoardRateSchedule string
	BoardPolicy       BoardPolicy

	DeliverTo   Target
	RoutePrefix string        // set: the key names the boards (DeliverTo is any)
	OfflineWait time.Duration // a fleet's retry of a busy or offline board
	// MaxBoards 0 is what one execution serves (constructs/pipeline
	// FleetTiming.MaxFleet); more fans out one child execution per page.
	MaxBoards int
	// CoalesceWindow 0 is off: one execution per upload; else bursts are
	// batched (constructs/pipeline coalesce.go, Coalesces).
	CoalesceWindow time.Duration

	SyncEvery     time.Duration // 0: off, syncs on demand only (Syncs)
	MirrorDeletes bool

	LogRetentionDays  int // one of RetentionDays
	LedgerHistoryDays int // the ledger's history TTL; current items stay
	RemovalPolicy     RemovalPolicy
	AlarmEmail        string // "": the alarm topic has no subscription
}

// MaxLedgerHistoryDays bounds ledgerHistoryDays (ten years).
const MaxLedgerHistoryDays = 3650

// Default returns the configuration used for every key the context does
// not set: every Setting's Default, read as if it had been set.
func Default() Config {
	var c Config
	for _, s := range Settings {
		if s.Default == "" {
			continue
		}
		if rule := s.field.set(&c, s.Default); rule != "" {
			panic(fmt.Sprintf("config: the default %q of %s %s", s.Default, s.Key, rule))
		}
	}
	return c
}

// Lookup reads one context value; nil means "not set".
type Lookup func(key string) any

// FromContext reads every key through lookup over the defaults and validates
// the result. The error lists every bad key, one line each.
func FromContext(lookup Lookup) (Config, error) {
	c := Default()
	var errs []error
	for _, s := range Settings {
		v := lookup(s.Key)
		if v == nil {
			continue
		}
		if rule := s.field.set(&c, contextString(v)); rule != "" {
			errs = append(errs, fieldError(s.Key, v, rule))
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

// Validate checks every field, then the rules that tie keys together; the
// error has one line per broken rule.
func (c Config) Validate() error {
	p := problems{bad: map[string]bool{}}
	for _, s := range Settings {
		got, rules := s.field.check(c)
		for _, rule := range rules {
			p.add(s.Key, got, rule)
		}
	}
	for _, check := range crossChecks {
		check(c, &p)
	}
	return errors.Join(p.errs...)
}

// problems collects Validate's errors and the keys they name.
type problems struct {
	errs []error
	bad  map[string]bool
}

func (p *problems) add(key string, got any, rule string) {
	p.errs = append(p.errs, fieldError(key, got, rule))
	p.bad[key] = true
}

func fieldError(key string, got any, rule string) error {
	return fmt.Errorf("config: context key %q = %q %s (set it in cdk.json or with -c %s=...)", key, fmt.Sprint(got), rule, key)
}

// ObjectKeyPrefix is RuleKeyPrefix as S3 stores keys: the rule sees keys
// URL-encoded ("q3+reports/"), IAM resources name them as they are
// ("q3 reports/"); see DecodeEventKeyPrefix.
func (c Config) ObjectKeyPrefix() string { return DecodeEventKeyPrefix(c.RuleKeyPrefix) }

// Sync schedule. The default, 6h: a board that was away is whole again
// within a quarter of a day without a person, while a no-change sync (one
// listing, no request per object) four times a day costs a few ECS tasks
// and ListObjectsV2 pages per board. Not below 15 min: a sync of a large
// prefix to a slow board can take that long, and a schedule faster than
// its syncs only stacks them up behind each other's key locks. Not above
// 7 days: longer than that "level-triggered" no longer guarantees much.
// Whole minutes: a rate expression has no seconds.
const (
	MinSyncEvery = 15 * time.Minute
	MaxSyncEvery = 7 * 24 * time.Hour
	// SyncOff as syncEvery turns the schedule off.
	SyncOff = "off"
)

// DefaultSyncEvery is syncEvery's default (its Setting).
var DefaultSyncEvery = Default().SyncEvery

// Syncs reports whether the schedule runs syncs.
func (c Config) Syncs() bool { return c.SyncEvery != 0 }

// MaxObjectBytes is MaxObjectMiB in bytes.
func (c Config) MaxObjectBytes() int64 { return int64(c.MaxObjectMiB) << 20 }

// EffectiveClusterName is the cluster the pipeline runs tasks on: the
// existing one, or the one the cluster stack creates.
func (c Config) EffectiveClusterName() string {
	if c.ImportsCluster() {
		return c.ExistingClusterName
	}
	return c.ClusterName
}

// ImportsCluster reports whether the pipeline uses an existing cluster.
func (c Config) ImportsCluster() bool { return c.ExistingClusterName != "" }
