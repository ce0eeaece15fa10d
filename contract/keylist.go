package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Key-list mode (coalesced bursts, config coalesceWindow): one task
// delivers every key of a batch that its board must get. The state machine
// sets EnvKeys instead of EnvKey and the per-object event variables; each
// entry carries what the event said of its object, so the per-key
// guarantees (the newest-version rule, records, conflicts, gone) hold for
// each key as for a task started per key.
const EnvKeys = "EDGE_DROP_KEYS"

// ListedKey is one entry of EnvKeys: one key and what its newest event in
// the batch said. Short field names: the list travels in RunTask's
// container overrides (MaxKeyListBytes).
type ListedKey struct {
	Key       string `json:"k"`           // as in the event: URL-encoded
	Sequencer string `json:"q,omitempty"` // the event's sequencer
	ETag      string `json:"e,omitempty"`
	Size      *int64 `json:"z,omitempty"` // absent for a delete
	// Deleted: the newest event of the key in the batch is an Object
	// Deleted one (mirrorDeletes): remove the delivered file.
	Deleted bool `json:"d,omitempty"`
}

// MaxKeyListBytes bounds EnvKeys' value. ECS allows 8,192 characters for
// all of RunTask's overrides, JSON included (RunTask, "overrides"); a task
// token takes up to 2,048 (SendTaskSuccess: taskToken), the other
// variables, their names and the JSON around them stay under 512. Keys in
// events are URL-encoded, so characters are bytes.
const MaxKeyListBytes = 8192 - 2048 - 512

// MaxKeysPerTask bounds a list's entries whatever their size: each key's
// outcome is in the task's report (MaxReportedKeyOutcomes).
const MaxKeysPerTask = 100

// ParseKeyList reads EnvKeys' value: a non-empty JSON list of entries, each
// with a key; an entry that names a key twice keeps the newest event
// (NewestPerKey).
func ParseKeyList(s string) ([]ListedKey, error) {
	var keys []ListedKey
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&keys); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of {\"k\": key, \"q\": sequencer, \"e\": etag, \"z\": size, \"d\": deleted}: %v", EnvKeys, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: the list is empty: name at least one key", EnvKeys)
	}
	if len(keys) > MaxKeysPerTask {
		return nil, fmt.Errorf("%s: %d keys, more than the %d one task delivers", EnvKeys, len(keys), MaxKeysPerTask)
	}
	for i, k := range keys {
		if k.Key == "" {
			return nil, fmt.Errorf("%s: entry %d has no key (\"k\")", EnvKeys, i)
		}
		if k.Size != nil && *k.Size < 0 {
			return nil, fmt.Errorf("%s: entry %d (%s): size %d is negative", EnvKeys, i, k.Key, *k.Size)
		}
	}
	return NewestPerKey(keys), nil
}

// NewestPerKey keeps one entry per key: the one with the greatest
// sequencer (S3: left-pad the shorter with zeros, compare the strings);
// entries whose sequencers cannot be compared keep the later one in the
// list. The order is the first appearance of each key.
func NewestPerKey(keys []ListedKey) []ListedKey {
	at := map[string]int{}
	var out []ListedKey
	for _, k := range keys {
		i, seen := at[k.Key]
		if !seen {
			at[k.Key] = len(out)
			out = append(out, k)
			continue
		}
		if c, ok := CompareSequencers(k.Sequencer, out[i].Sequencer); !ok || c >= 0 {
			out[i] = k
		}
	}
	return slices.Clip(out)
}

// CompareSequencers orders two S3 event sequencers of the same key: -1 if
// a is older, 0 if equal, +1 if a is newer. Sequencers are hexadecimal
// strings of varying length; S3's documentation says to left-pad the
// shorter with zeros and compare the strings. ok is false when either is
// empty or not hexadecimal (nothing can be said).
func CompareSequencers(a, b string) (cmp int, ok bool) {
	if !isHex(a) || !isHex(b) {
		return 0, false
	}
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := max(len(a), len(b)); len(a) < n {
		a = strings.Repeat("0", n-len(a)) + a
	} else if len(b) < n {
		b = strings.Repeat("0", n-len(b)) + b
	}
	return strings.Compare(a, b), true
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

// KeyOutcome is one key's outcome in a key-list task's Report.
type KeyOutcome struct {
	Key      string `json:"key"` // decoded, as the board names it
	Status   string `json:"status"`
	ExitCode int    `json:"exitCode"`
	Summary  string `json:"summary"` // at most MaxKeySummary bytes
}

// MaxReportedKeyOutcomes bounds Report.Keys, MaxKeySummary each summary:
// 100 × (a 1,024-byte key + 160) stays far inside the 256 KiB a report
// may take as a state's output.
const (
	MaxReportedKeyOutcomes = MaxKeysPerTask
	MaxKeySummary          = 160
)

// exitSeverity orders the exit codes of a key list's keys: the task exits
// with the worst. A failure to reach S3 or the disk outranks one key's
// problem; gone (not found) is no failure and ranks below every failure.
var exitSeverity = []ExitCode{ExitOK, ExitNotFound, ExitTooLarge, ExitUnsafeKey, ExitIntegrity, ExitPartial,
	ExitDenied, ExitNetwork, ExitLocalIO, ExitUsage, ExitCanceled}

// WorstExit is the most severe of codes (ExitOK for none); a code outside
// the table outranks every known one.
func WorstExit(codes ...ExitCode) ExitCode { return mostSevere(exitSeverity, ExitOK, codes) }

// outcomeSeverity orders the outcome words of a key list: the batch's
// status is its worst key's. Gone ranks lowest: a batch is gone only when
// every key of it was.
var outcomeSeverity = []string{OutcomeGone, OutcomeUpToDate, OutcomeDelivered, OutcomeDeleted, OutcomeKept, OutcomeConflict, OutcomeFailed}

// WorstOutcome is the most severe of statuses ("" for none).
func WorstOutcome(statuses ...string) string { return mostSevere(outcomeSeverity, "", statuses) }

// mostSevere is the item ranked last in severity (one missing from it
// outranks every one in it; of equals, the first), none for no items.
func mostSevere[T comparable](severity []T, none T, items []T) T {
	worst, rank := none, -1
	for _, it := range items {
		r := slices.Index(severity, it)
		if r < 0 {
			r = len(severity)
		}
		if r > rank {
			worst, rank = it, r
		}
	}
	return worst
}
