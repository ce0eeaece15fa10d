package contract

import (
	"fmt"
	"strings"
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
	// TargetRouted is the board or group the key names after the routing
	// prefix: <RoutePrefix><board-or-group>/<path> (config key
	// routePrefix; never a deliverTo value).
	TargetRouted TargetKind = "routed"
)

// Target is where the pipeline delivers: a deliverTo value (any,
// board:<name>, group:<name>, all), or routing by key.
type Target struct {
	Kind        TargetKind
	Name        string // the board or group (TargetBoard, TargetGroup)
	RoutePrefix string // TargetRouted: e.g. "to/"
}

// String is the deliverTo value as written in cdk.json ("" for routing).
func (t Target) String() string {
	switch {
	case t.Kind == TargetRouted:
		return ""
	case t.Name != "":
		return string(t.Kind) + ":" + t.Name
	}
	return string(t.Kind)
}

// ParseTarget reads a deliverTo value; names follow CheckName.
func ParseTarget(s string) (Target, error) {
	kind, name, named := strings.Cut(s, ":")
	switch k := TargetKind(kind); {
	case !named && (k == TargetAny || k == TargetAll):
		return Target{Kind: k}, nil
	case named && (k == TargetBoard || k == TargetGroup):
		if err := CheckName(kind, name); err != nil {
			return Target{}, fmt.Errorf("has a bad %s name: use %s", kind, NameRule)
		}
		return Target{Kind: k, Name: name}, nil
	}
	return Target{}, fmt.Errorf(`must be "any", "board:<name>", "group:<name>" or "all"`)
}

// StripComponents is how many leading components of a routed key are not
// part of the board's path: the routing prefix's and the target's (the
// task's EnvStripComponents).
func StripComponents(routePrefix string) int { return strings.Count(routePrefix, "/") + 1 }
