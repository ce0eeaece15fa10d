package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

var update = flag.Bool("update", false, "rewrite task/README.md's settings table from Settings")

// TestREADMESettingsTable keeps task/README.md's settings table equal to
// Markdown(), i.e. to Settings: every setting, its variable, flag,
// default and doc. `go test ./internal/config -update` rewrites it.
func TestREADMESettingsTable(t *testing.T) {
	const readme = "../../README.md"
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "| env | flag | default | meaning |\n")
	if start < 0 {
		t.Fatal("task/README.md has no settings table (| env | flag | default | meaning |)")
	}
	end := strings.Index(text[start:], "\n\n")
	if end < 0 {
		t.Fatal("the settings table does not end with a blank line")
	}
	got, want := text[start:start+end+1], Markdown()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(readme, []byte(text[:start]+want+text[start+end+1:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("task/README.md's settings table differs from Settings; run `go test ./internal/config -update` in task/.\nwant:\n%s", want)
}

// TestDefaults: each documented default is what Defaults() holds, and
// setting it explicitly changes nothing.
func TestDefaults(t *testing.T) {
	c := Defaults()
	want := Config{Mode: contract.ModeDownload, DataDir: "/data", PartSize: 8 << 20, Concurrency: 4, Timeout: 2 * time.Hour,
		RequestTimeout: 30 * time.Second, MinFree: MinFree{Bytes: 256 << 20, Percent: 5}, PartialMaxAge: 7 * 24 * time.Hour,
		PartialMaxBytes: 2 << 30, Event: Event{Size: -1}, Pattern: "*", SyncObjects: 4}
	if c.RateSchedule != nil || c.MaxRate != 0 {
		t.Errorf("bandwidth is limited by default: %d %v", c.MaxRate, c.RateSchedule)
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Defaults() = %+v\nwant        %+v", c, want)
	}
	for _, s := range Settings {
		if s.Default == "" || s.Env == "" || s.Arg {
			continue
		}
		mode := contract.ModeDownload
		if s.Modes != nil {
			mode = s.Modes[0]
		}
		env := map[string]string{contract.EnvMode: mode, contract.EnvBucket: "b", contract.EnvKey: "k", s.Env: s.Default}
		got, err := Parse(nil, func(k string) string { return env[k] }, io.Discard)
		base, _ := Parse(nil, func(k string) string {
			return map[string]string{contract.EnvMode: mode, contract.EnvBucket: "b", contract.EnvKey: "k"}[k]
		}, io.Discard)
		if err != nil || got.MinFree != base.MinFree || got.PartSize != base.PartSize || got.Pattern != base.Pattern || got.PartialMaxAge != base.PartialMaxAge {
			t.Errorf("%s=%s: %v, %+v", s.Env, s.Default, err, got)
		}
	}
}

func TestBudgetSettings(t *testing.T) {
	env := map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k",
		contract.EnvMaxRate: "2MiB", contract.EnvRateSchedule: "08:00,512KiB 18:00,off", contract.EnvMinFree: "1GiB",
		contract.EnvPartialMaxAge: "24h", contract.EnvPartialMaxBytes: "512MiB"}
	c, err := Parse(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxRate != 2<<20 || c.RateSchedule.String() != "08:00,512KiB 18:00,off" || c.MinFree != (MinFree{Bytes: 1 << 30}) ||
		c.PartialMaxAge != 24*time.Hour || c.PartialMaxBytes != 512<<20 {
		t.Fatalf("budgets: %+v", c)
	}
	c, err = Parse([]string{"sync", "-bucket", "b", "-max-rate", "off", "-min-free", "0", "-partial-max-age", "0"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.MaxRate != 0 || c.MinFree != (MinFree{}) || c.PartialMaxAge != 0 {
		t.Fatalf("flags override, in sync mode too: %v %+v", err, c)
	}
	for in, floor := range map[string]int64{"5%,256MiB": 256 << 20, "256MiB,5%": 256 << 20, "5%": 5 << 20, "1GiB": 1 << 30, "0": 0, "12.5%": 12800 << 10} {
		m, err := ParseMinFree(in)
		if err != nil {
			t.Errorf("ParseMinFree(%q): %v", in, err)
			continue
		}
		total := int64(100 << 20)
		if in == "5%,256MiB" || in == "256MiB,5%" {
			total = 32 << 30 // 5% = 1.6 GiB: the size is smaller
		}
		if got := m.Floor(total); got != floor {
			t.Errorf("ParseMinFree(%q).Floor(%d) = %d, want %d", in, total, got, floor)
		}
		if back, err := ParseMinFree(m.String()); err != nil || back != m {
			t.Errorf("%q → %q → %+v, %v", in, m.String(), back, err)
		}
	}
	if m, _ := ParseMinFree("5%,256MiB"); m.Floor(2<<20) != 104857 {
		t.Errorf("on a 2 MiB file system the 5%% is smaller: %d", m.Floor(2<<20))
	}
	for _, c := range []struct{ env, val, want string }{
		{contract.EnvMaxRate, "2", `EDGE_DROP_MAX_RATE: "2" has no unit`},
		{contract.EnvMaxRate, "lots", `EDGE_DROP_MAX_RATE: "lots" is not a rate`},
		{contract.EnvRateSchedule, "8:00,1MiB", `EDGE_DROP_RATE_SCHEDULE: "8:00,1MiB": "8:00" is not a time of day`},
		{contract.EnvMinFree, "60%", `EDGE_DROP_MIN_FREE: "60%": "60%" is not one percentage above 0 and at most 50%`},
		{contract.EnvMinFree, "5%,5%", "is not one percentage"},
		{contract.EnvMinFree, "lots", `EDGE_DROP_MIN_FREE: "lots" is not a size (e.g. 256MiB), a percentage (5%), both (5%,256MiB: the smaller) or 0`},
		{contract.EnvPartialMaxAge, "week", `EDGE_DROP_PARTIAL_MAX_AGE: "week" is not a duration`},
		{contract.EnvPartialMaxBytes, "-1", `EDGE_DROP_PARTIAL_MAX_BYTES: "-1" is not a size`},
	} {
		env := map[string]string{contract.EnvBucket: "b", contract.EnvKey: "k", c.env: c.val}
		if _, err := Parse(nil, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: %v, want %q", c.env, c.val, err, c.want)
		}
	}
}

// TestHelpListsEverySetting: -h shows every flag with its variable and
// default, in words (no Markdown).
func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if _, err := Parse([]string{"-h"}, func(string) string { return "" }, &out); err != ErrHelp {
		t.Fatalf("-h: %v", err)
	}
	h := out.String()
	for _, s := range Settings {
		if s.Flag == "" || s.set == nil {
			continue
		}
		if !strings.Contains(h, "  -"+s.Flag) {
			t.Errorf("-h lacks -%s", s.Flag)
		}
		if s.Env != "" && !strings.Contains(h, "env "+s.Env) {
			t.Errorf("-h lacks %s", s.Env)
		}
	}
	if strings.ContainsAny(h, "`") || strings.Contains(h, "](#") {
		t.Errorf("-h carries Markdown:\n%s", h)
	}
}
