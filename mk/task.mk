# edge-drop-task: the device binary (module task/). Included by the root Makefile.

TASK_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The release build flags; the Dockerfile and task/qemu_test.go use the same.
TASK_LDFLAGS := -s -w -X main.version=$(TASK_VERSION)
TASK_ARM64   := bin/edge-drop-task-linux-arm64
TASK_NATIVE  := bin/edge-drop-task
TASK_MAX_BYTES := 12582912
IMAGE        ?= edge-drop-task:$(TASK_VERSION)

.PHONY: task task-native test-task bench-task bench-sync bench-nochange bench-durable bench-resume bench-budget image

task: ## Cross-compile the device binary (linux/arm64, static, stripped) into bin/edge-drop-task-linux-arm64
	@mkdir -p bin
	cd task && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "$(TASK_LDFLAGS)" -o ../$(TASK_ARM64) .
	@size=$$(stat -c %s $(TASK_ARM64)); echo "$(TASK_ARM64): $$size bytes (limit $(TASK_MAX_BYTES))"; \
	  test $$size -le $(TASK_MAX_BYTES) || { echo "error: binary over 12 MB" >&2; exit 1; }

task-native: ## Build the task for this machine into bin/edge-drop-task (local demo)
	@mkdir -p bin
	cd task && CGO_ENABLED=0 go build -trimpath -ldflags "$(TASK_LDFLAGS)" -o ../$(TASK_NATIVE) .

# The task's packages outside internal/ (tested once, without -race; internal/ runs under -race).
TASK_PLAIN_PKGS = $(shell cd task && go list ./... | grep -v /internal/)

test-task: ## go vet + go test of the contract, s3fake, task and benchmark-tool modules (incl. e2e and the qemu arm64 run), -race on the task's packages
	cd contract && go vet ./... && go test -count=1 ./...
	cd s3fake && go vet ./... && go test -race -count=1 ./...
	cd bench/bench-s3 && go vet ./... && go test -count=1 ./...
	cd bench/managerdl && go vet ./... && go test -count=1 ./...
	cd bench/upload && go vet ./... && go test -count=1 ./...
	cd task && go vet ./... && go test -count=1 -timeout 5m $(TASK_PLAIN_PKGS) && go test -race -count=1 -timeout 5m ./internal/...

bench-task: ## Benchmark table: this task vs aws-cli vs s5cmd vs manager.Downloader (needs awscli, time)
	bash bench/run.sh

bench-sync: ## Sync benchmark table: edge-drop-task sync vs s5cmd sync vs aws s3 sync, fresh and no-change runs (needs awscli, time)
	bash bench/sync.sh

bench-nochange: ## No-change sync of 10,000 files: this tree vs BASE (default main), taking turns; then one touched, one flipped file (needs time)
	bash bench/nochange.sh

bench-durable: ## Durable writes: 1,000-file sync and 1 GiB on a disk and on tmpfs, this tree vs BASE vs s5cmd (+ its flush); fsyncs, renames, openat per file (needs time, strace)
	bash bench/durable.sh

bench-resume: ## Resume: SIGKILL at ~60% of a 512 MiB object, then deliver again; bytes counted at the server (tmpfs and disk)
	bash bench/resume.sh

bench-budget: ## Bandwidth budget: EDGE_DROP_MAX_RATE and a timetable on 64 MiB (one download, a sync), and no limit vs BASE and s5cmd (needs time)
	bash bench/budget.sh

image: ## Build the linux/arm64 container image with docker buildx (IMAGE=..., needs a Docker engine)
	@bash scripts/docker-preflight.sh
	docker buildx build --platform linux/arm64 --build-arg VERSION=$(TASK_VERSION) -t $(IMAGE) --load .
