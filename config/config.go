// Package config is the one typed place for edge-drop's deploy-time settings.
//
// Values come from CDK context over the defaults in Default(), the one place
// they live (cdk.json holds only CDK's feature flags): set a key in cdk.json's
// "context" or with `cdk synth -c key=value`. Everything is validated before
// a single construct is built, so a bad value fails synth with one line that
// names the context key, what it got and what is allowed.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edge-drop/edge-drop/contract"
)

// Context keys, in the order docs/configuration.md documents them.
const (
	KeyStackPrefix         = "stackPrefix"
	KeyBucketName          = "bucketName"
	KeyExistingBucketName  = "existingBucketName"
	KeyClusterName         = "clusterName"
	KeyExistingClusterName = "existingClusterName"
	KeyKeyPattern          = "keyPattern"
	KeyRuleKeyPrefix       = "ruleKeyPrefix"
	KeyRuleKeySuffix       = "ruleKeySuffix"
	KeyRuleKeyWildcard     = "ruleKeyWildcard"
	KeyDataDir             = "dataDir"
	KeyTaskImage           = "taskImage"
	KeyTaskCPU             = "taskCpu"
	KeyTaskMemoryMiB       = "taskMemoryMiB"
	KeyTaskUser            = "taskUser"
	KeyTaskTimeout         = "taskTimeout"
	KeyMaxObjectMiB        = "maxObjectMiB"
	KeyBoardMaxRate        = "boardMaxRate"
	KeyBoardRateSchedule   = "boardRateSchedule"
	KeyBoardPolicy         = "boardPolicy"
	KeyDeliverTo           = "deliverTo"
	KeyRoutePrefix         = "routePrefix"
	KeyOfflineWait         = "offlineWait"
	KeyMaxBoards           = "maxBoards"
	KeyCoalesceWindow      = "coalesceWindow"
	KeySyncEvery           = "syncEvery"
	KeyMirrorDeletes       = "mirrorDeletes"
	KeyLogRetentionDays    = "logRetentionDays"
	KeyLedgerHistoryDays   = "ledgerHistoryDays"
	KeyRemovalPolicy       = "removalPolicy"
	KeyAlarmEmail          = "alarmEmail"
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

// Config is the whole deploy-time configuration.
type Config struct {
	// StackPrefix names the stacks: <prefix>-Cluster and <prefix>-Pipeline.
	StackPrefix string

	// BucketName names the bucket edge-drop creates ("" lets CloudFormation
	// pick one). ExistingBucketName imports a bucket instead; the two exclude
	// each other.
	BucketName         string
	ExistingBucketName string

	// ClusterName names the ECS Anywhere cluster edge-drop creates;
	// ExistingClusterName imports one instead (the cluster stack is then not
	// created at all).
	ClusterName         string
	ExistingClusterName string

	// KeyPattern is the Choice state's StringMatches pattern (`*` wildcard).
	KeyPattern string

	// RuleKey* put a key filter into the EventBridge rule itself, so that
	// non-matching uploads never start an execution. At most one is set.
	RuleKeyPrefix   string
	RuleKeySuffix   string
	RuleKeyWildcard string

	// DataDir is the host directory (and the container mount point) files
	// land in.
	DataDir string

	// TaskImage is an image URI; "" builds the root Dockerfile for
	// linux/arm64 as a CDK container asset.
	TaskImage string

	TaskCPU       int           // CPU units (1024 = one core)
	TaskMemoryMiB int           // hard memory limit of the container
	TaskUser      string        // uid:gid the container runs as
	TaskTimeout   time.Duration // the Task state's TimeoutSeconds

	// MaxObjectMiB is the largest object delivered to a board: the state
	// machine ends larger ones in TooLarge without starting a task, and the
	// task refuses them before it allocates space.
	MaxObjectMiB int

	// BoardMaxRate caps the bytes per second of each board's downloads
	// ("2MiB"; "" = no cap), BoardRateSchedule is a timetable of caps in
	// the board's local time ("08:00,512KiB 18:00,off"; rclone's --bwlimit
	// format): the task's EDGE_DROP_MAX_RATE and EDGE_DROP_RATE_SCHEDULE,
	// parsed here with the task's own parser (package contract).
	BoardMaxRate      string
	BoardRateSchedule string

	// BoardPolicy is "scoped" (default) or "managed".
	BoardPolicy BoardPolicy

	// DeliverTo says which boards get each file (see Target).
	DeliverTo Target
	// RoutePrefix, when set (e.g. "to/"), routes by key instead:
	// <RoutePrefix><board-or-group>/<path> goes to that board or group and
	// lands as <DataDir>/<path>.
	RoutePrefix string
	// OfflineWait is how long a fleet delivery retries a board that is busy
	// or offline before its outcome is "offline".
	OfflineWait time.Duration
	// MaxBoards is the largest fleet one delivery must reach: 0 (the
	// default) is what one execution serves (constructs/pipeline
	// FleetTiming.MaxFleet); more, up to MaxBoardsLimit, fans out through
	// one child execution per page of boards.
	MaxBoards int
	// CoalesceWindow, when set, batches bursts: events wait in a queue for
	// up to this long, an EventBridge Pipe starts one execution per batch
	// and each board gets one task for all of the batch's keys
	// (constructs/pipeline coalesce.go). 0 = "off" (the default): one
	// execution and one task per board per upload.
	CoalesceWindow time.Duration

	// SyncEvery is how often every board of the target is reconciled with
	// the bucket (the sync state machine on a schedule); 0 = "off": syncs
	// run only on demand (make sync).
	SyncEvery time.Duration
	// MirrorDeletes makes deletes follow the bucket: Object Deleted events
	// remove the delivered file from the boards, and syncs remove
	// delivered files whose objects are gone. Only files this project
	// delivered are ever removed.
	MirrorDeletes bool

	LogRetentionDays int
	// LedgerHistoryDays is how long the ledger keeps history items (its
	// TTL); current items stay.
	LedgerHistoryDays int
	RemovalPolicy     RemovalPolicy

	// AlarmEmail is subscribed to the delivery alarms' topic ("" = no
	// subscription; the topic exists either way).
	AlarmEmail string
}

// MaxLedgerHistoryDays bounds ledgerHistoryDays (ten years).
const MaxLedgerHistoryDays = 3650

// Default returns the configuration used for every key the context does not
// set. docs/configuration.md's table documents it (a test keeps them equal).
func Default() Config {
	return Config{
		StackPrefix:       "EdgeDrop",
		ClusterName:       "edge-drop",
		KeyPattern:        "demo*.txt",
		DataDir:           "/data",
		TaskCPU:           256,
		TaskMemoryMiB:     128,
		TaskUser:          "65532:65532",
		TaskTimeout:       30 * time.Minute,
		MaxObjectMiB:      1024,
		BoardPolicy:       ScopedBoardPolicy,
		DeliverTo:         Target{Kind: TargetAny},
		OfflineWait:       DefaultOfflineWait,
		SyncEvery:         DefaultSyncEvery,
		LogRetentionDays:  30,
		LedgerHistoryDays: 90,
		RemovalPolicy:     Retain,
	}
}

// Lookup reads one context value; nil means "not set".
type Lookup func(key string) any

// FromContext reads every key through lookup over the defaults and validates
// the result. The error lists every bad key, one line each.
func FromContext(lookup Lookup) (Config, error) {
	c := Default()
	var errs []error
	str := func(key string, dst *string) {
		if v := lookup(key); v != nil {
			*dst = strings.TrimSpace(fmt.Sprint(v))
		}
	}
	integer := func(key string, dst *int) {
		v := lookup(key)
		if v == nil {
			return
		}
		// A JSON number (cdk.json) is a float64, which fmt.Sprint writes
		// as 1e+06 from a million up.
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			v = strconv.FormatFloat(f, 'f', -1, 64)
		}
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			errs = append(errs, fieldError(key, v, "must be a whole number"))
			return
		}
		*dst = n
	}
	str(KeyStackPrefix, &c.StackPrefix)
	str(KeyBucketName, &c.BucketName)
	str(KeyExistingBucketName, &c.ExistingBucketName)
	str(KeyClusterName, &c.ClusterName)
	str(KeyExistingClusterName, &c.ExistingClusterName)
	str(KeyKeyPattern, &c.KeyPattern)
	str(KeyRuleKeyPrefix, &c.RuleKeyPrefix)
	str(KeyRuleKeySuffix, &c.RuleKeySuffix)
	str(KeyRuleKeyWildcard, &c.RuleKeyWildcard)
	str(KeyDataDir, &c.DataDir)
	str(KeyTaskImage, &c.TaskImage)
	integer(KeyTaskCPU, &c.TaskCPU)
	integer(KeyTaskMemoryMiB, &c.TaskMemoryMiB)
	str(KeyTaskUser, &c.TaskUser)
	if v := lookup(KeyTaskTimeout); v != nil {
		d, err := time.ParseDuration(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			errs = append(errs, fieldError(KeyTaskTimeout, v, `must be a duration such as "30m" or "2h"`))
		} else {
			c.TaskTimeout = d
		}
	}
	integer(KeyMaxObjectMiB, &c.MaxObjectMiB)
	str(KeyBoardMaxRate, &c.BoardMaxRate)
	str(KeyBoardRateSchedule, &c.BoardRateSchedule)
	var bp string
	str(KeyBoardPolicy, &bp)
	if bp != "" {
		c.BoardPolicy = BoardPolicy(strings.ToLower(bp))
	}
	if v := lookup(KeyDeliverTo); v != nil {
		t, err := ParseTarget(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			errs = append(errs, fieldError(KeyDeliverTo, v, err.Error()))
		} else {
			c.DeliverTo = t
		}
	}
	str(KeyRoutePrefix, &c.RoutePrefix)
	if v := lookup(KeyOfflineWait); v != nil {
		d, err := time.ParseDuration(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			errs = append(errs, fieldError(KeyOfflineWait, v, `must be a duration such as "30m" or "1h"`))
		} else {
			c.OfflineWait = d
		}
	}
	integer(KeyMaxBoards, &c.MaxBoards)
	if v := lookup(KeyCoalesceWindow); v != nil {
		s := strings.TrimSpace(fmt.Sprint(v))
		if d, err := time.ParseDuration(s); err == nil {
			c.CoalesceWindow = d
		} else if strings.EqualFold(s, CoalesceOff) {
			c.CoalesceWindow = 0
		} else {
			errs = append(errs, fieldError(KeyCoalesceWindow, v, `must be a duration such as "10s", or "off" (one execution per upload)`))
		}
	}
	if v := lookup(KeySyncEvery); v != nil {
		s := strings.TrimSpace(fmt.Sprint(v))
		if d, err := time.ParseDuration(s); err == nil {
			c.SyncEvery = d
		} else if strings.EqualFold(s, SyncOff) {
			c.SyncEvery = 0
		} else {
			errs = append(errs, fieldError(KeySyncEvery, v, `must be a duration such as "6h" or "30m", or "off" (syncs on demand only)`))
		}
	}
	if v := lookup(KeyMirrorDeletes); v != nil {
		b, err := strconv.ParseBool(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			errs = append(errs, fieldError(KeyMirrorDeletes, v, `must be "true" (deletes follow the bucket) or "false"`))
		} else {
			c.MirrorDeletes = b
		}
	}
	integer(KeyLogRetentionDays, &c.LogRetentionDays)
	integer(KeyLedgerHistoryDays, &c.LedgerHistoryDays)
	var rp string
	str(KeyRemovalPolicy, &rp)
	if rp != "" {
		c.RemovalPolicy = RemovalPolicy(strings.ToLower(rp))
	}
	str(KeyAlarmEmail, &c.AlarmEmail)
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

var (
	stackPrefixRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)
	bucketRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	clusterRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	taskUserRE    = regexp.MustCompile(`^[0-9]{1,10}(:[0-9]{1,10})?$`)
	imageRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*[a-z0-9]$`)
	// emailRE takes one ordinary address (local part, @, a dotted domain):
	// no display name, no list, nothing SNS would refuse at deploy time.
	emailRE = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
	// Characters S3 leaves as they are in an event's URL-encoded key, so
	// the state machine can match the prefix literally; no '*' or '\',
	// which StringMatches would read as a wildcard or an escape.
	routePrefixRE = regexp.MustCompile(`^([A-Za-z0-9._-]+/){1,8}$`)
)

// RetentionDays are the values CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks every field; the error has one line per bad key.
func (c Config) Validate() error {
	var errs []error
	badKeys := map[string]bool{}
	bad := func(key string, got any, rule string) {
		errs = append(errs, fieldError(key, got, rule))
		badKeys[key] = true
	}

	if !stackPrefixRE.MatchString(c.StackPrefix) {
		bad(KeyStackPrefix, c.StackPrefix, "must start with a letter and hold only letters, digits and '-' (at most 64)")
	}
	if c.BucketName != "" && c.ExistingBucketName != "" {
		bad(KeyExistingBucketName, c.ExistingBucketName, "cannot be set together with bucketName: set one (import) or the other (create)")
	}
	for key, name := range map[string]string{KeyBucketName: c.BucketName, KeyExistingBucketName: c.ExistingBucketName} {
		if name != "" && (!bucketRE.MatchString(name) || strings.Contains(name, "..")) {
			bad(key, name, "must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'")
		}
	}
	if c.ExistingClusterName == "" && !clusterRE.MatchString(c.ClusterName) {
		bad(KeyClusterName, c.ClusterName, "must be 1-255 letters, digits, '-' or '_'")
	}
	if c.ExistingClusterName != "" && !clusterRE.MatchString(c.ExistingClusterName) {
		bad(KeyExistingClusterName, c.ExistingClusterName, "must be 1-255 letters, digits, '-' or '_'")
	}
	if c.KeyPattern == "" || len(c.KeyPattern) > 1024 {
		bad(KeyKeyPattern, c.KeyPattern, "must be a non-empty StringMatches pattern of at most 1024 bytes, e.g. demo*.txt")
	}
	filters := 0
	for _, f := range []string{c.RuleKeyPrefix, c.RuleKeySuffix, c.RuleKeyWildcard} {
		if f != "" {
			filters++
		}
	}
	for _, f := range []struct {
		key, value string
		escapes    bool // `\` escapes a '*' (StringMatches, EventBridge wildcard)
	}{{KeyKeyPattern, c.KeyPattern, true}, {KeyRuleKeyPrefix, c.RuleKeyPrefix, false}, {KeyRuleKeySuffix, c.RuleKeySuffix, false}, {KeyRuleKeyWildcard, c.RuleKeyWildcard, true}} {
		if i := strings.IndexFunc(f.value, func(r rune) bool { return !inEventKey(r) && !(f.escapes && r == '\\') }); i >= 0 {
			r, _ := utf8.DecodeRuneInString(f.value[i:])
			bad(f.key, f.value, fmt.Sprintf("holds %q, which no S3 event key carries: events URL-encode keys (a space is '+', other characters %%XX, e.g. red+flower.jpg, caf%%C3%%A9.txt), so it could never match; write it encoded", r))
		}
	}
	if _, err := url.QueryUnescape(c.RuleKeyPrefix); err != nil {
		bad(KeyRuleKeyPrefix, c.RuleKeyPrefix, "has a '%' that does not start a %XX escape: write it as S3 events encode keys, e.g. 100%25/ for \"100%/\"")
	}
	if filters > 1 {
		bad(KeyRuleKeyPrefix, c.RuleKeyPrefix+"|"+c.RuleKeySuffix+"|"+c.RuleKeyWildcard, "set at most one of ruleKeyPrefix, ruleKeySuffix, ruleKeyWildcard")
	}
	if !path.IsAbs(c.DataDir) || path.Clean(c.DataDir) != c.DataDir || c.DataDir == "/" {
		bad(KeyDataDir, c.DataDir, "must be a clean absolute path other than /, e.g. /data")
	}
	if c.TaskImage != "" && !imageRE.MatchString(c.TaskImage) {
		bad(KeyTaskImage, c.TaskImage, "must be an image URI such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/edge-drop:1.0, or empty to build the Dockerfile")
	}
	if c.TaskCPU < 128 || c.TaskCPU > 4096 {
		bad(KeyTaskCPU, c.TaskCPU, "must be from 128 to 4096 CPU units (1024 = one core; the NanoPi NEO2 has 4)")
	}
	if c.TaskMemoryMiB < 32 || c.TaskMemoryMiB > 448 {
		bad(KeyTaskMemoryMiB, c.TaskMemoryMiB, "must be from 32 to 448 MiB (the board has 512 MB and needs some for the ECS and SSM agents)")
	}
	if !taskUserRE.MatchString(c.TaskUser) || strings.HasPrefix(c.TaskUser, "0:") || c.TaskUser == "0" {
		bad(KeyTaskUser, c.TaskUser, `must be a numeric non-root uid[:gid], e.g. "65532:65532"`)
	}
	if c.TaskTimeout < time.Minute || c.TaskTimeout > 24*time.Hour || c.TaskTimeout%time.Second != 0 {
		bad(KeyTaskTimeout, c.TaskTimeout, "must be whole seconds from 1m to 24h")
	}
	if c.MaxObjectMiB < 1 || c.MaxObjectMiB > MaxObjectMiBLimit {
		bad(KeyMaxObjectMiB, c.MaxObjectMiB, fmt.Sprintf("must be a whole number of MiB from 1 to %d (1 TiB): the largest object a board accepts", MaxObjectMiBLimit))
	}
	if _, err := contract.ParseRate(c.BoardMaxRate); c.BoardMaxRate != "" && err != nil {
		bad(KeyBoardMaxRate, c.BoardMaxRate, "must be a bandwidth per board such as 2MiB or 512KiB (a unit is required), or empty for no cap: "+err.Error())
	}
	if _, err := contract.ParseRateSchedule(c.BoardRateSchedule); err != nil {
		bad(KeyBoardRateSchedule, c.BoardRateSchedule, `must be a timetable such as "08:00,512KiB 18:00,off" (rclone's --bwlimit format, the board's local time), or empty: `+err.Error())
	}
	if c.BoardPolicy != ScopedBoardPolicy && c.BoardPolicy != ManagedBoardPolicy {
		bad(KeyBoardPolicy, c.BoardPolicy, `must be "scoped" (edge-drop's least-privilege policy) or "managed" (AWS's managed policies, the fallback)`)
	}
	if c.RoutePrefix != "" && !routePrefixRE.MatchString(c.RoutePrefix) {
		bad(KeyRoutePrefix, c.RoutePrefix, "must be empty (no routing by key) or path components of letters, digits, '.', '-' or '_', each ending in '/', e.g. to/")
	}
	if c.RoutePrefix != "" && routePrefixRE.MatchString(c.RoutePrefix) && !strings.HasPrefix(c.KeyPattern, "*") && !strings.HasPrefix(c.KeyPattern, c.RoutePrefix) {
		bad(KeyKeyPattern, c.KeyPattern, "matches no routed key: with routePrefix="+c.RoutePrefix+" it must start with "+c.RoutePrefix+", e.g. "+c.RoutePrefix+"*")
	}
	errs = append(errs, c.prefixesAgree(badKeys)...)
	if c.RoutePrefix != "" && c.DeliverTo.Kind != TargetAny {
		bad(KeyRoutePrefix, c.RoutePrefix, "cannot be set together with deliverTo="+c.DeliverTo.String()+": the key names the target; unset one of them")
	}
	if c.MaxBoards < 0 || c.MaxBoards > MaxBoardsLimit {
		bad(KeyMaxBoards, c.MaxBoards, fmt.Sprintf("must be a whole number of boards from 0 (what one execution serves) to %d", MaxBoardsLimit))
	}
	c.checkCoalesce(bad)
	if c.OfflineWait < MinOfflineWait || c.OfflineWait > MaxOfflineWait || c.OfflineWait%time.Second != 0 {
		bad(KeyOfflineWait, c.OfflineWait, fmt.Sprintf("must be whole seconds from %s to %s: how long an offline board is retried", MinOfflineWait, MaxOfflineWait))
	}
	if c.SyncEvery != 0 && (c.SyncEvery < MinSyncEvery || c.SyncEvery > MaxSyncEvery || c.SyncEvery%time.Minute != 0) {
		bad(KeySyncEvery, c.SyncEvery, fmt.Sprintf(`must be whole minutes from %s to %s, or "off": how often every board is reconciled with the bucket`, MinSyncEvery, MaxSyncEvery))
	}
	if !slices.Contains(RetentionDays, c.LogRetentionDays) {
		bad(KeyLogRetentionDays, c.LogRetentionDays, fmt.Sprintf("must be one of %v", RetentionDays))
	}
	if c.LedgerHistoryDays < 1 || c.LedgerHistoryDays > MaxLedgerHistoryDays {
		bad(KeyLedgerHistoryDays, c.LedgerHistoryDays, fmt.Sprintf("must be whole days from 1 to %d: how long the ledger keeps each outcome's history", MaxLedgerHistoryDays))
	}
	if c.RemovalPolicy != Retain && c.RemovalPolicy != Destroy {
		bad(KeyRemovalPolicy, c.RemovalPolicy, `must be "retain" or "destroy"`)
	}
	if c.AlarmEmail != "" && (len(c.AlarmEmail) > 254 || !emailRE.MatchString(c.AlarmEmail)) {
		bad(KeyAlarmEmail, c.AlarmEmail, "must be one e-mail address such as ops@example.com (or empty for no subscription)")
	}
	return errors.Join(errs...)
}

// prefixesAgree: every delivered key starts with the literal start of
// ruleKeyPrefix, keyPattern, ruleKeyWildcard and routePrefix (decoded), so
// two of them of which neither starts the other deliver nothing at all.
// Keys already found bad are not compared.
func (c Config) prefixesAgree(badKeys map[string]bool) []error {
	keys := []string{KeyRuleKeyPrefix, KeyKeyPattern, KeyRuleKeyWildcard, KeyRoutePrefix}
	values := []string{c.RuleKeyPrefix, c.KeyPattern, c.RuleKeyWildcard, c.RoutePrefix}
	prefixes := c.prefixes()
	var errs []error
	for i := range prefixes {
		for j := i + 1; j < len(prefixes); j++ {
			a, b := prefixes[i], prefixes[j]
			if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) || badKeys[keys[i]] || badKeys[keys[j]] ||
				keys[i] == KeyKeyPattern && keys[j] == KeyRoutePrefix { // its own message above
				continue
			}
			errs = append(errs, fieldError(keys[j], values[j], fmt.Sprintf(
				"matches no key that %s=%s matches (every delivered key would start with both %q and %q), so no upload would ever be delivered: make one start with the other", keys[i], values[i], a, b)))
		}
	}
	return errs
}

// inEventKey reports whether r can appear in an object key as S3 events
// (and so the rule and the Choice state) see it: letters, digits, the
// characters S3 leaves unencoded, '+' (a space) and '%' (of %XX).
func inEventKey(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".-*_/+%", r)
}

func fieldError(key string, got any, rule string) error {
	return fmt.Errorf("config: context key %q = %q %s (set it in cdk.json or with -c %s=...)", key, fmt.Sprint(got), rule, key)
}

// ObjectKeyPrefix is RuleKeyPrefix as S3 stores keys: the rule sees keys
// URL-encoded ("q3+reports/"), IAM resources name them as they are
// ("q3 reports/"); see DecodeEventKeyPrefix.
func (c Config) ObjectKeyPrefix() string { return DecodeEventKeyPrefix(c.RuleKeyPrefix) }

// Sync schedule. 6 h: a board that was away is whole again within a
// quarter of a day without a person, while a no-change sync (one listing,
// no request per object) four times a day costs a few ECS tasks and
// ListObjectsV2 pages per board. Not below 15 min: a sync of a large
// prefix to a slow board can take that long, and a schedule faster than
// its syncs only stacks them up behind each other's key locks. Not above
// 7 days: longer than that "level-triggered" no longer guarantees much.
// Whole minutes: a rate expression has no seconds.
const (
	DefaultSyncEvery = 6 * time.Hour
	MinSyncEvery     = 15 * time.Minute
	MaxSyncEvery     = 7 * 24 * time.Hour
	// SyncOff as syncEvery turns the schedule off.
	SyncOff = "off"
)

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
