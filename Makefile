# edge-drop: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export GOFLAGS := -buildvcs=false
# Each module builds and tests alone, with the versions its own go.mod pins;
# go.work (the workspace, for gopls and go commands typed at the root) would
# give every module the highest version any of them requires.
export GOWORK := off

include mk/*.mk

.PHONY: help bench
bench: bench-task bench-sync bench-demo bench-ledger bench-ui ## Every benchmark: the task binary against its peers (download, sync), the local pipeline end to end, the ledger's cost, the status page


help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN{FS=":.*## "}{printf "  %-12s %s\n",$$1,$$2}'
