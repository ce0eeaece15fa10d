# The CDK app (root module). Included by the root Makefile.

# jsii runs on the machine's Node; Node 20 works but is past jsii's support
# window and would print a banner on every synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CDK := npx --no-install cdk
CDK_FLAGS ?=

.PHONY: node-deps synth diff deploy destroy register sync clean

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

node-deps: node_modules/.package-lock.json ## Install the pinned Node tools (CDK CLI, aws-local-stepfunctions)

synth: node-deps ## cdk synth through the pinned CLI (CDK_FLAGS="-c key=value ..." to override config)
	$(CDK) synth --quiet $(CDK_FLAGS)

diff: node-deps ## cdk diff against the deployed stacks (needs AWS credentials)
	@bash scripts/aws-preflight.sh diff
	$(CDK) diff --all $(CDK_FLAGS)

deploy: node-deps ## cdk deploy both stacks (needs AWS credentials, cdk bootstrap, Docker with buildx)
	@bash scripts/aws-preflight.sh deploy
	$(CDK) deploy --all $(CDK_FLAGS)

destroy: node-deps ## cdk destroy both stacks (a retained bucket and log groups stay)
	@bash scripts/aws-preflight.sh destroy
	$(CDK) destroy --all $(CDK_FLAGS)

register: ## Print the commands that register a board as BOARD=<name> [GROUP=<g>[,<g2>]] and rename/regroup it later (needs AWS credentials; RUN=1 creates the activation)
	@bash scripts/register.sh

sync: ## Start a sync of every board, or BOARD=<name>, print the execution ARN, follow it to the end and print each board's outcome (the deployed stack, or the running demo)
	@bash scripts/sync.sh

clean: ## Remove build output, cdk.out and the local demo's state
	rm -rf bin cdk.out .demo data bench/out
