package stacks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/edge-drop/edge-drop/config"
	"github.com/edge-drop/edge-drop/constructs/pipeline"
	"github.com/edge-drop/edge-drop/contract"
	"github.com/edge-drop/edge-drop/local/asl/asltest"
)

// fleetPipeline synthesizes the pipeline stack with fleet settings.
func fleetPipeline(t *testing.T, name string, overrides map[string]any) assertions.Template {
	t.Helper()
	return assertions.Template_FromStack(synthCached(t, name, overrides).Pipeline.Stack, nil)
}

// Fleet definitions the pipeline's definition tests run in the local
// interpreter, one per target mode. Their golden copies
// (constructs/pipeline/testdata, asltest.GoldenDir) must match what synth
// renders (account, region and generated names aside).
var fleetTestdata = []struct {
	name      string
	overrides map[string]any
}{
	{"fleet-board", fleetConfigs["fleet-board"]},
	{"fleet-group", fleetConfigs["fleet-group"]},
	{"fleet-all", fleetConfigs["fleet-all"]},
	{"fleet-routed", fleetConfigs["fleet-routed"]},
	// offlineWait=1m: the guarantee that a board back within it gets the
	// file (constructs/pipeline's TestFleetBoardBackWithinOfflineWait...).
	{"fleet-wait-1m", map[string]any{config.KeyDeliverTo: "group:site1", config.KeyOfflineWait: "1m"}},
	// Bursts coalesced: the batch definition (constructs/pipeline's
	// definition_coalesced_test.go).
	{"coalesce-all", coalesceConfig},
}

// fleetConfigs are the fleet targets, one per mode.
var fleetConfigs = map[string]map[string]any{
	"fleet-board":  {config.KeyDeliverTo: "board:shop-1"},
	"fleet-group":  {config.KeyDeliverTo: "group:site1"},
	"fleet-all":    {config.KeyDeliverTo: "all"},
	"fleet-routed": {config.KeyRoutePrefix: "to/", config.KeyKeyPattern: "to/*"},
}

// normalizeASL replaces what differs by account and generated names (the
// cluster ARN, the task definition ARN) with placeholders.
func normalizeASL(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Cluster":
				x[k] = "<cluster>"
			case "TaskDefinition":
				x[k] = "<task definition>"
			case "Resource":
				x[k] = strings.ReplaceAll(e.(string), "${AWS::Partition}", "aws")
			default:
				x[k] = normalizeASL(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeASL(e)
		}
	}
	return v
}

func TestFleetTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	for _, td := range fleetTestdata {
		want := indentJSON(t, normalizeASL(asl(t, fleetPipeline(t, td.name, td.overrides))))
		checkTestdata(t, td.name, want, "TestFleetTestdata")
	}
}

// The single-board definition (deliverTo any), its cluster and task
// definition resolved as in a deployment to eu-west-1 in account
// 123456789012: its tests assert the RunTask parameters (and
// local/localrun checks the same copy against the assembly it loads).
func TestPipelineTestdataMatchesTheSynthesizedDefinition(t *testing.T) {
	def := normalizeASL(asl(t, defaultPipeline(t)))
	params := get(t, def, "States", contract.StateDownload, "Parameters").(map[string]any)
	params["Cluster"] = "arn:aws:ecs:eu-west-1:123456789012:cluster/EdgeDrop-Cluster:edge-drop"
	params["TaskDefinition"] = "arn:aws:ecs:eu-west-1:123456789012:task-definition/EdgeDropPipelineDownloadTaskTaskDefinition:1"
	checkTestdata(t, "pipeline", indentJSON(t, def), "TestPipelineTestdata")
}

// checkTestdata keeps the golden copy of a synthesized definition
// (name.asl.json in asltest.GoldenDir) equal to want (indented JSON);
// EDGE_DROP_UPDATE_TESTDATA=1 (make golden) rewrites it instead. run names
// the test to re-run in the message.
func checkTestdata(t *testing.T, name, want, run string) {
	t.Helper()
	path := asltest.Golden(t, name+".asl.json")
	if os.Getenv("EDGE_DROP_UPDATE_TESTDATA") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var copyDef any
	if err := json.Unmarshal(raw, &copyDef); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := indentJSON(t, copyDef); got != want {
		t.Errorf("%s drifted from the synthesized definition: regenerate it with make golden (EDGE_DROP_UPDATE_TESTDATA=1 go test ./stacks -run %s) and review the diff\n--- copy\n%s\n--- synthesized\n%s", path, run, got, want)
	}
}

// indentJSON is v as indented JSON, '<' and '>' as they are.
func indentJSON(t *testing.T, v any) string {
	t.Helper()
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// like fails when actual does not match pattern (assertions.Match_ObjectLike:
// the pattern's keys, recursively; arrays exactly).
func like(t *testing.T, what string, actual any, pattern map[string]any) {
	t.Helper()
	res := assertions.Match_ObjectLike(&pattern).Test(actual)
	if *res.HasFailed() {
		t.Errorf("%s:\n%s", what, *res.RenderMismatch())
	}
}

func TestFleetStateMachinePerTarget(t *testing.T) {
	for name, want := range map[string]struct{ filter, target string }{
		"fleet-board":  {"attribute:edge-drop.board == shop-1", "board:shop-1"},
		"fleet-group":  {"attribute:edge-drop.group.site1 exists", "group:site1"},
		"fleet-all":    {"attribute:edge-drop.board exists", "all"},
		"fleet-routed": {},
	} {
		def := asl(t, fleetPipeline(t, name, fleetConfigs[name]))
		states := def["States"].(map[string]any)
		if _, ok := states[contract.StateDownload]; ok {
			t.Errorf("%s: the single-board %s state is in a fleet definition", name, contract.StateDownload)
		}
		timing := pipeline.FleetTiming{TaskTimeout: 30 * time.Minute, OfflineWait: config.DefaultOfflineWait}
		equalJSON(t, name+" execution timeout", def["TimeoutSeconds"], timing.ExecutionTimeout().Seconds())

		// The cluster query: a literal for board/group/all, built from the
		// checked key component for routed keys.
		filter := map[string]any{"filter": want.filter, "target": want.target, "outcomes": []any{}}
		// A redelivery's board first (contract.RedeliverField), then the
		// target's boards.
		first := contract.StateRedeliverWhich
		if name == "fleet-routed" {
			filter = map[string]any{
				"filter.$": "States.Format('attribute:edge-drop.board == {} or attribute:edge-drop.group.{} exists', $.route.target, $.route.target)",
				"target.$": "States.Format('route {} (board or group)', $.route.target)",
				"outcomes": []any{},
			}
			first = contract.StateRouted
		}
		like(t, name+" SizeWithinLimit", states[contract.StateSize], map[string]any{"Default": first})
		if name == "fleet-routed" {
			// The target is checked against contract.NamePattern itself,
			// its length included (JSONata: JSONPath cannot measure it).
			like(t, name+" RouteIsAName", states[contract.StateRouteIsName], map[string]any{
				"Type": "Choice", "QueryLanguage": "JSONata", "Default": contract.StateRedeliverWhich,
				"Choices": []any{map[string]any{
					"Condition": "{% $not($type($states.input.route.target) = 'string' and $contains($string($states.input.route.target), /" + contract.NamePattern + "/)) %}",
					"Next":      contract.StateBadTarget,
				}},
			})
		}
		like(t, name+" ChooseBoards", states[contract.StateChooseBoards], map[string]any{
			"Type": "Pass", "Parameters": filter, "ResultPath": "$.fleet", "Next": contract.StateListBoards,
		})

		// Pagination: the first page, then NextToken while there is one.
		// The SDK integration's errors are Ecs.<Exception>.
		sdkRetry := []any{map[string]any{"ErrorEquals": []any{"Ecs.ThrottlingException", "Ecs.ServerException"},
			"IntervalSeconds": 2, "MaxAttempts": 5, "BackoffRate": 2, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}}
		list := map[string]any{
			"Type": "Task", "Resource": "arn:${AWS::Partition}:states:::aws-sdk:ecs:listContainerInstances",
			"Parameters": map[string]any{"Cluster": clusterArn, "Filter.$": "$.fleet.filter", "Status": "ACTIVE", "MaxResults": pipeline.BoardsPerPage},
			"ResultPath": "$.listed", "Next": contract.StateAnyBoardsOnPage,
			"Retry": sdkRetry,
		}
		like(t, name+" ListBoards", renderAll(t, states[contract.StateListBoards]), list)
		list["Parameters"].(map[string]any)["NextToken.$"] = "$.listed.NextToken"
		like(t, name+" ListMoreBoards", renderAll(t, states[contract.StateListMoreBoards]), list)
		like(t, name+" MoreBoards", states[contract.StateMoreBoards], map[string]any{
			"Type": "Choice", "Default": contract.StateNoBoards,
			"Choices": []any{
				map[string]any{"And": []any{
					map[string]any{"Variable": "$.listed.NextToken", "IsPresent": true},
					map[string]any{"Variable": "$.listed.NextToken", "IsString": true},
				}, "Next": contract.StateListMoreBoards},
				map[string]any{"Variable": "$.fleet.outcomes[0]", "IsPresent": true, "Next": contract.StateTally},
			},
		})
		like(t, name+" AnyBoardsOnPage", states[contract.StateAnyBoardsOnPage], map[string]any{
			"Choices": []any{map[string]any{"Variable": "$.listed.ContainerInstanceArns[0]", "IsPresent": true, "Next": contract.StateDescribeBoards}},
			"Default": contract.StateMoreBoards,
		})
		like(t, name+" DescribeBoards", renderAll(t, states[contract.StateDescribeBoards]), map[string]any{
			"Resource":       "arn:${AWS::Partition}:states:::aws-sdk:ecs:describeContainerInstances",
			"Parameters":     map[string]any{"Cluster": clusterArn, "ContainerInstances.$": "$.listed.ContainerInstanceArns"},
			"ResultSelector": map[string]any{"instances.$": "$.ContainerInstances"},
			"Next":           contract.StateDeliverEach,
			"Retry":          sdkRetry,
		})
		// The state is rebuilt without the page's description.
		carried := map[string]any{"bucket.$": "$.bucket", "key.$": "$.key", "size.$": "$.size", "etag.$": "$.etag", "sequencer.$": "$.sequencer", "listed.$": "$.listed"}
		collect := map[string]any{"fleet": map[string]any{"filter.$": "$.fleet.filter", "target.$": "$.fleet.target"}, "pair.$": "States.Array($.fleet.outcomes, $.page)"}
		flatten := map[string]any{"fleet": map[string]any{"filter.$": "$.fleet.filter", "target.$": "$.fleet.target", "outcomes.$": "$.pair[*][*]"}}
		for k, v := range carried {
			collect[k], flatten[k] = v, v
		}
		equalJSON(t, name+" CollectOutcomes", get(t, states, contract.StateCollect, "Parameters"), collect)
		equalJSON(t, name+" FlattenOutcomes", get(t, states, contract.StateFlatten, "Parameters"), flatten)
		for _, st := range []string{contract.StateCollect, contract.StateFlatten} {
			if _, ok := states[st].(map[string]any)["ResultPath"]; ok {
				t.Errorf("%s %s: the state must be rebuilt, not merged (payload quota)", name, st)
			}
		}

		// One inline Map iteration per board, MaxConcurrency bounded.
		each := states[contract.StateDeliverEach]
		like(t, name+" Map", each, map[string]any{
			"Type": "Map", "MaxConcurrency": pipeline.MaxConcurrency, "ItemsPath": "$.described.instances", "ResultPath": "$.page",
			"ItemSelector": map[string]any{
				"instance.$": "$$.Map.Item.Value.Ec2InstanceId",
				"names.$":    "$$.Map.Item.Value.Attributes[?(@.Name == 'edge-drop.board')].Value",
				"bucket.$":   "$.bucket", "key.$": "$.key", "size.$": "$.size", "etag.$": "$.etag", "sequencer.$": "$.sequencer",
			},
			"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "INLINE"}, "StartAt": contract.StateBoardIsNamed},
		})
		inner := get(t, each, "ItemProcessor", "States").(map[string]any)
		env := []any{
			map[string]any{"Name": contract.EnvBucket, "Value.$": "$.bucket"},
			map[string]any{"Name": contract.EnvKey, "Value.$": "$.key"},
			map[string]any{"Name": contract.EnvEventSequencer, "Value.$": "$.sequencer"},
			map[string]any{"Name": contract.EnvEventETag, "Value.$": "$.etag"},
			map[string]any{"Name": contract.EnvEventSize, "Value.$": "States.Format('{}', $.size)"},
		}
		if name == "fleet-routed" {
			env = append(env, map[string]any{"Name": contract.EnvStripComponents, "Value": "2"})
		}
		env = append(env, map[string]any{"Name": contract.EnvTaskToken, "Value.$": "$$.Task.Token"})
		apiRetry := map[string]any{"ErrorEquals": []any{"ECS.ServerException", "ECS.ThrottlingException"}, "IntervalSeconds": 5, "MaxAttempts": 5,
			"BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
		run := map[string]any{
			"Type": "Task", "Resource": "arn:${AWS::Partition}:states:::ecs:runTask.sync",
			"Parameters": map[string]any{
				"Cluster": clusterArn, "LaunchType": "EXTERNAL",
				"PlacementConstraints": []any{map[string]any{"Type": "memberOf", "Expression.$": "States.Format('ec2InstanceId == {}', $.instance)"}},
				"Overrides":            map[string]any{"ContainerOverrides": []any{map[string]any{"Name": contract.ContainerName, "Environment": env}}},
			},
			"ResultPath": "$.task",
			// A busy or offline board goes to the spread wait first; every
			// other failure is caught here: the Map always lists every board.
			"Catch": []any{
				map[string]any{"ErrorEquals": []any{"AmazonECS.Unknown", "ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException"},
					"Next": contract.StateSpreadRetries, "ResultPath": "$.error"},
				map[string]any{"ErrorEquals": []any{"States.ALL"}, "Next": contract.StateClassifyBoardFailure, "ResultPath": "$.error"},
			},
			"TimeoutSeconds": 1800,
			"Next":           contract.StateBoardReported,
		}
		like(t, name+" DeliverToBoard", renderAll(t, inner[contract.StateDeliverBoard]), run)
		for _, field := range []string{"ResultSelector", "Retry"} {
			if _, ok := inner[contract.StateDeliverBoard].(map[string]any)[field]; ok {
				t.Errorf("%s DeliverToBoard has a %s (a ResultSelector fails on a report; RetryDeliverToBoard retries)", name, field)
			}
		}
		// offlineWait=30m: no jitter, 10 retries whose waits add up to
		// 1,965 s >= 1,800 s.
		run["Retry"] = []any{apiRetry, map[string]any{"ErrorEquals": []any{"AmazonECS.Unknown", "ECS.AmazonECSException"}, "IntervalSeconds": 15, "MaxAttempts": 10,
			"BackoffRate": 2, "MaxDelaySeconds": 300, "JitterStrategy": "NONE"}}
		run["Catch"] = []any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "Next": contract.StateClassifyBoardFailure, "ResultPath": "$.error"}}
		like(t, name+" RetryDeliverToBoard", renderAll(t, inner[contract.StateRetryBoard]), run)
		like(t, name+" SpreadBoardRetries", inner[contract.StateSpreadRetries], map[string]any{
			"Type": "Pass", "Parameters": map[string]any{"seconds.$": "States.MathRandom(0, 15)"}, "ResultPath": "$.spread", "Next": contract.StateWaitForBoard,
		})
		like(t, name+" WaitForBoard", inner[contract.StateWaitForBoard], map[string]any{
			"Type": "Wait", "SecondsPath": "$.spread.seconds", "Next": contract.StateRetryBoard,
		})
		// Every outcome goes on to the ledger (at most 2 transitions more).
		like(t, name+" BoardExitedWithoutReport", inner[contract.StateBoardNoReport], map[string]any{
			"Next": contract.StateRecordOutcome, "Parameters": map[string]any{
				"board.$": "States.ArrayGetItem($.names, 0)", "status": contract.OutcomeDelivered,
				"exitCode.$": "$.task.Containers[0].ExitCode", "taskArn.$": "$.task.TaskArn", "cause": "delivered (exit 0, the task sent no report)",
			},
		})
		like(t, name+" BoardReport", inner[contract.StateBoardReport], map[string]any{
			"Next": contract.StateRecordOutcome, "Parameters": map[string]any{
				"board.$": "States.ArrayGetItem($.names, 0)", "status.$": "$.task.status",
				"exitCode.$": "$.task.exitCode", "taskArn": nil, "cause.$": "$.task.summary",
			},
		})
		like(t, name+" BoardOffline", inner[contract.StateBoardOffline], map[string]any{
			"Next": contract.StateRecordOutcome, "Parameters": map[string]any{"status": contract.OutcomeOffline, "cause.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)"},
		})

		// The verdict: NoBoards, SomeBoardsFailed or the outcome list.
		like(t, name+" NoBoards", states[contract.StateNoBoards], map[string]any{"Type": "Fail", "Error": contract.ErrNoBoards})
		like(t, name+" SomeBoardsFailed", states[contract.StateSomeBoardsFail], map[string]any{"Type": "Fail", "Error": contract.ErrSomeBoardsFailed})
		like(t, name+" Delivered", states[contract.StateFleetDelivered], map[string]any{"Type": "Succeed", "OutputPath": "$.fleet.outcomes"})
	}
}

// renderAll flattens the CloudFormation expressions in a state (the
// cluster ARN) into ${...} text.
func renderAll(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["Fn::Join"]; ok {
			return render(t, x)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = renderAll(t, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = renderAll(t, e)
		}
		return out
	}
	return v
}

// A fleet target may list this cluster's container instances and describe
// them, nothing more: no other cluster, no wildcard action; the default
// target does not get these actions at all.
func TestFleetRoleListsAndDescribesThisClusterOnly(t *testing.T) {
	clusterName := clusterArn[strings.LastIndex(clusterArn, "/")+1:]
	for _, name := range []string{"fleet-group", "fleet-routed"} {
		got := reduce(t, statementsOf(t, fleetPipeline(t, name, fleetConfigs[name]), "PipelineStateMachineRole"))
		equalJSON(t, name+" list", got["ListTheBoardsOfTheCluster"], policyStatement{
			Sid: "ListTheBoardsOfTheCluster", Actions: []string{"ecs:ListContainerInstances"}, Resources: []string{clusterArn},
		})
		equalJSON(t, name+" describe", got["DescribeTheBoardsOfTheCluster"], policyStatement{
			Sid: "DescribeTheBoardsOfTheCluster", Actions: []string{"ecs:DescribeContainerInstances"},
			Resources:  []string{"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:container-instance/" + clusterName + "/*"},
			Conditions: `{"ArnEquals":{"ecs:cluster":"` + clusterArn + `"}}`,
		})
	}
	for _, st := range reduce(t, statementsOf(t, defaultPipeline(t), "PipelineStateMachineRole")) {
		for _, a := range st.Actions {
			if a == "ecs:ListContainerInstances" || a == "ecs:DescribeContainerInstances" {
				t.Errorf("the default target (any) needs no %s", a)
			}
		}
	}
}
