// Package pipeline builds the cloud side of edge-drop's data flow: an S3
// upload's event → EventBridge rule → Step Functions state machine → the
// download task on the boards of the EXTERNAL (ECS Anywhere) cluster; and
// the sync state machine, which reconciles the boards with the bucket.
//
// One idea per file, in the order an upload meets them:
//
//	rule.go          the S3 events the rule matches (EventPattern, KeyFilter)
//	pipeline.go      New: the rule, its target and dead letters, the state machine; Props
//	coalesce.go      bursts through a queue and a pipe (Props.CoalesceWindow)
//	batch.go         a batch's definition: the newest event of each key, in parts
//	definition.go    one event's definition: Extract → KeyMatchesPattern → SizeWithinLimit
//	deletes.go       Object Deleted events: the delete fan-out (MirrorDeletes)
//	single.go        target "any": one task on the board ECS picks
//	routing.go       every other target: its cluster query, a routed key's target, the name check
//	fanout.go        the fleet fan-out: list the boards, describe them, one task per board (Map)
//	pages.go         fleets past one execution's bounds: one child execution per page
//	summary.go       a page's summary, the sum of the pages, the paged verdict
//	redeliver.go     a redelivery: the fan-out narrowed to one board
//	board.go         one board's delivery: the pinned task, its retries, its outcome
//	task.go          the task's environment, its token and its report
//	failure.go       why a task failed (exit code, stop reason) and the single board's failure path
//	ledger.go        each board's outcome written to the ledger (ledgeritems.go: the items)
//	retry.go         the Retry rules, one per error class
//	timing.go        execution timeouts (FleetTiming) and the one-year checks
//	bounds.go        history-event and payload bounds: the largest fleet of one execution
//	statemachine.go  what every state machine shares: STANDARD, traced, logged
//	roles.go         the one role builder: each state machine's least-privilege policy
//	asl.go           small helpers that keep the definitions readable (str, num, list, and)
//	sync.go          NewSync: the sync state machine (a fan-out in sync mode) and its schedule
//
// State names are the contract's (contract.State*): the demo, the local
// interpreter's tests and the ledger read the same ones.
package pipeline
