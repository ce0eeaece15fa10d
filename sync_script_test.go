package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edge-drop/edge-drop/contract"
)

// make sync drives Step Functions with the AWS CLI; a fake `aws` on PATH
// logs every call (arguments and the credentials it ran with) and answers
// as CloudFormation and Step Functions would.
const fakeSyncAWS = `#!/bin/sh
case "$*" in
  --version) echo "aws-cli/${FAKE_AWS_MAJOR:-2}.27.0 Python/3.11 Linux/6 botocore/2"; exit 0 ;;
  "configure get region") [ -n "$FAKE_CONFIG_REGION" ] && echo "$FAKE_CONFIG_REGION"; exit $([ -n "$FAKE_CONFIG_REGION" ] && echo 0 || echo 1) ;;
esac
echo "$* | $AWS_ACCESS_KEY_ID $AWS_DEFAULT_REGION" >>"$FAKE_DIR/calls"
case "$*" in
  *"describe-stacks --stack-name nocreds"*) echo 'Unable to locate credentials. You can configure credentials by running "aws configure".' >&2; exit 253 ;;
  *"describe-stacks --stack-name missing"*) echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id missing does not exist" >&2; exit 254 ;;
  *describe-stacks*SyncStateMachineArn*) echo "${FAKE_SYNC_ARN:-arn:aws:states:eu-west-1:123456789012:stateMachine:EdgeDrop-Sync}" ;;
  *start-execution*) echo "arn:aws:states:eu-west-1:123456789012:execution:EdgeDrop-Sync:run-1" ;;
  *"describe-execution"*"--query status"*)
    n=$(cat "$FAKE_DIR/polls" 2>/dev/null || echo 0); echo $((n+1)) >"$FAKE_DIR/polls"
    if [ "$n" -lt 2 ]; then echo RUNNING; else echo "$FAKE_STATUS"; fi ;;
  *"describe-execution"*"--query output"*) echo '[{"board":"shop-1","status":"delivered"},{"board":"shop-2","status":"delivered"}]' ;;
  *"describe-execution"*"error, cause"*) printf 'EdgeDrop.SomeBoardsFailed\tthe sync was not delivered to 1 of the 2 boards of all: offline ["shop-2"], failed []\n' ;;
  *get-execution-history*) echo '{"fleet":{"outcomes":[{"board":"shop-2","status":"offline"}]}}' ;;
  *) echo "fake aws: unexpected $*" >&2; exit 1 ;;
esac
`

func runSyncScript(t *testing.T, env ...string) (string, string, error) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeSyncAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "scripts/sync.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+bin, "POLL=0", "FAKE_STATUS=SUCCEEDED",
		"DEMO_FILE="+filepath.Join(bin, "no-demo.json"), "BOARD=", "STACK=", "AWS_PROFILE=", "AWS_ACCESS_KEY_ID=laptop", "AWS_DEFAULT_REGION=eu-west-1")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(filepath.Join(bin, "calls"))
	return string(out), string(calls), err
}

func TestSyncStartsFollowsAndPrintsTheOutcomes(t *testing.T) {
	out, calls, err := runSyncScript(t, "BOARD=shop-1")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"arn:aws:states:eu-west-1:123456789012:execution:EdgeDrop-Sync:run-1\n",
		"SUCCEEDED\n",
		"{\"board\":\"shop-1\",\"status\":\"delivered\"},\n{\"board\":\"shop-2\",\"status\":\"delivered\"}",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		"cloudformation describe-stacks --stack-name EdgeDrop-Pipeline",
		`stepfunctions start-execution --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:EdgeDrop-Sync --input {"board":"shop-1"}`,
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	// Polled until it ended: two RUNNING, then the end.
	if n := strings.Count(calls, "--query status"); n != 3 {
		t.Errorf("%d status polls, want 3:\n%s", n, calls)
	}
	// Without BOARD every board: input {}.
	if _, calls, err := runSyncScript(t); err != nil || !strings.Contains(calls, "--input {} ") {
		t.Errorf("no BOARD: %v\n%s", err, calls)
	}
}

func TestSyncFailsUnlessSucceeded(t *testing.T) {
	out, _, err := runSyncScript(t, "FAKE_STATUS=FAILED")
	if err == nil || !strings.Contains(out, "FAILED\n") || !strings.Contains(out, `offline ["shop-2"]`) ||
		!strings.Contains(out, `outcomes: {"fleet":{"outcomes":[{"board":"shop-2","status":"offline"}]}}`) {
		t.Errorf("a failed sync: %v\n%s", err, out)
	}
	for _, status := range []string{"TIMED_OUT", "ABORTED"} {
		if out, _, err := runSyncScript(t, "FAKE_STATUS="+status); err == nil || !strings.Contains(out, status+"\n") {
			t.Errorf("%s: %v\n%s", status, err, out)
		}
	}
}

func TestSyncRefusesBadInputWithOneLine(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{`BOARD=shop-1"}`, `sync: board name "shop-1"}" is not valid: use ` + contract.NameRule},
		{"BOARD=-x", "is not valid"},
		{"STACK=missing", "sync: stack missing not found in eu-west-1: run 'make deploy' first (or STACK=<name>, or AWS_DEFAULT_REGION=<the stack's region>)"},
		{"STACK=nocreds", "sync: cannot read stack nocreds: no AWS credentials: run aws configure (access keys) or aws sso login"},
		{"FAKE_SYNC_ARN=None", "has no sync: deploy with syncEvery set or -c mirrorDeletes=true"},
		{"POLL=soon", "POLL=soon must be whole seconds"},
	} {
		out, calls, err := runSyncScript(t, tc.env)
		if err == nil || !strings.Contains(out, tc.want) || strings.Contains(calls, "start-execution") {
			t.Errorf("%s: %v\n%s", tc.env, err, out)
		}
	}
}

// Without a region, make sync says so (not that the stack is missing), with
// a fix aws-cli v1 follows too: v1 reads AWS_DEFAULT_REGION, not AWS_REGION.
func TestSyncWithoutARegionSaysSoForAWSCLIV1AndV2(t *testing.T) {
	const fix = "export AWS_DEFAULT_REGION=<the stacks' region, e.g. eu-west-1> (aws-cli v1 and v2 both read it)"
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"v2, none", []string{"AWS_DEFAULT_REGION=", "AWS_REGION="}, "sync: no AWS region: " + fix},
		{"v1, none", []string{"AWS_DEFAULT_REGION=", "AWS_REGION=", "FAKE_AWS_MAJOR=1"}, "sync: no AWS region: " + fix},
		{"v1, AWS_REGION only", []string{"AWS_DEFAULT_REGION=", "AWS_REGION=eu-central-1", "FAKE_AWS_MAJOR=1"},
			"sync: AWS_REGION=eu-central-1 is set, but aws-cli v1 reads AWS_DEFAULT_REGION: export AWS_DEFAULT_REGION=eu-central-1"},
	} {
		out, calls, err := runSyncScript(t, tc.env...)
		if err == nil || !strings.Contains(out, tc.want) || strings.Contains(out, "not found") || calls != "" {
			t.Errorf("%s: %v\n%s\ncalls: %s", tc.name, err, out, calls)
		}
	}
	// A region from AWS_REGION (v2) or the profile's config is used, for both CLIs.
	for _, env := range [][]string{{"AWS_DEFAULT_REGION=", "AWS_REGION=eu-central-1"}, {"AWS_DEFAULT_REGION=", "AWS_REGION=", "FAKE_CONFIG_REGION=eu-central-1", "FAKE_AWS_MAJOR=1"}} {
		if _, calls, err := runSyncScript(t, env...); err != nil || !strings.Contains(calls, "| laptop eu-central-1") {
			t.Errorf("%v: %v\n%s", env, err, calls)
		}
	}
}

// Against the running demo: its endpoint and its credentials, no
// CloudFormation; a forced STACK goes to AWS instead.
func TestSyncAgainstTheDemo(t *testing.T) {
	demo := filepath.Join(t.TempDir(), "stepfunctions.json")
	if err := os.WriteFile(demo, []byte(`{
  "accessKeyId": "EDGEDROPDEMOKEY00000",
  "endpoint": "http://127.0.0.1:45123",
  "region": "eu-west-1",
  "secretAccessKey": "a+b/c0123456789",
  "syncStateMachineArn": "arn:aws:states:eu-west-1:000000000000:stateMachine:EdgeDrop-Sync"
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, calls, err := runSyncScript(t, "DEMO_FILE="+demo)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(calls, "cloudformation") ||
		!strings.Contains(calls, "--endpoint-url http://127.0.0.1:45123 stepfunctions start-execution --state-machine-arn arn:aws:states:eu-west-1:000000000000:stateMachine:EdgeDrop-Sync --input {} --query executionArn --output text | EDGEDROPDEMOKEY00000 eu-west-1") {
		t.Errorf("demo calls:\n%s", calls)
	}
	_, calls, _ = runSyncScript(t, "DEMO_FILE="+demo, "STACK=EdgeDrop-Pipeline")
	if !strings.Contains(calls, "cloudformation describe-stacks") || strings.Contains(calls, "--endpoint-url") {
		t.Errorf("STACK set: calls\n%s", calls)
	}
	bad := filepath.Join(t.TempDir(), "stepfunctions.json")
	_ = os.WriteFile(bad, []byte(`{}`), 0o644)
	if out, _, err := runSyncScript(t, "DEMO_FILE="+bad); err == nil || !strings.Contains(out, "lacks endpoint, syncStateMachineArn or the demo's credentials") {
		t.Errorf("empty demo file: %v\n%s", err, out)
	}
}

// The script's copy of the name rule is the contract's.
func TestSyncScriptNameRuleIsTheContracts(t *testing.T) {
	scriptDefines(t, "scripts/sync.sh", "name_re='"+contract.NamePattern+"'", `name_rule="`+contract.NameRule+`"`)
}

// scriptDefines checks that the script holds each line whole: its copy of
// a contract value is the contract's.
func scriptDefines(t *testing.T, path string, lines ...string) {
	t.Helper()
	script, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		if !strings.Contains(string(script), "\n"+line+"\n") {
			t.Errorf("%s must define %s (the contract's value)", path, line)
		}
	}
}
