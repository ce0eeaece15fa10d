// Package cdktest helps test one construct on its own: a bare stack with
// cdk-nag's AwsSolutions checks, assertions that report instead of panic,
// and a check that no finding is left unsuppressed.
package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/edge-drop/edge-drop/internal/findup"
)

// Stack is an empty stack in its own app, in a fixed account and region,
// with the project's feature flags (cdk.json) and AwsSolutions checks
// attached (they run when the stack is synthesized).
func Stack(t *testing.T) awscdk.Stack {
	t.Helper()
	flags := featureFlags(t)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags, Outdir: jsii.String(t.TempDir())})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false)}), nil)
	return awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})
}

// featureFlags returns the "@aws-cdk/..." flags of the project's cdk.json
// (found above the test's directory): constructs are tested with the
// behaviour the app gets, and without any app setting.
func featureFlags(t *testing.T) map[string]any {
	t.Helper()
	dir, err := findup.Dir("cdk.json")
	if err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	flags := map[string]any{}
	for k, v := range file.Context {
		if strings.HasPrefix(k, "@") {
			flags[k] = v
		}
	}
	return flags
}

// Template synthesizes the stack. A synth that fails (an unsuppressed
// cdk-nag error fails validation) ends the test with its message instead of
// a panic that would stop every other test of the package.
func Template(t *testing.T, stack awscdk.Stack) assertions.Template {
	t.Helper()
	var tpl assertions.Template
	if msg := mismatch(func() { tpl = assertions.Template_FromStack(stack, nil) }); msg != "" {
		t.Fatalf("synth failed (cdk-nag findings are printed above): %s", msg)
	}
	return tpl
}

// Check runs one assertions call (HasResourceProperties and friends panic
// on a mismatch) and reports a mismatch as a test error with its message,
// at the caller's line.
func Check(t *testing.T, what string, assertion func()) {
	t.Helper()
	if msg := mismatch(assertion); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// mismatch runs assertion and returns its panic message, "" if none.
func mismatch(assertion func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = strings.TrimSpace(fmt.Sprint(r))
		}
	}()
	assertion()
	return ""
}

// NagClean fails the test for every AwsSolutions error or warning left on
// the stack: each finding must be fixed or suppressed with a reason.
func NagClean(t *testing.T, stack awscdk.Stack) {
	t.Helper()
	ann := assertions.Annotations_FromStack(stack)
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for kind, found := range map[string]*[]*cxapi.SynthesisMessage{
		"error":   ann.FindError(jsii.String("*"), rule),
		"warning": ann.FindWarning(jsii.String("*"), rule),
	} {
		for _, m := range *found {
			t.Errorf("cdk-nag %s on %s: %v", kind, *m.Id, m.Entry.Data)
		}
	}
}
