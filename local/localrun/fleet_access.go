package localrun

import "github.com/edge-drop/edge-drop/local/ecstask"

// Fleet is the local ECS stand-in the pipeline's tasks run on: the demo
// serves its read-only ECS calls to the edge-drop CLI (local/ecsapi), so
// the CLI sees the boards the state machines see.
func (p *Pipeline) Fleet() *ecstask.Runner { return p.runner }
