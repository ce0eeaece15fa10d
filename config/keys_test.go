package config

import (
	"slices"
	"strings"
	"testing"
)

func TestKeysAreWhatFromContextReads(t *testing.T) {
	keys := Keys()
	for _, k := range []string{KeyStackPrefix, KeyKeyPattern, KeyDataDir, KeyTaskTimeout, KeyRemovalPolicy} {
		if !slices.Contains(keys, k) {
			t.Errorf("Keys() lacks %q: %v", k, keys)
		}
	}
	if keys[0] != KeyStackPrefix {
		t.Errorf("Keys() must keep FromContext's (the README's) order, got %v", keys)
	}
}

func TestCheckKeys(t *testing.T) {
	cdkOwn := []string{"@aws-cdk/core:checkSecretUsage", "@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver",
		"aws:cdk:enable-path-metadata", "aws:cdk:bundling-stacks", "cdk-default-account", "acknowledged-issue-numbers",
		"availability-zones:account=123456789012:region=eu-west-1"}
	for _, tc := range []struct {
		name       string
		keys       []string
		onlyConfig bool
		want       []string // error lines; none = valid
	}{
		{"ours and CDK's", append([]string{KeyKeyPattern, KeyTaskCPU}, cdkOwn...), true, nil},
		{"a typo", []string{"keyPatern"}, false, []string{`config: unknown config key "keyPatern": did you mean "keyPattern"?`}},
		{"another case", []string{"taskCPU", "DataDir"}, false, []string{
			`config: unknown config key "DataDir": did you mean "dataDir"?`,
			`config: unknown config key "taskCPU": did you mean "taskCpu"?`}},
		{"two letters off", []string{"taskMemoryMb"}, false, []string{`did you mean "taskMemoryMiB"?`}},
		{"the user's own key in the app", []string{"myTeam", "deployColor"}, false, nil},
		{"any other key in the demo", []string{"foo"}, true, []string{`config: unknown config key "foo" (known keys: stackPrefix, bucketName, `}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckKeys(tc.keys, tc.onlyConfig)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q, got no error", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("want %d lines, got %q", len(tc.want), lines)
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d: %q lacks %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"keypatern", "keypattern", 1}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"résumé", "resume", 2}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
