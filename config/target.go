package config

import (
	"time"

	"github.com/edge-drop/edge-drop/contract"
)

// TargetKind, Target and ParseTarget are the contract's: the deliverTo
// setting (any, board:<name>, group:<name> or all) read once for the CDK
// app, the pipeline construct and the CLI.
type (
	TargetKind = contract.TargetKind
	Target     = contract.Target
)

const (
	TargetAny   = contract.TargetAny   // one board ECS picks (the pipeline before fleets)
	TargetBoard = contract.TargetBoard // the one board of that name
	TargetGroup = contract.TargetGroup // every board of that group
	TargetAll   = contract.TargetAll   // every board of the cluster
)

// ParseTarget reads a deliverTo value; names follow contract.CheckName.
func ParseTarget(s string) (Target, error) { return contract.ParseTarget(s) }

// Bounds of offlineWait. At least a minute: a board's agent reconnecting
// after a network blip takes that long. At most two hours: every retry adds
// events to the execution's history (25,000 at most), so a longer wait
// shrinks the largest fleet one execution can serve (docs/fleet.md).
const (
	MinOfflineWait = time.Minute
	MaxOfflineWait = 2 * time.Hour
)

// DefaultOfflineWait is offlineWait's default (its Setting).
var DefaultOfflineWait = Default().OfflineWait
