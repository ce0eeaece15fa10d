# The local pipeline (no AWS account): `make demo` is the README's main command.

DEMO_FLAGS ?=

.PHONY: demo demo-once bench-demo

demo: task-native ## Run the whole pipeline locally from the synthesized app; upload samples, keep running (DEMO_FLAGS="-c keyPattern=report*.csv")
	@bash scripts/first-run-note.sh ./cmd/demo
	go run ./cmd/demo -task $(TASK_NATIVE) $(DEMO_FLAGS)

demo-once: task-native ## The same as demo, but exit after the two sample executions
	@bash scripts/first-run-note.sh ./cmd/demo
	go run ./cmd/demo -task $(TASK_NATIVE) -once $(DEMO_FLAGS)

bench-demo: ## Local end-to-end latency (upload acknowledged -> file in place, p50/p99), burst throughput, and a 200-upload burst to a fleet of 3 boards
	go test -run '^$$' -bench 'UploadToFile|FleetBurst' -benchtime 1x ./local/localrun

