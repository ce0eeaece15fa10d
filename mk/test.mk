# The whole test suite: `make test` (what CI runs).

ACTIONLINT := go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: test test-all test-go lint-actions synth-check golden figures

test: ## Run every test: Go (CDK, local pipeline), task module, CLI synth, actionlint; they must leave nothing in the temp dir
	@bash scripts/tmpcheck.sh $(MAKE) --no-print-directory test-all

# Everything make test runs, with TMPDIR set to a directory of its own that
# must be empty at the end (scripts/tmpcheck.sh).
test-all: node-deps test-go test-task synth-check lint-actions

# Packages that start no jsii runtime also run under the race detector
# (jsii-runtime-go's own Close races, so the CDK/e2e packages cannot).
RACE_PKGS := ./config ./local/assembly ./local/bucket ./local/ecstask ./local/rule ./local/asl ./local/sfnapi \
  ./local/ledgerdb ./local/endpoints ./local/ecsapi ./internal/cli ./internal/statuspage
# The rest of the root module: each package is tested once, with or without -race.
PLAIN_PKGS = $(filter-out $(RACE_PKGS:./%=github.com/edge-drop/edge-drop/%),$(shell go list ./...))

test-go: node-deps ## gofmt + go vet + go test of the root module (CDK stacks, config, local pipeline), -race where jsii is not involved
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  test -z "$$unformatted" || { echo "gofmt would change: $$unformatted (run gofmt -w on them)" >&2; exit 1; }
	go vet ./...
	go test -count=1 -timeout 15m $(PLAIN_PKGS)
	go test -race -count=1 -timeout 10m $(RACE_PKGS)

# SYNTH_OUT=dir keeps the checked assembly (CI uploads it, so it synthesizes
# once); by default it goes to a temp dir.
SYNTH_OUT ?=

synth-check: node-deps ## Full `cdk synth` through the pinned CLI (the real CLI path) into a temp dir, or SYNTH_OUT=dir
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; out="$(or $(SYNTH_OUT),$$tmp/cdk.out)"; \
	  $(CDK) synth --quiet --output "$$out" $(CDK_FLAGS) 2>&1 | tee $$tmp/log; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	  ! grep -qiE "feature flags|waitid" $$tmp/log || { echo "synth printed a notice; see above" >&2; exit 1; }; \
	  ls "$$out"/EdgeDrop-Cluster.template.json "$$out"/EdgeDrop-Pipeline.template.json >/dev/null

lint-actions: ## Check the GitHub Actions workflows with actionlint
	$(ACTIONLINT) -no-color

# The golden definitions: one folder, written by the stacks tests whose
# names hold "Testdata" (each checks its copy on every make test).
GOLDEN_DIR := constructs/pipeline/testdata

golden: node-deps ## Rewrite every golden definition (constructs/pipeline/testdata/*.asl.json, what the definition tests run) from the CDK app, then show what changed; review the diff
	EDGE_DROP_UPDATE_TESTDATA=1 go test -count=1 -run 'Testdata' ./stacks
	@git --no-pager diff --stat -- $(GOLDEN_DIR); git status --short -- $(GOLDEN_DIR) | grep '^??' || true

figures: ## Run the benchmarks and keep their tables with this machine's description in bench/out/figures-<time>.md (make figures FIGURES="bench-ui" for some)
	@bash scripts/figures.sh $(FIGURES)
