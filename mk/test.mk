# The whole test suite: `make test` (what CI runs).

ACTIONLINT := go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: test test-go lint-actions synth-check

test: node-deps test-go test-task synth-check lint-actions ## Run every test: Go (CDK, local pipeline), task module, CLI synth, actionlint

# Packages that start no jsii runtime also run under the race detector
# (jsii-runtime-go's own Close races, so the CDK/e2e packages cannot).
RACE_PKGS := ./config ./local/assembly ./local/bucket ./local/ecstask ./local/rule ./local/statemachine

test-go: node-deps ## go vet + go test of the root module (CDK stacks, config, local pipeline), -race where jsii is not involved
	go vet ./...
	go test -count=1 -timeout 15m ./...
	go test -race -count=1 -timeout 10m $(RACE_PKGS)

synth-check: node-deps ## Full `cdk synth` through the pinned CLI into a temp dir (the real CLI path)
	@out=$$(mktemp -d); trap 'rm -rf $$out' EXIT; \
	  $(CDK) synth --quiet --output $$out $(CDK_FLAGS) 2>&1 | tee $$out.log; \
	  test $${PIPESTATUS[0]} -eq 0; \
	  ! grep -qiE "feature flags|waitid" $$out.log || { echo "synth printed a notice; see above" >&2; exit 1; }; \
	  ls $$out/EdgeDrop-Cluster.template.json $$out/EdgeDrop-Pipeline.template.json >/dev/null; rm -f $$out.log

lint-actions: ## Check the GitHub Actions workflows with actionlint
	$(ACTIONLINT) -no-color
