# The local pipeline (no AWS account): `make demo` is the README's main command.

DEMO_FLAGS ?=
DEMO_BIN := bin/demo

# quiet_interrupt runs $(1); Ctrl-C stops it with status 130 (the shell's
# for SIGINT), which is how the demo is meant to end, so make does not
# report it as "make: *** [demo] Error 130". The recipe's shell traps
# SIGINT (a handler, not an ignore, so the demo still gets it) to outlive
# it and say 0. Any other failure stays one.
quiet_interrupt = trap : INT; $(1); s=$$?; [ $$s -eq 130 ] && exit 0; exit $$s

.PHONY: demo demo-once bench-demo bench-fleet bench-coalesce

demo: task-native ## Run the whole pipeline locally from the synthesized app; upload samples, keep running (DEMO_FLAGS="-c keyPattern=report*.csv")
	@bash scripts/first-run-note.sh ./cmd/demo
	@go build -o $(DEMO_BIN) ./cmd/demo # built, not go run: go run turns the demo's exit 130 into its own "exit status 130" and 1
	@$(call quiet_interrupt,$(DEMO_BIN) -task $(TASK_NATIVE) $(DEMO_FLAGS))

demo-once: task-native ## The same as demo, but exit after the two sample executions
	@bash scripts/first-run-note.sh ./cmd/demo
	@go build -o $(DEMO_BIN) ./cmd/demo
	@$(call quiet_interrupt,$(DEMO_BIN) -task $(TASK_NATIVE) -once $(DEMO_FLAGS))

bench-fleet: ## One upload to 2,000 local boards (BOARDS=n) with real task processes: wall time, transitions, peak RSS
	EDGE_DROP_BENCH_BOARDS=$(or $(BOARDS),2000) go test -count=1 -timeout 60m -run '^$$' -bench FleetAtSize -benchtime 1x ./local/localrun

bench-coalesce: ## 1,000 uploads in 10 s to 3 boards with coalesceWindow=5s: executions, board tasks, every file on every board
	go test -count=1 -timeout 30m -run '^$$' -bench CoalescedBurst -benchtime 1x ./local/localrun

bench-demo: ## Local end-to-end latency (upload acknowledged -> file in place, p50/p99), burst throughput, and a 200-upload burst to a fleet of 3 boards
	go test -run '^$$' -bench 'UploadToFile|FleetBurst' -benchtime 1x ./local/localrun

.PHONY: bench-ledger
bench-ledger: node-deps ## The delivery ledger's cost: state transitions per board delivery with and without it, DynamoDB requests of edge-drop status
	go test -count=1 -run '^$$' -bench LedgerCost -benchtime 1x ./local/localrun
