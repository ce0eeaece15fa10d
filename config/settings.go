package config

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

// Context keys: the names Settings reads and the rest of the app refers to.
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

// Setting is one context key: the Config field it sets, how a context
// value is read and what the field must hold (field), its default and what
// it means. Rules that tie two keys together are Validate's crossChecks.
type Setting struct {
	Key string
	// Default is the value as one writes it in cdk.json; "" = none (the
	// field's zero value). Default() is every Default, read as if set.
	Default string
	// Unset is the docs' default cell when Default is "": what happens
	// instead, e.g. "(generated)"; "" leaves the cell empty.
	Unset string
	// Doc says what the key means and allows (Markdown): its row of
	// docs/configuration.md's table.
	Doc   string
	field value
}

// Settings is every context key, in docs/configuration.md's order:
// FromContext reads them, Validate checks them, Keys lists them and
// Markdown writes the docs' table from them.
var Settings = []Setting{
	{Key: KeyStackPrefix, Default: "EdgeDrop",
		Doc:   "stack names `<prefix>-Cluster`, `<prefix>-Pipeline`; a letter, then letters, digits, `-`",
		field: text(func(c *Config) *string { return &c.StackPrefix }, matching(stackPrefixRE, "must start with a letter and hold only letters, digits and '-' (at most 64)"))},
	{Key: KeyBucketName, Unset: "(generated)",
		Doc:   "name of the bucket to create; S3 naming rules",
		field: text(func(c *Config) *string { return &c.BucketName }, optional(bucketName))},
	{Key: KeyExistingBucketName,
		Doc:   "use this bucket instead (EventBridge notifications are turned on for it, its other notifications kept); excludes `bucketName`",
		field: text(func(c *Config) *string { return &c.ExistingBucketName }, optional(bucketName))},
	{Key: KeyClusterName, Default: "edge-drop",
		Doc:   "name of the ECS Anywhere cluster to create",
		field: text(func(c *Config) *string { return &c.ClusterName })}, // checked by createdClusterName
	{Key: KeyExistingClusterName,
		Doc:   "use this cluster; the cluster stack is not created",
		field: text(func(c *Config) *string { return &c.ExistingClusterName }, optional(matching(clusterRE, clusterRule)))},
	{Key: KeyKeyPattern, Default: "demo*.txt",
		Doc:   "the Choice state's `StringMatches` pattern (`*` matches anything, `/` included)",
		field: text(func(c *Config) *string { return &c.KeyPattern }, keyPattern, inEventKeys(true))},
	{Key: KeyRuleKeyPrefix,
		Doc:   "filter in the rule's event pattern (`prefix`), written as events encode keys (`q3+reports/` for `q3 reports/`); also narrows the task's `s3:GetObject` to the prefix (decoded)",
		field: text(func(c *Config) *string { return &c.RuleKeyPrefix }, inEventKeys(false), percentEscapes)},
	{Key: KeyRuleKeySuffix,
		Doc:   "filter in the rule's event pattern (`suffix`); at most one of the three",
		field: text(func(c *Config) *string { return &c.RuleKeySuffix }, inEventKeys(false))},
	{Key: KeyRuleKeyWildcard,
		Doc:   "filter in the rule's event pattern (`wildcard`)",
		field: text(func(c *Config) *string { return &c.RuleKeyWildcard }, inEventKeys(true))},
	{Key: KeyDataDir, Default: "/data",
		Doc:   "host directory on the board, mounted at the same path in the container",
		field: text(func(c *Config) *string { return &c.DataDir }, dataDir)},
	{Key: KeyTaskImage, Unset: "(build)",
		Doc:   "image URI; empty builds the root `Dockerfile` for linux/arm64 as a CDK container asset",
		field: text(func(c *Config) *string { return &c.TaskImage }, optional(matching(imageRE, "must be an image URI such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/edge-drop:1.0, or empty to build the Dockerfile")))},
	{Key: KeyTaskCPU, Default: "256",
		Doc:   "CPU units, 128–4096",
		field: number(func(c *Config) *int { return &c.TaskCPU }, within(128, 4096, "must be from 128 to 4096 CPU units (1024 = one core; the NanoPi NEO2 has 4)"))},
	{Key: KeyTaskMemoryMiB, Default: "128",
		Doc:   "hard memory limit, 32–448",
		field: number(func(c *Config) *int { return &c.TaskMemoryMiB }, within(32, 448, "must be from 32 to 448 MiB (the board has 512 MB and needs some for the ECS and SSM agents)"))},
	{Key: KeyTaskUser, Default: "65532:65532",
		Doc:   "numeric non-root `uid[:gid]` the container runs as",
		field: text(func(c *Config) *string { return &c.TaskUser }, nonRootUser)},
	{Key: KeyTaskTimeout, Default: "30m",
		Doc:   "the task state's `TimeoutSeconds`, 1m–24h; the execution's timeout is derived from it (below)",
		field: duration(func(c *Config) *time.Duration { return &c.TaskTimeout }, `must be a duration such as "30m" or "2h"`, "", whole(time.Second, time.Minute, 24*time.Hour, "must be whole seconds from 1m to 24h"))},
	{Key: KeyMaxObjectMiB, Default: "1024",
		Doc:   "largest object delivered, 1–1048576 MiB; larger uploads end in `TooLarge` before anything runs on the board, and the task checks it again (`EDGE_DROP_MAX_BYTES`) before it allocates space",
		field: number(func(c *Config) *int { return &c.MaxObjectMiB }, within(1, MaxObjectMiBLimit, fmt.Sprintf("must be a whole number of MiB from 1 to %d (1 TiB): the largest object a board accepts", MaxObjectMiBLimit)))},
	{Key: KeyBoardMaxRate,
		Doc:   "the most bytes per second each board's downloads take together (`2MiB`, `512KiB`; a unit is required), its syncs included; empty: no cap (`EDGE_DROP_MAX_RATE`)",
		field: text(func(c *Config) *string { return &c.BoardMaxRate }, optional(rate))},
	{Key: KeyBoardRateSchedule,
		Doc:   "caps by time of day in each board's local time, rclone's `--bwlimit` format: `08:00,512KiB 18:00,off`, or with days, `Mon-08:00,1MiB Sat-00:00,off`; with `boardMaxRate` the lower cap applies; the task reads the board's `/etc/localtime`, mounted read-only (`EDGE_DROP_RATE_SCHEDULE`)",
		field: text(func(c *Config) *string { return &c.BoardRateSchedule }, rateSchedule)},
	{Key: KeyBoardPolicy, Default: string(ScopedBoardPolicy),
		Doc:   "the boards' role: `scoped` (edge-drop's least-privilege policy) or `managed` (AWS's two managed policies, the fallback; see [security](security.md))",
		field: choice(func(c *Config) *BoardPolicy { return &c.BoardPolicy }, `must be "scoped" (edge-drop's least-privilege policy) or "managed" (AWS's managed policies, the fallback)`, ScopedBoardPolicy, ManagedBoardPolicy)},
	{Key: KeyDeliverTo, Default: string(TargetAny),
		Doc:   "which boards get each file: `any` (one board ECS picks, the single-board pipeline), `board:<name>`, `group:<name>` or `all`; names follow the board name rule (see [fleet](fleet.md))",
		field: parsed(func(c *Config) *Target { return &c.DeliverTo }, ParseTarget)},
	{Key: KeyRoutePrefix,
		Doc:   "routing by key, e.g. `to/`: `to/<board-or-group>/<path>` goes to that board or group and lands as `<dataDir>/<path>`; components of letters, digits, `.`, `-`, `_`, each ending in `/`; excludes `deliverTo`; `keyPattern` must start with it (e.g. `to/*`)",
		field: text(func(c *Config) *string { return &c.RoutePrefix }, optional(matching(routePrefixRE, "must be empty (no routing by key) or path components of letters, digits, '.', '-' or '_', each ending in '/', e.g. to/")))},
	{Key: KeyOfflineWait, Default: "30m", // see MinOfflineWait
		Doc:   "fleet targets: how long a busy or offline board is retried before its outcome is `offline`, a guarantee (a board back at any time within it gets the file), 1m–2h (bounded by the execution history, see [fleet](fleet.md))",
		field: duration(func(c *Config) *time.Duration { return &c.OfflineWait }, `must be a duration such as "30m" or "1h"`, "", whole(time.Second, MinOfflineWait, MaxOfflineWait, fmt.Sprintf("must be whole seconds from %s to %s: how long an offline board is retried", MinOfflineWait, MaxOfflineWait)))},
	{Key: KeyMaxBoards, Default: "0",
		Doc:   "fleet targets: the largest fleet one delivery must reach, 0-10,000; `0` is what one execution serves (261 boards with the defaults, see [fleet](fleet.md)); more fans out through one child execution per page of 100 boards ([scale](scale.md))",
		field: number(func(c *Config) *int { return &c.MaxBoards }, within(0, MaxBoardsLimit, fmt.Sprintf("must be a whole number of boards from 0 (what one execution serves) to %d", MaxBoardsLimit)))},
	{Key: KeyCoalesceWindow, Default: CoalesceOff,
		Doc: "batch bursts: `off` (one execution and one task per board per upload) or whole seconds from `1s` to `300s`: events wait in an encrypted SQS queue and an EventBridge Pipe starts one execution per batch (up to 40 events, or the window), each board gets one task for all of the batch's keys (`EDGE_DROP_KEYS`), the newest event of each key; not with `routePrefix`, `maxBoards` or (`deliverTo=any` with `mirrorDeletes`) yet; a batch's execution may run 40 deliveries one after another (52 days for a fleet with the defaults), so timings that would pass Step Functions' year are a config error; see [scale](scale.md#bursts-coalesce)",
		field: duration(func(c *Config) *time.Duration { return &c.CoalesceWindow }, `must be a duration such as "10s", or "off" (one execution per upload)`, CoalesceOff,
			optional(whole(time.Second, MinCoalesceWindow, MaxCoalesceWindow, fmt.Sprintf(`must be whole seconds from %s to %s (EventBridge Pipes waits at most 5 minutes for a batch), or "off"`, MinCoalesceWindow, MaxCoalesceWindow))))},
	{Key: KeySyncEvery, Default: "6h", // see MinSyncEvery
		Doc: "how often every board of the target is reconciled with the bucket (the sync state machine on a schedule rule), whole minutes from 15m to 7d (`168h`), or `off` (no schedule; `make sync` still works when `mirrorDeletes=true`, and with both off there is no sync at all); see [sync and deletes](sync-and-deletes.md)",
		field: duration(func(c *Config) *time.Duration { return &c.SyncEvery }, `must be a duration such as "6h" or "30m", or "off" (syncs on demand only)`, SyncOff,
			optional(whole(time.Minute, MinSyncEvery, MaxSyncEvery, fmt.Sprintf(`must be whole minutes from %s to %s, or "off": how often every board is reconciled with the bucket`, MinSyncEvery, MaxSyncEvery))))},
	{Key: KeyMirrorDeletes, Default: "false",
		Doc:   "`true`: deletes follow the bucket (Object Deleted events remove the delivered file from the boards; syncs remove delivered files whose objects are gone); only files edge-drop delivered are ever removed",
		field: boolean(func(c *Config) *bool { return &c.MirrorDeletes }, `must be "true" (deletes follow the bucket) or "false"`)},
	{Key: KeyLogRetentionDays, Default: "30",
		Doc:   "a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, …, 3653)",
		field: number(func(c *Config) *int { return &c.LogRetentionDays }, oneOf(RetentionDays...))},
	{Key: KeyLedgerHistoryDays, Default: "90",
		Doc:   "how long the delivery ledger keeps each outcome's history item (DynamoDB TTL on `expiresAt`), 1–3650; every board's current item per object stays",
		field: number(func(c *Config) *int { return &c.LedgerHistoryDays }, within(1, MaxLedgerHistoryDays, fmt.Sprintf("must be whole days from 1 to %d: how long the ledger keeps each outcome's history", MaxLedgerHistoryDays)))},
	{Key: KeyRemovalPolicy, Default: string(Retain),
		Doc:   "`retain` or `destroy`: bucket, log groups, the ledger table and the alarm topic's KMS key on `cdk destroy`",
		field: choice(func(c *Config) *RemovalPolicy { return &c.RemovalPolicy }, `must be "retain" or "destroy"`, Retain, Destroy)},
	{Key: KeyAlarmEmail,
		Doc:   "one e-mail address subscribed to the alarm topic (SNS mails a confirmation link first); empty: subscribe yourself to `AlarmTopicArn`",
		field: text(func(c *Config) *string { return &c.AlarmEmail }, optional(email))},
}

// Keys lists every context key the configuration reads, in
// docs/configuration.md's order.
func Keys() []string {
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	return keys
}

// Markdown is docs/configuration.md's table, one row per setting.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| key | default | allowed / meaning |\n|---|---|---|\n")
	for _, s := range Settings {
		def := s.Unset
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		row := "| `" + s.Key + "` | " + def + " | " + s.Doc + " |"
		b.WriteString(strings.Replace(row, "|  |", "| |", 1) + "\n")
	}
	return b.String()
}

// The per-key rules: each returns what a value breaks, or "".

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

const clusterRule = "must be 1-255 letters, digits, '-' or '_'"

func bucketName(name string) string {
	if !bucketRE.MatchString(name) || strings.Contains(name, "..") {
		return "must be a valid S3 bucket name: 3-63 lowercase letters, digits, '.' or '-'"
	}
	return ""
}

func keyPattern(p string) string {
	if p == "" || len(p) > 1024 {
		return "must be a non-empty StringMatches pattern of at most 1024 bytes, e.g. demo*.txt"
	}
	return ""
}

// percentEscapes: the prefix is compared literally with the encoded key,
// so each '%' must start an escape.
func percentEscapes(p string) string {
	if _, err := url.QueryUnescape(p); err != nil {
		return "has a '%' that does not start a %XX escape: write it as S3 events encode keys, e.g. 100%25/ for \"100%/\""
	}
	return ""
}

func dataDir(dir string) string {
	if !path.IsAbs(dir) || path.Clean(dir) != dir || dir == "/" {
		return "must be a clean absolute path other than /, e.g. /data"
	}
	return ""
}

func nonRootUser(u string) string {
	if !taskUserRE.MatchString(u) || strings.HasPrefix(u, "0:") || u == "0" {
		return `must be a numeric non-root uid[:gid], e.g. "65532:65532"`
	}
	return ""
}

// rate and rateSchedule are read with the task's own parsers (package
// contract), so what synth accepts the board accepts.
func rate(r string) string {
	if _, err := contract.ParseRate(r); err != nil {
		return "must be a bandwidth per board such as 2MiB or 512KiB (a unit is required), or empty for no cap: " + err.Error()
	}
	return ""
}

func rateSchedule(s string) string {
	if _, err := contract.ParseRateSchedule(s); err != nil {
		return `must be a timetable such as "08:00,512KiB 18:00,off" (rclone's --bwlimit format, the board's local time), or empty: ` + err.Error()
	}
	return ""
}

func email(addr string) string {
	if len(addr) > 254 || !emailRE.MatchString(addr) {
		return "must be one e-mail address such as ops@example.com (or empty for no subscription)"
	}
	return ""
}
