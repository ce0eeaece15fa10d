package contract

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// OutputDelivery is the pipeline stack's output that tells the CLI and the
// status page which keys are delivered and to which boards: the
// deployment's configuration (Delivery as JSON), read once from
// DescribeStacks instead of parsing the state machine definition. The
// local demo writes the same value into its endpoints file.
const OutputDelivery = "DeliveryConfig"

// Delivery is what decides whether a key is delivered and which boards
// are its targets. Field values are the config keys' own values.
type Delivery struct {
	// DeliverTo: "any", "board:<name>", "group:<name>" or "all" ("" with
	// RoutePrefix).
	DeliverTo string `json:"deliverTo"`
	// RoutePrefix routes <RoutePrefix><board-or-group>/<path> to that
	// board or group.
	RoutePrefix string `json:"routePrefix,omitempty"`
	// KeyPattern is the Choice state's StringMatches pattern, matched
	// against the key as events encode it (EventKey).
	KeyPattern string `json:"keyPattern"`
	// The rule's key filter (at most one), as events encode keys.
	RuleKeyPrefix   string `json:"ruleKeyPrefix,omitempty"`
	RuleKeySuffix   string `json:"ruleKeySuffix,omitempty"`
	RuleKeyWildcard string `json:"ruleKeyWildcard,omitempty"`
	// ListPrefix is the raw key prefix every delivered key starts with
	// (the narrowest listing that sees them all).
	ListPrefix string `json:"listPrefix,omitempty"`
	// SyncEvery is the sync schedule's interval ("6h0m0s"), "" when there
	// is no schedule.
	SyncEvery string `json:"syncEvery,omitempty"`
	// Sync says whether the app has a sync state machine at all (a
	// schedule or mirrorDeletes).
	Sync bool `json:"sync"`
}

// ParseDelivery reads the OutputDelivery value.
func ParseDelivery(s string) (Delivery, error) {
	var d Delivery
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("output %s is not edge-drop's delivery configuration: %v", OutputDelivery, err)
	}
	if d.DeliverTo == "" && d.RoutePrefix == "" {
		return d, fmt.Errorf("output %s names neither deliverTo nor routePrefix", OutputDelivery)
	}
	if d.SyncEvery != "" {
		if _, err := time.ParseDuration(d.SyncEvery); err != nil {
			return d, fmt.Errorf("output %s: syncEvery %q: %v", OutputDelivery, d.SyncEvery, err)
		}
	}
	return d, nil
}

// JSON is the OutputDelivery value.
func (d Delivery) JSON() string {
	b, _ := json.Marshal(d) // strings and a bool: cannot fail
	return string(b)
}

// Every is the sync schedule's interval, 0 without one.
func (d Delivery) Every() time.Duration {
	e, _ := time.ParseDuration(d.SyncEvery)
	return e
}

// Delivered reports whether an upload of key (raw, as S3 stores it)
// starts a delivery: the rule's filter and the key pattern both see the
// event-encoded key. With routing, the key must also name a target:
// <RoutePrefix><target>/<path> with target a valid name and path not empty.
func (d Delivery) Delivered(key string) bool {
	ek := EventKey(key)
	switch {
	case d.RuleKeyPrefix != "" && !strings.HasPrefix(ek, d.RuleKeyPrefix),
		d.RuleKeySuffix != "" && !strings.HasSuffix(ek, d.RuleKeySuffix),
		d.RuleKeyWildcard != "" && !StringMatches(d.RuleKeyWildcard, ek),
		!StringMatches(d.KeyPattern, ek):
		return false
	}
	if d.RoutePrefix != "" {
		_, ok := d.Route(key)
		return ok
	}
	return true
}

// Route is the board or group a routed key names: <RoutePrefix><target>/<path>.
func (d Delivery) Route(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, d.RoutePrefix)
	if !ok || d.RoutePrefix == "" {
		return "", false
	}
	target, path, ok := strings.Cut(rest, "/")
	if !ok || path == "" || CheckName("board", target) != nil {
		return "", false
	}
	return target, true
}

// Targets reports whether a board (its name and groups) is a target of
// key. With deliverTo=any one board ECS picks gets the upload, and with a
// sync every named board becomes a full copy: each of them is a target
// then (every reports whether the app syncs).
func (d Delivery) Targets(key, board string, groups []string) bool {
	if d.RoutePrefix != "" {
		t, ok := d.Route(key)
		return ok && (t == board || contains(groups, t))
	}
	t, err := ParseTarget(d.DeliverTo)
	switch {
	case err != nil:
		return false
	case t.Kind == TargetBoard:
		return board == t.Name
	case t.Kind == TargetGroup:
		return contains(groups, t.Name)
	case t.Kind == TargetAll:
		return true
	}
	return d.Sync // TargetAny
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
