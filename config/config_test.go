package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func lookupFrom(m map[string]any) Lookup {
	return func(key string) any { return m[key] }
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := FromContext(lookupFrom(nil))
	if err != nil {
		t.Fatalf("defaults must validate: %v", err)
	}
	if c != Default() {
		t.Fatalf("empty context must give the defaults, got %+v", c)
	}
	if c.KeyPattern != "demo*.txt" || c.DataDir != "/data" || c.RemovalPolicy != Retain || c.TaskTimeout != 30*time.Minute {
		t.Fatalf("unexpected defaults %+v", c)
	}
}

func TestOverridesFromContextStrings(t *testing.T) {
	// -c key=value always arrives as a string; cdk.json may give numbers.
	c, err := FromContext(lookupFrom(map[string]any{
		KeyKeyPattern:         "report*.csv",
		KeyTaskMemoryMiB:      "256",
		KeyTaskCPU:            float64(512),
		KeyTaskTimeout:        "2h",
		KeyLogRetentionDays:   "90",
		KeyRemovalPolicy:      "DESTROY",
		KeyExistingBucketName: "my-landing-bucket",
		KeyRuleKeyPrefix:      "reports/",
		KeyAlarmEmail:         " ops+edge-drop@example.co.uk ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.KeyPattern, want.TaskMemoryMiB, want.TaskCPU = "report*.csv", 256, 512
	want.TaskTimeout, want.LogRetentionDays, want.RemovalPolicy = 2*time.Hour, 90, Destroy
	want.ExistingBucketName, want.RuleKeyPrefix = "my-landing-bucket", "reports/"
	want.AlarmEmail = "ops+edge-drop@example.co.uk"
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if c.ImportsCluster() {
		t.Fatal("no existingClusterName, yet ImportsCluster")
	}
}

// cdk.json's numbers arrive as float64, which fmt prints in exponent form
// from a million up (1e+06): the largest maxObjectMiB must still read.
func TestLargeNumbersFromCDKJSON(t *testing.T) {
	c, err := FromContext(lookupFrom(map[string]any{KeyMaxObjectMiB: float64(MaxObjectMiBLimit)}))
	if err != nil || c.MaxObjectMiB != MaxObjectMiBLimit {
		t.Fatalf("maxObjectMiB %d from cdk.json: got %d, %v", MaxObjectMiBLimit, c.MaxObjectMiB, err)
	}
	for _, v := range []any{float64(1.5), float64(1e300)} {
		if _, err := FromContext(lookupFrom(map[string]any{KeyMaxObjectMiB: v})); err == nil || !strings.Contains(err.Error(), "must be a whole number") {
			t.Errorf("maxObjectMiB %v: want a whole-number error, got %v", v, err)
		}
	}
}

func TestFiltersInEventEncoding(t *testing.T) {
	for _, c := range []map[string]any{
		{KeyKeyPattern: "red+flower*.jpg"},
		{KeyKeyPattern: `caf%C3%A9/a\*b*`},
		{KeyRuleKeyPrefix: "dt%3D2018-05-04/", KeyKeyPattern: "*"},
		{KeyRuleKeyWildcard: "in/*/x_y.csv", KeyKeyPattern: "in/*"},
	} {
		if _, err := FromContext(lookupFrom(c)); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	cases := []struct {
		key   string
		value any
		want  string
	}{
		{KeyStackPrefix, "1bad", "must start with a letter"},
		{KeyBucketName, "Bad_Bucket", "valid S3 bucket name"},
		{KeyExistingBucketName, "a..b", "valid S3 bucket name"},
		{KeyClusterName, "has space", "letters, digits"},
		{KeyExistingClusterName, "x/y", "letters, digits"},
		{KeyKeyPattern, "", "non-empty"},
		// Filters see the key as S3 events encode it: a space or an é
		// never appears there, so such a filter never matches.
		{KeyKeyPattern, "my report*.csv", `holds ' ', which no S3 event key carries: events URL-encode keys (a space is '+', other characters %XX, e.g. red+flower.jpg, caf%C3%A9.txt), so it could never match; write it encoded`},
		{KeyRuleKeyPrefix, "données/", `holds 'é', which no S3 event key carries`},
		{KeyRuleKeyPrefix, "100%/", "does not start a %XX escape"},
		{KeyRuleKeySuffix, `\.csv`, `holds '\\', which no S3 event key carries`},
		{KeyDataDir, "data", "clean absolute path"},
		{KeyDataDir, "/", "clean absolute path"},
		{KeyDataDir, "/data/../etc", "clean absolute path"},
		{KeyTaskImage, "Not An Image", "image URI"},
		{KeyTaskCPU, "lots", "whole number"},
		{KeyTaskCPU, "8192", "128 to 4096"},
		{KeyTaskMemoryMiB, "1024", "32 to 448"},
		{KeyTaskUser, "root", "non-root"},
		{KeyTaskUser, "0:0", "non-root"},
		{KeyTaskTimeout, "forever", "duration"},
		{KeyTaskTimeout, "10s", "1m to 24h"},
		{KeyLogRetentionDays, "8", "must be one of"},
		{KeyRemovalPolicy, "snapshot", `"retain" or "destroy"`},
		{KeyMaxObjectMiB, "0", "from 1 to 1048576"},
		{KeyMaxObjectMiB, "-5", "from 1 to 1048576"},
		{KeyMaxObjectMiB, "1048577", "from 1 to 1048576"},
		{KeyMaxObjectMiB, "1.5", "whole number"},
		{KeyBoardMaxRate, "2", `must be a bandwidth per board such as 2MiB or 512KiB (a unit is required), or empty for no cap: "2" has no unit`},
		{KeyBoardMaxRate, "fast", "is not a rate"},
		{KeyBoardRateSchedule, "8:00,1MiB", `must be a timetable such as "08:00,512KiB 18:00,off" (rclone's --bwlimit format, the board's local time), or empty: "8:00,1MiB": "8:00" is not a time of day`},
		{KeyBoardRateSchedule, "08:00,512", `"512" has no unit`},
		{KeyBoardPolicy, "wide", `"scoped"`},
		{KeyAlarmEmail, "ops", "one e-mail address"},
		{KeyAlarmEmail, "ops@localhost", "one e-mail address"},
		{KeyAlarmEmail, "a@example.com,b@example.com", "one e-mail address"},
		{KeyAlarmEmail, "Ops <ops@example.com>", "one e-mail address"},
		{KeyAlarmEmail, "ops@example..com", "one e-mail address"},
		{KeyAlarmEmail, "ops@-example.com", "one e-mail address"},
		{KeyDeliverTo, "everyone", `"any", "board:<name>", "group:<name>" or "all"`},
		{KeyDeliverTo, "board:", "bad board name"},
		{KeyDeliverTo, "group:site 1", "bad group name"},
		{KeyDeliverTo, "board:shop-1' or attribute:x exists", "bad board name"},
		{KeyDeliverTo, "group:-site", "starting with a letter or digit"},
		{KeyDeliverTo, "all:site1", `"all"`},
		{KeyRoutePrefix, "to", "each ending in '/'"},
		{KeyRoutePrefix, "/to/", "each ending in '/'"},
		{KeyRoutePrefix, "to*/", "each ending in '/'"},
		{KeyRoutePrefix, "a b/", "each ending in '/'"},
		{KeyMaxBoards, "-1", "from 0"},
		{KeyMaxBoards, "10001", "to 10000"},
		{KeyMaxBoards, "many", "number"},
		{KeyOfflineWait, "soon", "duration"},
		{KeyOfflineWait, "30s", "from 1m0s to 2h0m0s"},
		{KeyOfflineWait, "3h", "from 1m0s to 2h0m0s"},
		{KeyOfflineWait, "90500ms", "whole seconds"},
		{KeySyncEvery, "daily", `or "off"`},
		{KeySyncEvery, "never", `or "off"`},
		{KeySyncEvery, "10m", "from 15m0s to 168h0m0s"},
		{KeySyncEvery, "169h", "from 15m0s to 168h0m0s"},
		{KeySyncEvery, "-6h", "from 15m0s to 168h0m0s"},
		{KeySyncEvery, "90m30s", "whole minutes"},
		{KeyMirrorDeletes, "yes", `"true"`},
		{KeyMirrorDeletes, "", `"true"`},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value.(string), func(t *testing.T) {
			_, err := FromContext(lookupFrom(map[string]any{tc.key: tc.value}))
			if err == nil {
				t.Fatalf("want an error for %s=%v", tc.key, tc.value)
			}
			msg := err.Error()
			if strings.Count(msg, "\n") != 0 {
				t.Fatalf("want one line, got %q", msg)
			}
			if !strings.Contains(msg, `"`+tc.key+`"`) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "-c "+tc.key+"=") {
				t.Fatalf("error %q must name the key, the rule (%q) and the fix", msg, tc.want)
			}
		})
	}
}

// The board's bandwidth budget passes through as the task will read it
// (the task's own parser, package contract, checks it here).
func TestBoardBandwidth(t *testing.T) {
	c, err := FromContext(lookupFrom(map[string]any{KeyBoardMaxRate: " 2MiB ", KeyBoardRateSchedule: "08:00,512KiB 18:00,off"}))
	if err != nil || c.BoardMaxRate != "2MiB" || c.BoardRateSchedule != "08:00,512KiB 18:00,off" {
		t.Fatalf("got %q %q, %v", c.BoardMaxRate, c.BoardRateSchedule, err)
	}
	if d := Default(); d.BoardMaxRate != "" || d.BoardRateSchedule != "" {
		t.Fatalf("bandwidth is capped by default: %+v", d)
	}
}

func TestMaxObjectAndBoardPolicy(t *testing.T) {
	c, err := FromContext(lookupFrom(map[string]any{KeyMaxObjectMiB: "3", KeyBoardPolicy: "Managed"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxObjectMiB != 3 || c.MaxObjectBytes() != 3<<20 || c.BoardPolicy != ManagedBoardPolicy {
		t.Fatalf("got %+v", c)
	}
	if d := Default(); d.BoardPolicy != ScopedBoardPolicy || d.MaxObjectBytes() != 1<<30 {
		t.Fatalf("defaults: scoped policy and 1 GiB, got %+v", d)
	}
	if c, err := FromContext(lookupFrom(map[string]any{KeyMaxObjectMiB: MaxObjectMiBLimit})); err != nil || c.MaxObjectBytes() != 1<<40 {
		t.Fatalf("the limit itself is allowed: %v %v", c.MaxObjectBytes(), err)
	}
}

func TestConflictingSettings(t *testing.T) {
	_, err := FromContext(lookupFrom(map[string]any{KeyBucketName: "new-bucket", KeyExistingBucketName: "old-bucket"}))
	if err == nil || !strings.Contains(err.Error(), "cannot be set together") {
		t.Fatalf("bucketName with existingBucketName: got %v", err)
	}
	_, err = FromContext(lookupFrom(map[string]any{KeyRuleKeyPrefix: "a/", KeyRuleKeySuffix: ".txt"}))
	if err == nil || !strings.Contains(err.Error(), "at most one") {
		t.Fatalf("two rule filters: got %v", err)
	}
}

func TestEveryBadKeyIsReported(t *testing.T) {
	_, err := FromContext(lookupFrom(map[string]any{KeyTaskMemoryMiB: "4096", KeyRemovalPolicy: "maybe"}))
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("want two lines, one per bad key, got %v", err)
	}
}

// TestREADMEDocumentsEveryKeyWithItsDefault keeps README's configuration
// table and the code in step: the same keys in the same order, and each
// documented default, set explicitly, gives exactly Default().
func TestREADMEDocumentsEveryKeyWithItsDefault(t *testing.T) {
	raw, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	defaults := map[string]string{}
	inTable := false
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "| key | default |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			key := strings.Trim(strings.TrimSpace(cells[1]), "`")
			value := strings.TrimSpace(cells[2])
			if strings.HasPrefix(value, "(") { // (generated), (build): nothing set
				value = ""
			}
			documented = append(documented, key)
			defaults[key] = strings.Trim(value, "`")
		case inTable && !strings.HasPrefix(line, "|"):
			inTable = false
		}
	}

	var read []string
	if _, err := FromContext(func(key string) any { read = append(read, key); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(documented, " ") != strings.Join(read, " ") {
		t.Fatalf("docs/configuration.md's table lists\n  %v\nbut FromContext reads\n  %v", documented, read)
	}
	for _, key := range documented {
		c, err := FromContext(lookupFrom(map[string]any{key: defaults[key]}))
		if err != nil || c != Default() {
			t.Errorf("docs/configuration.md says %s defaults to %q, but setting that gives %+v, %v (Default() is %+v)", key, defaults[key], c, err, Default())
		}
	}
}

func TestSyncSettings(t *testing.T) {
	for _, tc := range []struct {
		every   any
		mirror  any
		want    time.Duration
		mirror2 bool
	}{
		{"off", nil, 0, false},
		{" OFF ", "true", 0, true},
		{"15m", true, 15 * time.Minute, true},
		{"168h", "false", 7 * 24 * time.Hour, false},
		{"1h30m", "1", 90 * time.Minute, true},
	} {
		c, err := FromContext(lookupFrom(map[string]any{KeySyncEvery: tc.every, KeyMirrorDeletes: tc.mirror}))
		if err != nil {
			t.Fatalf("%v/%v: %v", tc.every, tc.mirror, err)
		}
		if c.SyncEvery != tc.want || c.MirrorDeletes != tc.mirror2 || c.Syncs() != (tc.want != 0) {
			t.Errorf("%v/%v: got %s, %v", tc.every, tc.mirror, c.SyncEvery, c.MirrorDeletes)
		}
	}
	if d := Default(); d.SyncEvery != 6*time.Hour || d.MirrorDeletes {
		t.Fatalf("defaults: sync every %s, mirror %v", d.SyncEvery, d.MirrorDeletes)
	}
}

func TestFleetTargets(t *testing.T) {
	for in, want := range map[string]Target{
		"any": {Kind: TargetAny}, "all": {Kind: TargetAll},
		"board:shop-1": {Kind: TargetBoard, Name: "shop-1"}, "group:site_1": {Kind: TargetGroup, Name: "site_1"},
	} {
		c, err := FromContext(lookupFrom(map[string]any{KeyDeliverTo: in}))
		if err != nil || c.DeliverTo != want || c.DeliverTo.String() != in {
			t.Errorf("deliverTo=%s: got %+v (%q), %v", in, c.DeliverTo, c.DeliverTo.String(), err)
		}
	}
	if d := Default(); d.DeliverTo.Kind != TargetAny || d.RoutePrefix != "" || d.OfflineWait != 30*time.Minute {
		t.Errorf("defaults: deliverTo any, no routing, 30m offlineWait; got %+v", d)
	}
	c, err := FromContext(lookupFrom(map[string]any{KeyRoutePrefix: "drop/to/", KeyKeyPattern: "drop/to/*", KeyOfflineWait: "1h"}))
	if err != nil || c.RoutePrefix != "drop/to/" || c.OfflineWait != time.Hour {
		t.Errorf("routePrefix: got %+v, %v", c, err)
	}
}

func TestRoutingConflicts(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]any
		want string
	}{
		// The default keyPattern (demo*.txt) would skip every routed key.
		{map[string]any{KeyRoutePrefix: "to/"}, `"keyPattern" = "demo*.txt" matches no routed key: with routePrefix=to/ it must start with to/`},
		{map[string]any{KeyRoutePrefix: "to/", KeyKeyPattern: "*", KeyDeliverTo: "all"}, `"routePrefix" = "to/" cannot be set together with deliverTo=all`},
	} {
		_, err := FromContext(lookupFrom(tc.ctx))
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want one line with %q", tc.ctx, err, tc.want)
		}
	}
}

func TestCoalesceWindow(t *testing.T) {
	get := func(kv map[string]any) func(string) any { return func(k string) any { return kv[k] } }
	c, err := FromContext(get(map[string]any{KeyCoalesceWindow: "10s", KeyDeliverTo: "all"}))
	if err != nil || c.CoalesceWindow != 10*time.Second || !c.Coalesces() {
		t.Fatalf("coalesceWindow=10s: %+v, %v", c.CoalesceWindow, err)
	}
	if c, err := FromContext(get(map[string]any{KeyCoalesceWindow: "OFF"})); err != nil || c.Coalesces() {
		t.Fatalf("coalesceWindow=OFF: %v, %v", c.CoalesceWindow, err)
	}
	for _, tc := range []struct {
		kv   map[string]any
		want string
	}{
		{map[string]any{KeyCoalesceWindow: "soon"}, `must be a duration such as "10s"`},
		{map[string]any{KeyCoalesceWindow: "500ms"}, "whole seconds from 1s to 5m0s"},
		{map[string]any{KeyCoalesceWindow: "301s"}, "whole seconds from 1s to 5m0s"},
		{map[string]any{KeyCoalesceWindow: "1.5s"}, "whole seconds"},
		{map[string]any{KeyCoalesceWindow: "10s", KeyRoutePrefix: "to/", KeyKeyPattern: "to/*"}, "cannot batch routed keys"},
		{map[string]any{KeyCoalesceWindow: "10s", KeyDeliverTo: "all", KeyMaxBoards: "1000"}, "maxBoards=1000"},
		{map[string]any{KeyCoalesceWindow: "10s", KeyMirrorDeletes: "true"}, "cannot batch deletes with deliverTo=any"},
	} {
		_, err := FromContext(get(tc.kv))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), KeyCoalesceWindow) {
			t.Errorf("%v: %v, want an error on coalesceWindow containing %q", tc.kv, err, tc.want)
		}
	}
	if _, err := FromContext(get(map[string]any{KeyCoalesceWindow: "10s", KeyDeliverTo: "group:site1", KeyMirrorDeletes: "true"})); err != nil {
		t.Errorf("coalescing with deletes to a group: %v", err)
	}
}
