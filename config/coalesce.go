package config

import (
	"fmt"
	"time"
)

// coalesceWindow bounds: an EventBridge Pipe waits 0-300 s for a batch
// (SQS source, MaximumBatchingWindowInSeconds), in whole seconds; 0 is
// "off" here, no pipe at all.
const (
	MinCoalesceWindow = time.Second
	MaxCoalesceWindow = 300 * time.Second
	// CoalesceOff as coalesceWindow: one execution per upload (default).
	CoalesceOff = "off"
)

// Coalesces reports whether bursts are batched.
func (c Config) Coalesces() bool { return c.CoalesceWindow != 0 }

// coalesceServes: the settings a batch cannot serve yet, each with its
// fix (the window's own range is its Setting's rule).
func (c Config) coalesceServes(p *problems) {
	if !c.Coalesces() || p.bad[KeyCoalesceWindow] {
		return
	}
	off := "; set coalesceWindow=off"
	switch {
	case c.RoutePrefix != "":
		p.add(KeyCoalesceWindow, c.CoalesceWindow, "cannot batch routed keys (routePrefix="+c.RoutePrefix+": each key names its own boards) yet"+off+" or use deliverTo")
	case c.MaxBoards != 0:
		p.add(KeyCoalesceWindow, c.CoalesceWindow, fmt.Sprintf("cannot be combined with maxBoards=%d yet (a batch is delivered in one execution, up to what one execution serves)%s or maxBoards=0", c.MaxBoards, off))
	case c.MirrorDeletes && c.DeliverTo.Kind == TargetAny:
		p.add(KeyCoalesceWindow, c.CoalesceWindow, "cannot batch deletes with deliverTo=any (a delete goes to every board, an upload to one)"+off+", mirrorDeletes=false or deliver to board:, group: or all")
	}
}
