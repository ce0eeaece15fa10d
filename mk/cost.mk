# The bill in advance: docs/cost.md from a run of the synthesized definitions.

.PHONY: cost

cost: ## Regenerate docs/cost.md: transitions, RunTasks and ledger writes per delivery, measured in the interpreter; $ per 1,000 deliveries and per board-month
	go run ./cmd/costmodel -o docs/cost.md
