# The edge-drop CLI and its status page. Included by the root Makefile.

CLI := bin/edge-drop

.PHONY: cli screenshot bench-ui

cli: ## Build the edge-drop CLI into bin/edge-drop (status, boards, missing, redeliver, sync, watch, ui; see docs/cli.md)
	@mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o $(CLI) ./cmd/edge-drop

screenshot: node-deps ## Regenerate docs/img/status-page.png: the status page in headless chromium (apt-get install chromium)
	EDGE_DROP_SCREENSHOT=$(CURDIR)/docs/img/status-page.png go test -count=1 -run '^TestScreenshot$$' ./internal/statuspage

bench-ui: node-deps ## The status page's first paint with 3 boards and 1,000 objects, in headless chromium
	go test -count=1 -run '^$$' -bench FirstPaint -benchtime 5x ./internal/statuspage
