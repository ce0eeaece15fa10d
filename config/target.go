package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

// TargetKind is which boards a file goes to.
type TargetKind string

const (
	// TargetAny is one board ECS picks (the pipeline before fleets).
	TargetAny TargetKind = "any"
	// TargetBoard is the one board of that name.
	TargetBoard TargetKind = "board"
	// TargetGroup is every board of that group.
	TargetGroup TargetKind = "group"
	// TargetAll is every board of the cluster.
	TargetAll TargetKind = "all"
)

// Target is the deliverTo setting: any, board:<name>, group:<name> or all.
type Target struct {
	Kind TargetKind
	Name string // the board or group (TargetBoard, TargetGroup)
}

// String is the setting as written in cdk.json.
func (t Target) String() string {
	if t.Name != "" {
		return string(t.Kind) + ":" + t.Name
	}
	return string(t.Kind)
}

// ParseTarget reads a deliverTo value; names follow contract.CheckName.
func ParseTarget(s string) (Target, error) {
	kind, name, named := strings.Cut(s, ":")
	switch k := TargetKind(kind); {
	case !named && (k == TargetAny || k == TargetAll):
		return Target{Kind: k}, nil
	case named && (k == TargetBoard || k == TargetGroup):
		if err := contract.CheckName(kind, name); err != nil {
			return Target{}, fmt.Errorf("has a bad %s name: use %s", kind, contract.NameRule)
		}
		return Target{Kind: k, Name: name}, nil
	}
	return Target{}, fmt.Errorf(`must be "any", "board:<name>", "group:<name>" or "all"`)
}

// Bounds of offlineWait. At least a minute: a board's agent reconnecting
// after a network blip takes that long. At most two hours: every retry adds
// events to the execution's history (25,000 at most), so a longer wait
// shrinks the largest fleet one execution can serve (docs/fleet.md).
const (
	DefaultOfflineWait = 30 * time.Minute
	MinOfflineWait     = time.Minute
	MaxOfflineWait     = 2 * time.Hour
)
