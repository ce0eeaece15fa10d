package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CheckKeys looks for typos among context keys. A key that is not ours but
// looks like one of ours (another case, or at most two letters off) is an
// error that names the key it likely meant: set, it would be silently
// ignored. CDK's own keys (feature flags "@aws-cdk/...", "aws:cdk:...",
// "cdk-...", context lookups "provider:...", "acknowledged-issue-numbers")
// always pass. With onlyConfig every other key is an error too: the demo's
// -c takes configuration keys only, while the CDK app's context may hold
// keys of the user's own.
func CheckKeys(keys []string, onlyConfig bool) error {
	known := Keys()
	var errs []error
	for _, key := range slices.Sorted(slices.Values(keys)) {
		if slices.Contains(known, key) || isCDKKey(key) {
			continue
		}
		if near := nearest(key, known); near != "" {
			errs = append(errs, fmt.Errorf("config: unknown config key %q: did you mean %q?", key, near))
		} else if onlyConfig {
			errs = append(errs, fmt.Errorf("config: unknown config key %q (known keys: %s)", key, strings.Join(known, ", ")))
		}
	}
	return errors.Join(errs...)
}

func isCDKKey(key string) bool {
	for _, p := range []string{"@", "aws:", "cdk-", "cdk:"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return strings.Contains(key, ":") || key == "acknowledged-issue-numbers"
}

// nearest is the known key that key most likely misspells, or "".
func nearest(key string, known []string) string {
	const maxTypo = 2
	best, bestDist := "", maxTypo+1
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
