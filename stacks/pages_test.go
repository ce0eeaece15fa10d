package stacks

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
)

// pagedConfig delivers to every board of a 10,000-board fleet: one child
// execution per page of 100.
var pagedConfig = map[string]any{config.KeyDeliverTo: "all", config.KeyMaxBoards: "10000"}

// pagedRoutedConfig routes by key to a fleet of 10,000 (cmd/costmodel
// runs its definitions).
var pagedRoutedConfig = map[string]any{config.KeyRoutePrefix: "to/", config.KeyKeyPattern: "to/*", config.KeyMaxBoards: "10000"}

// pagedMachines is the paged delivery's parent and child definitions and
// their TimeoutSeconds.
func pagedMachines(t *testing.T) (parent, child map[string]any, parentTimeout, childTimeout float64) {
	t.Helper()
	return pagedMachinesOf(t, "fleet-paged", pagedConfig)
}

func pagedMachinesOf(t *testing.T, name string, overrides map[string]any) (parent, child map[string]any, parentTimeout, childTimeout float64) {
	t.Helper()
	tpl := fleetPipeline(t, name, overrides)
	for id, r := range resources(t, tpl, "AWS::StepFunctions::StateMachine") {
		props := r["Properties"].(map[string]any)
		def := definitionOf(t, props)
		timeout := def["TimeoutSeconds"].(float64)
		switch {
		case strings.HasPrefix(id, "Pipeline"+pipeline.PageMachineID):
			child, childTimeout = def, timeout
		case strings.HasPrefix(id, "Pipeline"):
			parent, parentTimeout = def, timeout
		}
	}
	if parent == nil || child == nil {
		t.Fatal("want the delivery state machine and its page child")
	}
	return parent, child, parentTimeout, childTimeout
}

func TestPagedDeliveryTestdataMatchesTheSynthesizedDefinitions(t *testing.T) {
	parent, child, _, _ := pagedMachines(t)
	checkTestdata(t, "fleet-paged", indentJSON(t, normalizeASL(parent)), "TestPagedDelivery")
	checkTestdata(t, "fleet-page", indentJSON(t, normalizeASL(child)), "TestPagedDelivery")
	parent, child, _, _ = pagedMachinesOf(t, "fleet-paged-routed", pagedRoutedConfig)
	checkTestdata(t, "fleet-paged-routed", indentJSON(t, normalizeASL(parent)), "TestPagedDelivery")
	checkTestdata(t, "fleet-page-routed", indentJSON(t, normalizeASL(child)), "TestPagedDelivery")
}

// The parent starts one child per page synchronously (.sync:2: the
// child's output as JSON), lists 100 boards a page, and runs no task
// itself; the child is the per-board fan-out over the ARNs it is given.
func TestPagedDeliveryStartsOneChildPerPage(t *testing.T) {
	parent, child, parentTimeout, childTimeout := pagedMachines(t)
	states := parent["States"].(map[string]any)
	deliver := states[contract.StateDeliverToPage].(map[string]any)
	if res := deliver["Resource"].(string); !strings.HasSuffix(res, ":states:::states:startExecution.sync:2") {
		t.Errorf("DeliverToPage: resource %s, want states:startExecution.sync:2", res)
	}
	input := get(t, deliver, "Parameters", "Input").(map[string]any)
	for _, f := range []string{"arns.$", "fleet", "bucket.$", "key.$", "etag.$", "sequencer.$", "size.$", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"} {
		if _, ok := input[f]; !ok {
			t.Errorf("the child's input lacks %s: %v", f, input)
		}
	}
	assertJSONEq(t, get(t, states, contract.StateListBoardPage, "Parameters", "MaxResults"), pipeline.BoardsPerChild)
	if catch := get(t, deliver, "Catch", 0, "Next"); catch != contract.StatePageNotDelivered {
		t.Errorf("a failed child goes to %v", catch)
	}
	for name, s := range states {
		if res, _ := s.(map[string]any)["Resource"].(string); strings.Contains(res, "runTask") {
			t.Errorf("the parent runs a task itself in %s", name)
		}
	}
	cs := child["States"].(map[string]any)
	if _, ok := cs[contract.StateListBoards]; ok {
		t.Error("the child lists the cluster again: it delivers to the ARNs it is given")
	}
	for _, s := range []string{contract.StateFirstBoards, contract.StateDescribeBoards, contract.StateDeliverEach, contract.StateSummarizePage, contract.StatePageDelivered} {
		if _, ok := cs[s]; !ok {
			t.Errorf("the child has no %s", s)
		}
	}
	counts := get(t, cs, contract.StateSummarizePage, "Parameters", contract.SummaryCounts).(map[string]any)
	for _, w := range contract.Outcomes {
		if _, ok := counts[w+".$"]; !ok {
			t.Errorf("the page's summary does not count %s", w)
		}
	}
	timing := pipeline.FleetTiming{TaskTimeout: 30 * time.Minute, OfflineWait: 30 * time.Minute}
	if time.Duration(childTimeout)*time.Second != timing.PageTimeout() || time.Duration(parentTimeout)*time.Second != timing.PagedTimeout(10000) {
		t.Errorf("timeouts: parent %vs child %vs, want %s and %s", parentTimeout, childTimeout, timing.PagedTimeout(10000), timing.PageTimeout())
	}
}

// Within one execution's bounds the definition is today's: no child.
func TestMaxBoardsWithinOneExecutionKeepsOneStateMachine(t *testing.T) {
	tpl := fleetPipeline(t, "fleet-all-261", map[string]any{config.KeyDeliverTo: "all", config.KeyMaxBoards: "261"})
	if n := len(resources(t, tpl, "AWS::StepFunctions::StateMachine")); n != 2 { // delivery + sync
		t.Errorf("%d state machines, want the delivery's and the sync's", n)
	}
	want := indentJSON(t, normalizeASL(asl(t, fleetPipeline(t, "fleet-all", fleetConfigs["fleet-all"]))))
	if got := indentJSON(t, normalizeASL(asl(t, tpl))); got != want {
		t.Error("maxBoards=261 (MaxFleet) changed the definition")
	}
}

// A paged delivery that could not end within a year is a config error
// naming the largest maxBoards that can.
func TestPagedFleetPastAYearIsAConfigError(t *testing.T) {
	_, err := configOf(appWith(t, map[string]any{config.KeyDeliverTo: "all", config.KeyMaxBoards: "10000", config.KeyTaskTimeout: "24h", config.KeyOfflineWait: "2h"}))
	if err == nil || !strings.Contains(err.Error(), "lower maxBoards to") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
}

func appWith(t *testing.T, overrides map[string]any) awscdk.App {
	t.Helper()
	ctx, err := config.CDKJSONContext("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(ctx, overrides)
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir(t))})
}

func definitionOf(t *testing.T, props map[string]any) map[string]any {
	t.Helper()
	var def map[string]any
	text := render(t, props["DefinitionString"])
	if err := json.Unmarshal([]byte(text), &def); err != nil {
		t.Fatalf("definition is not JSON: %v\n%s", err, text)
	}
	return def
}

func assertJSONEq(t *testing.T, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("got %s, want %s", g, w)
	}
}
